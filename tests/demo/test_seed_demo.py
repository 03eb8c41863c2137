"""`manage.py seed_demo --customers N` goes through the real load: after a fresh seed
an administrator finds the demo's batch under Batch loads with its per-file counts
and error report, the data-quality queue holds what the batch brought, every
customer's AUM is what the loaded balances say, and the marketing task and the
running campaign show sales core banking confirmed. A second run changes nothing:
its load is "already loaded"."""

import datetime
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from customers.choices import (
    ASSET_CATEGORIES,
    CREDIT_CATEGORIES,
    LIABILITY_CATEGORIES,
    BatchStatus,
    QualityIssueKind,
    QualityIssueStatus,
    RiskClass,
)
from customers.ingest.spec import (
    ACCOUNT,
    BALANCE,
    CONTACT,
    CUSTOMER,
    FILES,
    INCOME,
    LOAN_STATUS,
    TXN_SUMMARY,
)
from customers.models import (
    Account,
    AccountBalance,
    BatchLoad,
    Customer,
    CustomerDailyAum,
    DataQualityIssue,
    LoanStatus,
    TransactionSummary,
)
from demo.seeding import seed_customers
from marketing.choices import CampaignStatus, OpeningStatus, SaleSource, TargetStatus
from marketing.models import Campaign, MarketingTask, OpeningRequest, Sale
from tests.customers.ingest_helpers import rows

pytestmark = pytest.mark.django_db
N = 300
DAY = timezone.localdate() - datetime.timedelta(days=1)  # a fresh seed's business date


@pytest.fixture
def seeded(settings, tmp_path):
    settings.DEMO_BATCH_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", customers=N, stdout=out)
    return out.getvalue(), tmp_path / DAY.strftime("%Y%m%d")


def _log_in(client, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


def test_batch_loads_shows_the_demo_load_with_its_file_counts(seeded, client, demo_password):
    out, batch = seeded
    # given a fresh seed: one load of the demo's batch, started by the demo, loaded
    load = BatchLoad.objects.get(started_via="demo")  # the real load (the days before: "demo history")
    assert (load.status, load.started_via, load.business_date) == (BatchStatus.LOADED, "demo", DAY)
    assert f"Load #{load.pk}" in out and str(batch) in out
    files = {f.name: f for f in load.files.all()}
    assert set(files) == {spec.name for spec in FILES}
    for spec in FILES:
        data_rows = len(rows(batch, spec.name))
        assert files[spec.name].control_rows == data_rows
        assert files[spec.name].loaded + files[spec.name].rejected == data_rows
        assert files[spec.name].loaded > 0, spec.name
    # every open account of the bank has its balance in the batch
    assert files[BALANCE.name].loaded == Account.objects.exclude(status="C").count()
    # the rows the load refused, one of each realistic kind
    assert {(e.file, e.code) for e in load.errors.all()} == {
        (CUSTOMER.name, "birth_mismatch"),
        (CONTACT.name, "bad_mobile"),
        (ACCOUNT.name, "unknown_branch"),
        (BALANCE.name, "unknown_account"),
    }
    assert {f.name: f.rejected for f in files.values()} == {
        CUSTOMER.name: 1, CONTACT.name: 1, ACCOUNT.name: 1, BALANCE.name: 1, TXN_SUMMARY.name: 0,
        INCOME.name: 0, LOAN_STATUS.name: 0,
    }  # fmt: skip

    # when the administrator opens Batch loads and the load's page
    admin = _log_in(client, "demo_admin", demo_password)
    history = admin.get("/admin/customers/batchload/")
    assert history.status_code == 200
    assert str(load.rows_loaded) in history.content.decode().replace(",", "")
    page = admin.get(f"/admin/customers/batchload/{load.pk}/change/")
    # then they see every file with its counts and the error report
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-status="loaded"' in content
    for spec in FILES:
        assert f'data-file="{spec.name}"' in content
    shown = [(r["file"].name, r["file"].loaded, r["file"].rejected) for r in page.context["files"]]
    assert sorted(shown) == sorted((f.name, f.loaded, f.rejected) for f in files.values())
    assert page.context["error_count"] == 4 and 'data-testid="error-report"' in content


def test_the_data_quality_queue_holds_what_the_batch_brought(seeded, client, demo_password):
    _out, batch = seeded
    # the batch carried a second customer number of an existing person, dormant,
    # whose risk assessment expired long ago
    seeded_numbers = set(
        Customer.objects.filter(customer_no__startswith="9").values_list("customer_no", flat=True)
    )
    new = [r for r in rows(batch, CUSTOMER.name) if r[0] not in seeded_numbers]
    assert len(new) == 1
    twin = Customer.objects.get(customer_no=new[0][0])
    original = Customer.objects.get(id_hash=twin.id_hash, customer_no__in=seeded_numbers)
    assert twin.id_number == original.id_number and twin.risk_expiry < DAY
    open_issues = DataQualityIssue.objects.filter(status=QualityIssueStatus.OPEN)
    assert open_issues.filter(
        kind=QualityIssueKind.DUPLICATE_ID, customer=original, other_customer=twin
    ).exists()
    assert open_issues.filter(kind=QualityIssueKind.RISK_EXPIRED, customer=twin).exists()

    # a business manager finds them in the queue
    queue = _log_in(client, "demo_bm", demo_password).get("/customers/quality/")
    assert queue.status_code == 200
    shown = list(queue.context["page"].object_list)
    assert shown and {issue.kind for issue in queue.context["page"].paginator.object_list} >= {
        QualityIssueKind.DUPLICATE_ID,
        QualityIssueKind.RISK_EXPIRED,
    }


def test_every_customers_aum_is_the_sum_of_the_loaded_balances(seeded):
    _out, batch = seeded
    # the business date's balances are exactly the loaded rows of the batch
    known = set(Account.objects.values_list("account_no", flat=True))
    loaded = {r[0]: Decimal(r[3]) for r in rows(batch, BALANCE.name) if r[0] in known}
    balances = AccountBalance.objects.filter(business_date=DAY).select_related("account")
    assert {b.account.account_no: b.cny_balance for b in balances} == loaded
    files = {f.name: f for f in BatchLoad.objects.get(started_via="demo").files.all()}
    assert len(balances) == files[BALANCE.name].loaded
    assert TransactionSummary.objects.filter(business_date=DAY).count() == files[TXN_SUMMARY.name].loaded
    assets, liabilities = defaultdict(Decimal), defaultdict(Decimal)
    for b in balances:
        if b.account.category in ASSET_CATEGORIES:
            assets[b.account.customer_id] += b.cny_balance
        elif b.account.category in LIABILITY_CATEGORIES:
            liabilities[b.account.customer_id] += b.cny_balance
    customers = list(Customer.objects.all())
    assert len(customers) == N + 1  # the demo customers and the second number the batch brought
    for c in customers:
        assert (c.aum, c.liabilities) == (assets.get(c.pk, 0), liabilities.get(c.pk, 0)), c.customer_no
    holders = {b.account.customer_id for b in balances}
    assert CustomerDailyAum.objects.filter(business_date=DAY).count() == len(holders) == N
    # customers who bought on the business date hold more than the day before
    opened = Account.objects.filter(open_date=DAY)
    assert opened.count() >= 3
    for account in opened.select_related("customer"):
        assert account.customer.aum >= account.cny_balance > 0


def test_the_loans_and_cards_have_their_statuses_a_few_past_due(seeded):
    # every loan and card account held before the business date has its status that
    # day: its latest row on or before it (the days before wrote the first ones)
    credit = (
        Account.objects.filter(category__in=CREDIT_CATEGORIES)
        .filter(Q(open_date__lt=DAY) | Q(open_date__isnull=True))
        .exclude(status="C")
    )
    latest: dict[int, LoanStatus] = {}
    for row in LoanStatus.objects.filter(business_date__lte=DAY).order_by("business_date"):
        latest[row.account_id] = row
    assert set(latest) == set(credit.values_list("pk", flat=True))
    # the day's file keeps the changes only: the accounts behind, a day further behind
    changed = LoanStatus.objects.filter(business_date=DAY)
    files = {f.name: f for f in BatchLoad.objects.get(started_via="demo").files.all()}
    assert (files[LOAN_STATUS.name].loaded, changed.count()) == (len(latest), 5)
    # most are current and normal; a few are behind, the business date the day they
    # cross 1, 30 and 60 days past due, and one moves to substandard
    statuses = latest.values()
    behind = sorted((s.overdue_days, s.risk_class) for s in statuses if s.overdue_days > 0)
    assert behind == [
        (1, RiskClass.NORMAL), (12, RiskClass.NORMAL), (30, RiskClass.NORMAL),
        (60, RiskClass.SPECIAL_MENTION), (91, RiskClass.SUBSTANDARD),
    ]  # fmt: skip
    assert all(s.overdue_amount > 0 for s in statuses if s.overdue_days > 0)
    watched = [
        (s.risk_class, s.overdue_amount) for s in statuses if s.overdue_days == 0 and s.risk_class != 1
    ]
    assert watched == [(RiskClass.SPECIAL_MENTION, 0)]


def test_marketing_shows_sales_core_banking_confirmed(seeded, client, demo_password):
    running = Campaign.objects.get(status=CampaignStatus.RUNNING)
    sales = Sale.objects.filter(campaign=running)
    # the sale demo_cm1 won on the business date is confirmed by the account the batch opened
    won = sales.get(source=SaleSource.OPPORTUNITY)
    assert won.account is not None and won.account.open_date == DAY and won.amount == won.account.cny_balance
    # and a target who bought the campaign's product at the branch is converted by the load
    bought = sales.get(source=SaleSource.CORE_BANKING)
    assert bought.account.open_date == DAY and bought.target.status == TargetStatus.CONVERTED
    assert {won.manager.username, bought.manager.username} == {"demo_cm1"}

    # the year's wealth-sales task shows progress, down to demo_cm1 and demo_cm2
    task = MarketingTask.objects.get()
    page = _log_in(client, "demo_bm", demo_password).get(f"/marketing/tasks/{task.pk}/")
    assert page.status_code == 200
    progress = {
        (p.allocation.manager.username if p.allocation.manager_id else p.allocation.branch.code): p.actual
        for p in page.context["progress"]
    }
    assert progress["10000"] > 0
    assert progress["demo_cm1"] >= won.amount + bought.amount
    assert progress["demo_cm2"] > 0


def test_the_load_confirms_the_demo_requests_it_brings_accounts_for(seeded, client, demo_password):
    opened = OpeningRequest.objects.filter(status=OpeningStatus.OPENED).select_related(
        "account", "sale", "product"
    )
    assert opened.count() >= 3
    for request in opened:
        account, sale = request.account, request.sale
        assert account.open_date == DAY and account.customer_id == request.customer_id
        assert account.product_code == request.product.code and request.matched_by is None
        # the requesting manager's sale, through the request's channel
        assert sale.source == SaleSource.OPENING and sale.account_id == account.pk and sale.amount > 0
        assert sale.manager_id == request.manager_id and sale.channel_id == request.channel_id
    # the funnel counts them opened and sold
    page = _log_in(client, "demo_bm", demo_password).get(
        f"/marketing/openings/funnel/?start={DAY - datetime.timedelta(days=60)}&end={timezone.localdate()}"
    )
    assert page.status_code == 200
    total = page.context["funnel"].total
    assert total.opened >= opened.count() and total.sold >= opened.count()
    assert total.requested > total.appointed > total.opened


def test_a_second_run_changes_nothing_and_its_load_is_a_duplicate(seeded, settings):
    first_out, batch = seeded
    business = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("customers", "vip", "marketing")
        and m not in (BatchLoad, apps.get_model("customers", "BatchFile"))
    ]
    before = {m._meta.label: m.objects.count() for m in business}
    aum = dict(Customer.objects.values_list("customer_no", "aum"))
    files = {spec.name: (batch / spec.name).read_bytes() for spec in FILES}

    out = StringIO()
    call_command("seed_demo", customers=N, stdout=out)

    assert {m._meta.label: m.objects.count() for m in business} == before
    assert dict(Customer.objects.values_list("customer_no", "aum")) == aum
    assert {spec.name: (batch / spec.name).read_bytes() for spec in FILES} == files
    first, second = BatchLoad.objects.filter(started_via="demo").order_by("pk")
    assert (first.status, second.status) == (BatchStatus.LOADED, BatchStatus.DUPLICATE)
    assert f"Already loaded by load #{first.pk}" in out.getvalue()


@pytest.mark.parametrize("day", [datetime.date(2026, 3, 1), datetime.date(2026, 1, 31)])
def test_the_history_backfill_and_the_load_agree_on_the_month_average(settings, tmp_path, demo_users, day):
    """The backfill writes the month's days before the business date; the load brings
    the day itself. The month-average AUM the tiers read is the one the generator
    chose, whether the month has one day so far or thirty-one."""
    settings.DEMO_BATCH_DIR = tmp_path
    # given demo customers seeded for that business date, the day itself left to the load
    seed_customers(count=120, business_date=day, latest_day=False)
    chosen = dict(Customer.objects.values_list("pk", "month_avg_aum"))
    assert not AccountBalance.objects.exists() and not TransactionSummary.objects.exists()
    assert not CustomerDailyAum.objects.filter(business_date=day).exists()
    # when seed_demo runs: it keeps the demo's business date and loads that day
    call_command("seed_demo", customers=120, stdout=StringIO())
    load = BatchLoad.objects.get(started_via="demo")  # the real load (the days before: "demo history")
    assert (load.status, load.business_date) == (BatchStatus.LOADED, day)
    # then every day of the month so far has its AUM, and the average is the chosen one
    month = CustomerDailyAum.objects.filter(business_date__gte=day.replace(day=1), business_date__lte=day)
    assert month.count() == 120 * day.day
    bought = set(Account.objects.filter(open_date=day).values_list("customer_id", flat=True))
    for pk, average in Customer.objects.filter(pk__in=chosen).values_list("pk", "month_avg_aum"):
        if pk not in bought:
            assert abs(average - chosen[pk]) <= Decimal("0.01"), pk


@pytest.mark.django_db
def test_topping_up_with_a_chunk_that_brings_no_household_seeds_its_customers(demo_users):
    """A top-up of one customer makes no household: that customer is written
    without one instead of the seed failing."""
    from demo.seeding import seed_customers

    assert seed_customers(count=40) == 40
    households = apps.get_model("customers", "Household").objects.count()
    assert seed_customers(count=41) == 1
    assert apps.get_model("customers", "Customer").objects.count() == 41
    assert apps.get_model("customers", "Household").objects.count() == households

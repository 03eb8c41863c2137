"""The demo has a month of loaded days, a published last month and an open current
month (`demo.loaded_days`): after `manage.py seed_demo`, every business day of the
previous month and of the current month so far is a loaded batch with its balances
(adding up to the customers' daily AUM), the assignment history has mid-month
transfers and split credit, last month's figures are published (proposed by one
business manager, approved by another) and add up to the bank, the current month's
are provisional over more than one counted day, and the figures pages show them."""

import datetime
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.audit import Action
from accounts.models import AuditEvent
from core.approvals import ApprovalStatus
from credit.buckets import OverdueBucket
from credit.models import RiskFigure, RollRate
from customers.choices import ASSET_CATEGORIES, CREDIT_CATEGORIES, AccountStatus, AssignmentRole, BatchStatus
from customers.ingest.spec import BALANCE, INCOME, LOAN_STATUS
from customers.models import (
    Account,
    AccountBalance,
    BatchLoad,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    IncomeEntry,
    LoanStatus,
)
from demo.business_day import PAST_DUE_STORIES
from demo.loaded_days import SPLIT_REASON, STARTED_VIA, TRANSFER_REASON, seed_loaded_days, window_days
from demo.seeding import seed_customers
from performance.choices import PeriodStatus, VersionStatus
from performance.engine import AUM, DEPOSIT
from performance.models import CustomerResult, ManagerResult, Period, Publication
from tests.customers.factories import AccountFactory, CustomerFactory

pytestmark = pytest.mark.django_db
N = 200
DAY = datetime.date(2026, 3, 11)  # a Wednesday: February is last month, 1..10 March the month so far
LAST_MONTH, THIS_MONTH = "2026-02", "2026-03"
WEEKDAYS = [
    datetime.date(2026, 2, 1) + datetime.timedelta(days=k)
    for k in range((DAY - datetime.date(2026, 2, 1)).days)
    if (datetime.date(2026, 2, 1) + datetime.timedelta(days=k)).weekday() < 5
]


@pytest.fixture
def seeded(settings, tmp_path, demo_users):
    settings.DEMO_BATCH_DIR = tmp_path
    # a demo bank whose business date is DAY (seed_demo keeps the demo's date)
    seed_customers(count=N, business_date=DAY, latest_day=False)
    out = StringIO()
    call_command("seed_demo", customers=N, stdout=out)
    return out.getvalue()


def _log_in(client, username, password):
    client.logout()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


def test_every_business_day_since_last_month_is_a_loaded_batch_with_its_balances(
    seeded, client, demo_password
):
    assert window_days(DAY) == WEEKDAYS and len(WEEKDAYS) == 20 + 7
    # given a fresh seed: one loaded batch per business day before DAY, and DAY's real load
    history = BatchLoad.objects.filter(started_via=STARTED_VIA)
    assert sorted(history.values_list("business_date", flat=True)) == WEEKDAYS
    assert set(history.values_list("status", flat=True)) == {BatchStatus.LOADED}
    assert len(set(history.values_list("digest", flat=True))) == len(WEEKDAYS)
    real = BatchLoad.objects.get(business_date=DAY)
    assert (real.status, real.started_via) == (BatchStatus.LOADED, "demo")
    assert f"Loaded days: {len(WEEKDAYS)} business days from {WEEKDAYS[0]} to {WEEKDAYS[-1]}" in seeded
    # each recorded like a load: per-file counts that are the rows of the day, audited
    for load in history.prefetch_related("files"):
        files = {f.name: f.loaded for f in load.files.all()}
        balances = AccountBalance.objects.filter(business_date=load.business_date).count()
        income = IncomeEntry.objects.filter(business_date=load.business_date).count()
        # the day's status file: a row per loan and card held (the changes are kept)
        assert files.keys() == {BALANCE.name, INCOME.name, LOAN_STATUS.name}
        assert (files[BALANCE.name], files[INCOME.name]) == (balances, income)
        assert files[LOAN_STATUS.name] >= LoanStatus.objects.filter(business_date=load.business_date).count()
        assert balances > N and load.rows_loaded == balances + income
    assert AuditEvent.objects.filter(action=Action.BATCH_LOADED).count() == len(WEEKDAYS) + 1
    # an administrator finds them under Batch loads, each with its files
    admin = _log_in(client, "demo_admin", demo_password)
    listing = admin.get("/admin/customers/batchload/").content.decode()
    assert listing.count(STARTED_VIA) >= len(WEEKDAYS)
    first = history.get(business_date=WEEKDAYS[0])
    page = admin.get(f"/admin/customers/batchload/{first.pk}/change/")
    assert page.status_code == 200 and 'data-status="loaded"' in page.content.decode()
    assert sorted(r["file"].name for r in page.context["files"]) == [
        BALANCE.name,
        INCOME.name,
        LOAN_STATUS.name,
    ]
    # no balances on a weekend, and nothing before last month
    assert not AccountBalance.objects.filter(business_date=datetime.date(2026, 2, 7)).exists()
    assert not AccountBalance.objects.filter(business_date__lt=WEEKDAYS[0]).exists()

    # a customer's asset accounts add up to their daily AUM, to the cent, every day of the month so far
    assets: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, customer, category, amount in AccountBalance.objects.filter(
        business_date__gte=datetime.date(2026, 3, 1), business_date__lt=DAY
    ).values_list("business_date", "account__customer_id", "account__category", "cny_balance"):
        if category in ASSET_CATEGORIES:
            assets[(day, customer)] += amount
    daily = {
        (d, c): aum
        for d, c, aum in CustomerDailyAum.objects.filter(
            business_date__in=[d for d in WEEKDAYS if d.month == 3]
        ).values_list("business_date", "customer_id", "aum")
    }
    assert len(daily) == N * 7 and assets == daily
    # and every loaded day has the one row per customer the figures read, as a load writes it
    deposits: dict[int, Decimal] = defaultdict(Decimal)
    for customer, amount in AccountBalance.objects.filter(
        business_date=WEEKDAYS[3], account__category="DEP_CUR"
    ).values_list("account__customer_id", "cny_balance"):
        deposits[customer] += amount
    rows = CustomerDailyAum.objects.filter(business_date=WEEKDAYS[3])
    assert rows.count() == N and {r.customer_id: r.dep_cur for r in rows if r.dep_cur} == {
        c: v for c, v in deposits.items() if v
    }
    assert all(r.aum > 0 for r in rows)

    # balances move from day to day; accounts opened in the window start on their opening day
    moving = AccountBalance.objects.filter(business_date__in=WEEKDAYS[:5]).values_list(
        "account_id", "cny_balance"
    )
    by_account: dict[int, set] = defaultdict(set)
    for account, amount in moving:
        by_account[account].add(amount)
    assert sum(len(amounts) > 1 for amounts in by_account.values()) > len(by_account) // 2
    opened = Account.objects.filter(open_date__gt=WEEKDAYS[0], open_date__lt=DAY)
    assert opened.exists()
    for account in opened:
        days = set(AccountBalance.objects.filter(account=account).values_list("business_date", flat=True))
        assert min(days) >= account.open_date and {d for d in WEEKDAYS if d >= account.open_date} <= days
    # some accounts closed since: balances in the window, none on the business date
    closed = (
        AccountBalance.objects.filter(account__status="C").values_list("account_id", flat=True).distinct()
    )
    assert (
        closed and not AccountBalance.objects.filter(account_id__in=list(closed), business_date=DAY).exists()
    )
    # intermediary income on the days before, fees and a reversal now and then
    income = IncomeEntry.objects.filter(business_date__lt=DAY)
    assert income.count() > len(WEEKDAYS) and income.filter(cny_amount__lt=0).exists()


def test_the_loan_statuses_have_a_history_and_last_months_end_its_past_due_loans(seeded):
    # the first day: every loan and card held then; later days: the changes only
    held = (
        Account.objects.filter(category__in=CREDIT_CATEGORIES, open_date__lt=WEEKDAYS[0])
        .exclude(status=AccountStatus.CLOSED)
        .count()
    )
    assert held >= len(PAST_DUE_STORIES)
    assert LoanStatus.objects.filter(business_date=WEEKDAYS[0]).count() == held
    first = BatchLoad.objects.get(business_date=WEEKDAYS[0]).files.get(name=LOAN_STATUS.name)
    assert first.loaded == held
    for day in WEEKDAYS[1:]:
        assert LoanStatus.objects.filter(business_date=day).count() <= len(PAST_DUE_STORIES)
    # the account 91 days past due on DAY was 79 on 27 February, 61-90 at the month's
    # end; the one 60 days past due was 48 (31-60), the one 30 was 18 (1-30)
    february = dict(
        RiskFigure.objects.filter(month=datetime.date(2026, 2, 1))
        .values_list("bucket")
        .annotate(Sum("accounts"))
        .order_by()
    )
    assert {b: february.get(b, 0) for b in (1, 2, 3, 4)} == {1: 1, 2: 1, 3: 1, 4: 0}
    # ... and rolled to 90+ in March
    assert RollRate.objects.filter(
        month=datetime.date(2026, 3, 1),
        from_bucket=OverdueBucket.DAYS_61_90,
        to_bucket=OverdueBucket.DAYS_90_PLUS,
    ).exists()


def test_the_assignment_history_has_mid_month_transfers_and_split_credit(seeded):
    # transfers: the manager of record took the customer over during the window from another
    # client manager, whose assignment ended the day before
    earlier = CustomerAssignment.objects.filter(reason=TRANSFER_REASON, end_date__isnull=False)
    assert earlier.count() >= 2
    for old in earlier.select_related("customer"):
        current = CustomerAssignment.objects.get(
            customer=old.customer, role=AssignmentRole.PRIMARY, end_date__isnull=True
        )
        assert current.start_date == old.end_date + datetime.timedelta(days=1)
        assert WEEKDAYS[0] < current.start_date < DAY and current.manager_id != old.manager_id
        assert current.manager_id == old.customer.primary_manager_id
    # split credit: an assisting manager with a share, other than the manager of record
    assisting = CustomerAssignment.objects.filter(reason=SPLIT_REASON)
    assert assisting.count() >= 3
    for row in assisting.select_related("customer"):
        assert row.role == AssignmentRole.SECONDARY and Decimal("0") < row.credit_share < Decimal("100")
        assert row.manager_id != row.customer.primary_manager_id
    # at most one running manager of record per customer still
    running = CustomerAssignment.objects.filter(role=AssignmentRole.PRIMARY, end_date__isnull=True)
    assert running.count() == running.values("customer").distinct().count()


def _bank(first: datetime.date, through: datetime.date, categories) -> Decimal:
    """The bank's daily average of the categories over the calendar days, each day
    counting the balances of the last loaded batch on or before it (none before the
    first): worked out here from the balances, independently of the engine."""
    loaded = sorted(
        day
        for day in BatchLoad.objects.filter(status=BatchStatus.LOADED).values_list("business_date", flat=True)
        if day is not None
    )
    totals = dict(
        AccountBalance.objects.filter(account__category__in=categories, business_date__lte=through)
        .values_list("business_date")
        .annotate(total=Sum("cny_balance"))
        .order_by()
    )
    day, total, days = first, Decimal("0"), 0
    while day <= through:
        batch = max((d for d in loaded if d <= day), default=None)
        total += totals.get(batch, Decimal("0")) if batch is not None and batch >= first else Decimal("0")
        day += datetime.timedelta(days=1)
        days += 1
    return total / days


def test_last_month_is_published_and_its_managers_and_pools_add_up_to_the_bank(seeded):
    period = Period.objects.get(code=LAST_MONTH)
    assert period.status == PeriodStatus.CLOSED
    version = period.versions.get(status=VersionStatus.PUBLISHED)
    assert version.number == 1 and version.counted_days == 28
    assert version.counted_through == datetime.date(2026, 2, 28)
    # proposed by one business manager, approved by another, both audited
    publication = Publication.objects.get(version=version)
    assert publication.status == ApprovalStatus.APPROVED
    assert (publication.proposed_by.username, publication.decided_by.username) == ("demo_bm", "bm_10000")
    assert AuditEvent.objects.filter(action=Action.PERFORMANCE_PUBLISHED).count() == 1
    assert (
        f"Performance {LAST_MONTH}: version 1 published (proposed by demo_bm, approved by bm_10000)" in seeded
    )

    # managers plus pools equal the bank, figure by figure (each row rounded once)
    rows = ManagerResult.objects.filter(version=version)
    assert rows.filter(manager__isnull=False).count() >= 8
    tolerance = Decimal("0.01") * rows.count()
    start, end = datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)
    for figure, categories in (("aum_avg", AUM), ("deposit_avg", DEPOSIT)):
        bank = _bank(start, end, categories)
        assert bank > 0
        assert abs(sum(getattr(r, figure) for r in rows) - bank) <= tolerance, figure
    income = sum(
        IncomeEntry.objects.filter(business_date__gte=start, business_date__lte=end).values_list(
            "cny_amount", flat=True
        )
    )
    assert income != 0 and abs(sum(r.intermediary for r in rows) - income) <= tolerance
    assert sum(r.total for r in rows) > 0

    # a transferred customer counts for both managers; split credit for the assisting one
    old = CustomerAssignment.objects.filter(reason=TRANSFER_REASON, end_date__isnull=False).first()
    assert old is not None
    if old.end_date.month == 2:
        credited = set(
            CustomerResult.objects.filter(version=version, customer=old.customer_id).values_list(
                "manager_id", flat=True
            )
        )
        assert {old.manager_id, Customer.objects.get(pk=old.customer_id).primary_manager_id} <= credited
    assisting = CustomerAssignment.objects.filter(reason=SPLIT_REASON).first()
    assert CustomerResult.objects.filter(
        version=version, customer=assisting.customer_id, manager=assisting.manager_id
    ).exists()


def test_the_current_month_is_open_with_provisional_figures(seeded):
    period = Period.objects.get(code=THIS_MONTH)
    assert period.status == PeriodStatus.OPEN
    version = period.versions.get(number=0)
    assert version.status == VersionStatus.PROVISIONAL
    assert (version.counted_days, version.counted_through) == (11, DAY)
    assert version.counted_days > 1
    rows = ManagerResult.objects.filter(version=version)
    assert rows.exists() and sum(r.aum_avg for r in rows) > 0 and sum(r.total for r in rows) > 0
    assert not period.versions.filter(status=VersionStatus.PUBLISHED).exists()


def test_both_months_are_scored_by_an_approved_scheme(seeded):
    from performance.models import ManagerResult, ManagerScore, Scheme

    for code, status in ((LAST_MONTH, "published"), (THIS_MONTH, "provisional")):
        scheme = Scheme.objects.get(period__code=code, role="client_manager")
        assert scheme.status == "approved" and scheme.proposed_by.username == "demo_bm"
        assert scheme.decided_by.username != "demo_bm"  # a second person approved it
        version = Period.objects.get(code=code).versions.get(status=status)
        managers = ManagerResult.objects.filter(version=version, manager__isnull=False).count()
        scores = ManagerScore.objects.filter(version=version, scheme=scheme)
        assert managers and scores.count() == managers
        assert set(scores.values_list("grade", flat=True)) <= {"A", "B", "C"}
        assert scores.filter(rank=1).exists()


def test_the_figures_pages_show_real_numbers(seeded, client, demo_password):
    # a client manager: their own figures of the open month, non-zero
    page = _log_in(client, "demo_cm1", demo_password).get("/performance/")
    assert page.status_code == 200
    assert page.context["period"].code == THIS_MONTH and "rows" not in page.context
    cards = dict(page.context["cards"])
    assert cards and all(isinstance(v, Decimal) for v in cards.values())
    assert cards["AUM, daily average"] > 0 and cards["Total contribution"] > 0
    assert page.context["has_trend"]
    # last month: the published version
    published = _log_in(client, "demo_cm1", demo_password).get("/performance/", {"period": LAST_MONTH})
    assert published.status_code == 200 and published.context["version"].status == VersionStatus.PUBLISHED
    assert dict(published.context["cards"])["AUM, daily average"] > 0

    # a branch head: the board of their sub-branch, non-zero rows and totals
    board = _log_in(client, "demo_bh", demo_password).get("/performance/")
    assert board.status_code == 200
    assert board.context["rows"] and board.context["totals"]
    totals = dict(zip(board.context["labels"], board.context["totals"], strict=True))
    assert totals["AUM, daily average"] > 0 and totals["Total contribution"] > 0
    shown = board.context["page_obj"].object_list
    assert any(row.aum_avg > 0 for row in shown) and {row.branch.code for row in shown} <= {
        "11100",
        "11101",
        "11102",
    }
    # a client manager does not get the branch ranking of branch heads
    assert _log_in(client, "demo_cm1", demo_password).get("/performance/branches/").status_code == 403


def test_a_second_run_writes_no_day_and_publishes_nothing_again(seeded, settings):
    balances, income = AccountBalance.objects.count(), IncomeEntry.objects.count()
    assignments = CustomerAssignment.objects.count()
    out = StringIO()
    call_command("seed_demo", customers=N, stdout=out)
    assert (AccountBalance.objects.count(), IncomeEntry.objects.count()) == (balances, income)
    assert CustomerAssignment.objects.count() == assignments
    assert BatchLoad.objects.filter(started_via=STARTED_VIA).count() == len(WEEKDAYS)
    assert "every business day before the business date is loaded already" in out.getvalue()
    assert Publication.objects.count() == 1
    assert Period.objects.get(code=LAST_MONTH).versions.count() == 1


def test_the_loaded_days_sit_in_their_months_partitions(seeded):
    """On PostgreSQL the days written before the business date (last month's too) are
    in their month's partition, none left in the default one (the business date's
    load makes the months' partitions and moves them there)."""
    from django.db import connection

    from customers.partitions import HISTORY_TABLES, default_name, partition_name

    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    with connection.cursor() as cursor:
        for table in ("customers_accountbalance", "customers_customerdailyaum"):
            assert table in HISTORY_TABLES
            cursor.execute(f"SELECT COUNT(*) FROM {default_name(table)}")
            assert cursor.fetchone()[0] == 0, table
            first = partition_name(table, WEEKDAYS[0].replace(day=1))  # February, last month
            cursor.execute(f"SELECT COUNT(*) FROM {first} WHERE business_date = %s", [WEEKDAYS[0]])
            assert cursor.fetchone()[0] > 0, first


# The first account ids to try: a fresh database's, and one where the demo used to hold
# no closed account in the window (when it chose them by id; the choice repeated every
# 3 * 37 ids, 37 being the window's length in days).
PERIOD = 3 * 37


@pytest.mark.parametrize("first_id", [1, 11, 50])
def test_some_closed_accounts_hold_balances_in_the_window_whatever_the_first_account_id(
    org, demo_users, first_id
):
    # given account ids that start at first_id (or the same modulo PERIOD, the sequence
    # having moved on in earlier tests)
    outlet = next(b for b in org.values() if b.parent_id is not None)
    customer = CustomerFactory(home_branch=outlet)
    probe = AccountFactory(customer=customer).id
    AccountFactory.create_batch((first_id - probe - 1) % PERIOD, customer=customer)
    customer.delete()
    seed_customers(count=N, business_date=DAY, latest_day=False)
    assert Account.objects.order_by("id").first().id % PERIOD == first_id % PERIOD

    seed_loaded_days(business_date=DAY)

    # a closed account without a maturity held a balance on the window's first day at least,
    # and no closed account holds one on the business date
    closed = Account.objects.filter(status=AccountStatus.CLOSED, category__in=ASSET_CATEGORIES)
    held = AccountBalance.objects.filter(account__in=closed)
    assert held.filter(account__maturity_date__isnull=True, business_date=WEEKDAYS[0]).exists()
    assert not held.filter(business_date=DAY).exists()

"""Demo customers (demo.seeding.seed_customers): counts, idempotency, valid and
unique identities, assignments, AUM consistency with aum_refresh, households."""

import datetime
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent, BranchLevel
from customers.aum import aum_refresh
from customers.choices import ASSET_CATEGORIES, LIABILITY_CATEGORIES, AssignmentRole, ContactType, IdType
from customers.idnumbers import parse_resident_id, validate_mobile
from customers.models import (
    Account,
    AccountBalance,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMonthlyAum,
    Household,
    Relationship,
)
from demo.people import Generator
from demo.seeding import LOCK_KEY, demo_outlets, seed_customers

N = 300


@pytest.fixture
def seeded(demo_users):
    assert seed_customers(count=N) == N
    return demo_users


def latest_date() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def test_counts_and_rows_for_everyone(seeded):
    assert Customer.objects.count() == N
    assert not Customer.objects.annotate(n=Count("accounts")).filter(Q(n=0) | Q(n__gt=5)).exists()
    # a primary mobile contact equal to the customer's mobile, for everyone
    mobiles = {
        cp.customer_id: cp.value
        for cp in ContactPoint.objects.filter(type=ContactType.MOBILE, is_primary=True)
    }
    assert mobiles == {c.pk: c.mobile for c in Customer.objects.all()}
    assert all(cp.value for cp in ContactPoint.objects.all())
    assert ContactPoint.objects.filter(type=ContactType.ADDRESS).count() > N // 2
    assert ContactPoint.objects.filter(type=ContactType.EMAIL).count() > N // 4
    # balances for every account that is not closed, on the latest date
    open_accounts = Account.objects.exclude(status="C")
    assert AccountBalance.objects.filter(business_date=latest_date()).count() == open_accounts.count()
    assert not open_accounts.exclude(balance_date=latest_date()).exists()
    assert CustomerDailyAum.objects.filter(business_date=latest_date()).count() == N
    categories = set(Account.objects.values_list("category", flat=True))
    assert {"DEP_CUR", "DEP_TIME", "WEALTH", "CREDIT_CARD"} <= categories
    assert Customer.objects.filter(status="A").count() > N * 0.8
    assert Customer.objects.filter(status="D").exists()


def test_idempotent_and_tops_up(seeded):
    assert seed_customers(count=N) == 0
    assert seed_customers(count=N - 50) == 0
    assert Customer.objects.count() == N
    assert seed_customers(count=N + 40) == 40
    assert Customer.objects.count() == N + 40
    assert len({c.mobile for c in Customer.objects.all()}) == N + 40
    assert not CustomerAssignment.objects.values("customer").annotate(n=Count("id")).filter(n__gt=1).exists()
    # one audit event per run that created customers, none per customer
    events = AuditEvent.objects.filter(action=Action.CUSTOMER_CREATED, actor_username="seed_demo")
    assert sorted(e.details["count"] for e in events) == [40, N]


def test_identities_are_valid_and_agree(seeded):
    today = timezone.localdate()
    types = Counter()
    for c in Customer.objects.all():
        types[c.id_type] += 1
        assert c.birth_date is not None and c.gender in ("M", "F")
        if c.id_type == IdType.RESIDENT_ID:
            parsed = parse_resident_id(c.id_number, today=today)
            assert (parsed.gender, parsed.birth_date) == (c.gender, c.birth_date), c.id_number
        else:
            assert c.id_type == IdType.PASSPORT
            assert re.fullmatch(r"E\d{8}", c.id_number)
        age = (
            today.year
            - c.birth_date.year
            - ((today.month, today.day) < (c.birth_date.month, c.birth_date.day))
        )
        assert 18 <= age <= 85, (c.birth_date, age)
        assert validate_mobile(c.mobile) == c.mobile
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", c.name), c.name
    assert types[IdType.RESIDENT_ID] > N * 0.9


def test_unique_numbers(seeded):
    customers = list(Customer.objects.all())
    for field in ("mobile", "id_number", "customer_no"):
        values = [getattr(c, field) for c in customers]
        assert len(values) == len(set(values)), field
    account_nos = list(Account.objects.values_list("account_no", flat=True))
    assert len(account_nos) == len(set(account_nos))
    assert all(re.fullmatch(r"\d{16}|\d{19}", n) for n in account_nos)
    cards = Account.objects.filter(category="CREDIT_CARD").values_list("account_no", flat=True)
    assert all(n.startswith("6225") and len(n) == 16 for n in cards)


def test_one_open_primary_assignment_matching_the_manager(seeded):
    open_primary = CustomerAssignment.objects.filter(role=AssignmentRole.PRIMARY, end_date__isnull=True)
    per_customer = Counter(open_primary.values_list("customer_id", flat=True))
    assert len(per_customer) == N and set(per_customer.values()) == {1}
    managers = dict(open_primary.values_list("customer_id", "manager_id"))
    outlets = set()
    for c in Customer.objects.select_related("primary_manager", "home_branch"):
        assert managers[c.pk] == c.primary_manager_id
        assert c.primary_manager.branch_id == c.home_branch_id
        assert c.home_branch.level == BranchLevel.OUTLET
        outlets.add(c.home_branch.code)
    assert len(outlets) >= 6  # spread over the 8 demo outlets


def test_aum_is_consistent_with_aum_refresh(seeded):
    latest = latest_date()
    assets, liabilities = defaultdict(Decimal), defaultdict(Decimal)
    for customer_id, category, cny in Account.objects.exclude(status="C").values_list(
        "customer_id", "category", "cny_balance"
    ):
        if category in ASSET_CATEGORIES:
            assets[customer_id] += cny
        elif category in LIABILITY_CATEGORIES:
            liabilities[customer_id] += cny
    before = {c.pk: (c.aum, c.liabilities, c.month_avg_aum, c.aum_date) for c in Customer.objects.all()}
    for pk, (aum, liab, _avg, aum_date) in before.items():
        assert aum == assets[pk] and liab == liabilities[pk] and aum_date == latest
    assert sum(1 for v in before.values() if v[0] > 1_000_000) >= 1  # a tail of the rich
    aum_refresh(latest)
    after = {c.pk: (c.aum, c.liabilities, c.month_avg_aum, c.aum_date) for c in Customer.objects.all()}
    for pk in before:
        assert after[pk][:2] == before[pk][:2], pk
        # the month average survives the refresh too (to the cent)
        assert abs(after[pk][2] - before[pk][2]) <= Decimal("0.01"), (before[pk], after[pk])
        assert after[pk][3] == latest


@pytest.mark.parametrize(
    "latest", [datetime.date(2026, 3, 1), datetime.date(2026, 1, 31), datetime.date(2025, 2, 28)]
)
def test_month_average_survives_a_refresh_on_any_day(demo_users, latest):
    """The month so far has 1 to 31 days of daily AUM; aum_refresh recomputes the same
    month average from them, and the 13 months end at the latest date's month."""
    seed_customers(count=40, business_date=latest)
    before = {c.pk: (c.aum, c.liabilities, c.month_avg_aum) for c in Customer.objects.all()}
    assert CustomerDailyAum.objects.filter(business_date__lte=latest).count() == 40 * latest.day
    aum_refresh(latest)
    after = {c.pk: (c.aum, c.liabilities, c.month_avg_aum) for c in Customer.objects.all()}
    for pk, (aum, liab, avg) in before.items():
        assert after[pk][:2] == (aum, liab)
        assert abs(after[pk][2] - avg) <= Decimal("0.01")
        if latest.day == 1:
            assert avg == aum
    months = sorted(set(CustomerMonthlyAum.objects.values_list("month", flat=True)))
    assert len(months) == 13 and months[-1] == latest.replace(day=1)


def test_thirteen_months_ending_today(seeded):
    latest = latest_date()
    counts = CustomerMonthlyAum.objects.values("customer").annotate(n=Count("month"))
    assert {r["n"] for r in counts} == {13} and len(counts) == N
    months = set(CustomerMonthlyAum.objects.values_list("month", flat=True))
    assert len(months) == 13 and max(months) == latest.replace(day=1)
    current = {m.customer_id: m for m in CustomerMonthlyAum.objects.filter(month=latest.replace(day=1))}
    for c in Customer.objects.all():
        assert current[c.pk].end_aum == c.aum
        assert current[c.pk].avg_aum == c.month_avg_aum
    assert not CustomerMonthlyAum.objects.filter(Q(avg_aum__lt=0) | Q(end_aum__lt=0)).exists()


def test_households_and_relationships(seeded):
    households = Household.objects.annotate(n=Count("members"))
    assert households.exists()
    assert all(2 <= h.n <= 4 for h in households)
    in_households = Customer.objects.exclude(household=None)
    assert in_households.count() >= N * 0.04
    heads = Counter(in_households.filter(household_role="head").values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == households.count()
    household_of = dict(Customer.objects.values_list("pk", "household_id"))
    family = Relationship.objects.filter(related_customer__isnull=False)
    assert family.exists()
    for customer_id, related_id in family.values_list("customer_id", "related_customer_id"):
        assert household_of[customer_id] is not None
        assert household_of[customer_id] == household_of[related_id]
    # members share an outlet and manager
    for h in Household.objects.prefetch_related("members"):
        assert len({(m.home_branch_id, m.primary_manager_id) for m in h.members.all()}) == 1
    assert Relationship.objects.filter(relation_type="employer").exclude(related_name="").exists() or N < 200


def test_generator_is_deterministic(demo_users):
    now = timezone.now()
    latest = latest_date()
    outlets = demo_outlets()
    one = Generator(seed=7, outlets=outlets, latest=latest, now=now).chunk(1000, 80)
    two = Generator(seed=7, outlets=outlets, latest=latest, now=now).chunk(1000, 80)
    assert one.customers == two.customers and one.children == two.children


def test_needs_client_managers(org):
    with pytest.raises(RuntimeError, match="seed_demo"):
        seed_customers(count=5)
    assert seed_customers(count=0) == 0


def test_stored_columns_are_what_the_model_derives(seeded):
    """Encrypted identifiers, blind indexes and name-search columns are exactly what
    the model's own setters compute, so lookups find seeded customers."""
    for c in Customer.objects.order_by("?")[:50]:
        fresh = Customer(name=c.name)
        fresh.id_number = c.id_number
        fresh.mobile = c.mobile
        fresh.refresh_name_search()
        for attr in ("id_hash", "id_suffix", "mobile_hash", "mobile_suffix", "name_pinyin", "name_initials"):
            assert getattr(fresh, attr) == getattr(c, attr), attr
        assert fresh.search_tokens == c.search_tokens
        contact = ContactPoint(type=ContactType.MOBILE)
        contact.value = c.mobile
        assert c.contacts.filter(type=ContactType.MOBILE, value_hash=contact.value_hash).exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="an advisory lock of PostgreSQL")
def test_one_run_at_a_time(demo_users):
    """Two runs at once would create the same identities twice: the second refuses."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or None, port=db["PORT"] or None,
        password=db["PASSWORD"] or None, autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(RuntimeError, match="Another seed_customers run"):
            seed_customers(count=10)
    assert Customer.objects.count() == 0

"""The churn features (docs/analysis.md, "Churn features") on small known data,
as of a business date and as of a past month end."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from analysis.features import FEATURES, MODEL_INPUTS, months_before, write_features
from customers.choices import AccountCategory, AccountStatus, AssignmentRole, InteractionKind
from customers.models import AccountBalance
from tests.analysis.score_helpers import at, monthly, txns
from tests.customers.factories import (
    AccountFactory,
    CustomerAssignmentFactory,
    CustomerFactory,
    InteractionFactory,
)

D = datetime.date
AS_OF = D(2026, 11, 20)


def features(as_of: datetime.date = AS_OF) -> dict[int, dict]:
    columns = ["aum", "aum_3m", "aum_6m", "aum_12m", *FEATURES]
    with connection.cursor() as cursor:
        write_features(cursor, as_of)
        cursor.execute(f"SELECT customer_id, {', '.join(columns)} FROM analysis_features")
        rows = cursor.fetchall()
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


@pytest.fixture
def branch(org):
    return org["11101"]


@pytest.mark.django_db
def test_aum_fall_gives_the_ratios_and_the_largest_monthly_outflow(branch):
    c = CustomerFactory(home_branch=branch)
    monthly(c, D(2025, 11, 1), "2000000")
    monthly(c, D(2026, 5, 1), "1500000")
    monthly(c, D(2026, 8, 1), "1200000", end="1200000")
    monthly(c, D(2026, 9, 1), "1100000", end="1000000")
    monthly(c, D(2026, 10, 1), "900000", end="700000")  # the largest fall: 300,000
    monthly(c, D(2026, 11, 1), "777600", end="650000")
    row = features()[c.pk]
    assert dec(row["aum"]) == Decimal("777600")
    assert dec(row["aum_3m"]) == Decimal("1200000")
    assert dec(row["aum_12m"]) == Decimal("2000000")
    assert dec(row["aum_change_3m"]) == Decimal("-0.3520")
    assert dec(row["aum_change_6m"]) == Decimal("-0.4816")
    assert dec(row["outflow"]) == Decimal("300000")


@pytest.mark.django_db
def test_no_aum_before_means_no_ratio_and_rising_aum_no_outflow(branch):
    c = CustomerFactory(home_branch=branch)
    monthly(c, D(2026, 10, 1), "1000", end="1000")
    monthly(c, D(2026, 11, 1), "5000", end="9000")
    row = features()[c.pk]
    assert row["aum_change_3m"] is None
    assert row["aum_change_6m"] is None
    assert dec(row["outflow"]) == 0
    assert dec(row["aum_12m"]) == 0


@pytest.mark.django_db
def test_matured_not_renewed_counts_its_last_balance_but_a_renewed_one_does_not(branch):
    gone = CustomerFactory(home_branch=branch)
    deposit = AccountFactory(
        customer=gone,
        category=AccountCategory.DEP_TIME,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 10, 15),
    )
    AccountBalance.objects.create(
        business_date=D(2026, 10, 14), account=deposit, balance=Decimal("80000"), cny_balance=Decimal("80000")
    )
    AccountBalance.objects.create(
        business_date=D(2026, 10, 15), account=deposit, balance=Decimal("81000"), cny_balance=Decimal("81000")
    )
    # paid out after maturity: not the balance at maturity
    AccountBalance.objects.create(
        business_date=D(2026, 10, 16), account=deposit, balance=Decimal("0"), cny_balance=Decimal("0")
    )
    renewed = CustomerFactory(home_branch=branch)
    old = AccountFactory(
        customer=renewed,
        category=AccountCategory.DEP_TIME,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 10, 15),
    )
    AccountBalance.objects.create(
        business_date=D(2026, 10, 15), account=old, balance=Decimal("50000"), cny_balance=Decimal("50000")
    )
    AccountFactory(customer=renewed, category=AccountCategory.DEP_TIME, open_date=D(2026, 10, 9))
    # renewed into another category does not count as renewed
    switched = CustomerFactory(home_branch=branch)
    wealth = AccountFactory(
        customer=switched,
        category=AccountCategory.WEALTH,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 9, 1),
    )
    AccountBalance.objects.create(
        business_date=D(2026, 8, 31), account=wealth, balance=Decimal("30000"), cny_balance=Decimal("30000")
    )
    AccountFactory(customer=switched, category=AccountCategory.DEP_TIME, open_date=D(2026, 9, 1))
    # still open (not closed now), or matured too long ago: not run off
    kept = CustomerFactory(home_branch=branch)
    AccountFactory(customer=kept, category=AccountCategory.DEP_TIME, maturity_date=D(2026, 11, 1))
    long_ago = AccountFactory(
        customer=kept,
        category=AccountCategory.DEP_TIME,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 8, 20),  # 92 days before AS_OF
    )
    AccountBalance.objects.create(
        business_date=D(2026, 8, 20), account=long_ago, balance=Decimal("9"), cny_balance=Decimal("9")
    )
    rows = features()
    assert dec(rows[gone.pk]["maturity_runoff"]) == Decimal("81000")
    assert dec(rows[renewed.pk]["maturity_runoff"]) == 0
    assert dec(rows[switched.pk]["maturity_runoff"]) == Decimal("30000")
    assert dec(rows[kept.pk]["maturity_runoff"]) == 0


@pytest.mark.django_db
def test_renewal_window_starts_seven_days_before_maturity(branch):
    c = CustomerFactory(home_branch=branch)
    deposit = AccountFactory(
        customer=c,
        category=AccountCategory.DEP_TIME,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 10, 15),
    )
    AccountBalance.objects.create(
        business_date=D(2026, 10, 15), account=deposit, balance=Decimal("5000"), cny_balance=Decimal("5000")
    )
    AccountFactory(customer=c, category=AccountCategory.DEP_TIME, open_date=D(2026, 10, 7))  # 8 days before
    assert dec(features()[c.pk]["maturity_runoff"]) == Decimal("5000")


@pytest.mark.django_db
def test_dormancy_and_transaction_change(branch):
    dormant = CustomerFactory(home_branch=branch)
    txns(dormant, D(2026, 3, 1), 4)  # before the 180-day window: found by the look-up
    txns(dormant, D(2026, 12, 1), 4)  # after as_of: not seen
    halved = CustomerFactory(home_branch=branch)
    txns(halved, D(2026, 6, 1), 10)  # in (as_of-180, as_of-90]
    txns(halved, D(2026, 8, 22), 10)  # (as_of - 90 is 2026-08-22: still "before")
    txns(halved, D(2026, 11, 18), 10)
    never = CustomerFactory(home_branch=branch)
    rows = features()
    assert rows[dormant.pk]["dormant_days"] == (AS_OF - D(2026, 3, 1)).days
    assert rows[dormant.pk]["txn_change"] is None
    assert rows[halved.pk]["dormant_days"] == 2
    assert dec(rows[halved.pk]["txn_change"]) == Decimal("-0.5000")
    assert rows[never.pk]["dormant_days"] is None
    assert rows[never.pk]["txn_change"] is None


@pytest.mark.django_db
def test_complaints_and_service_requests_in_twelve_months(branch):
    c = CustomerFactory(home_branch=branch)
    InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, 11, 20), 23))
    InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2025, 11, 21), 0))
    InteractionFactory(
        customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2025, 11, 20), 23)
    )  # too old
    InteractionFactory(
        customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, 11, 21), 0)
    )  # after
    InteractionFactory(customer=c, kind=InteractionKind.SERVICE_REQUEST, occurred_at=at(D(2026, 5, 1)))
    InteractionFactory(customer=c, kind=InteractionKind.VISIT, occurred_at=at(D(2026, 5, 1)))
    row = features()[c.pk]
    assert row["complaints"] == 2
    assert row["service_requests"] == 1


@pytest.mark.django_db
def test_manager_change_in_the_last_90_days(branch, make_user):
    m1 = make_user("client_manager")
    m2 = make_user("client_manager")
    changed = CustomerFactory(home_branch=branch)
    CustomerAssignmentFactory(
        customer=changed, manager=m1, start_date=D(2024, 1, 1), end_date=D(2026, 10, 31)
    )
    CustomerAssignmentFactory(customer=changed, manager=m2, start_date=D(2026, 11, 1))
    first = CustomerFactory(home_branch=branch)  # a first manager is no change
    CustomerAssignmentFactory(customer=first, manager=m1, start_date=D(2026, 11, 1))
    old = CustomerFactory(home_branch=branch)  # changed long ago
    CustomerAssignmentFactory(customer=old, manager=m1, start_date=D(2024, 1, 1), end_date=D(2025, 1, 1))
    CustomerAssignmentFactory(customer=old, manager=m2, start_date=D(2025, 1, 2))
    helper = CustomerFactory(home_branch=branch)  # an assisting manager is not of record
    CustomerAssignmentFactory(customer=helper, manager=m1, start_date=D(2024, 1, 1))
    CustomerAssignmentFactory(
        customer=helper, manager=m2, role=AssignmentRole.SECONDARY, start_date=D(2026, 11, 1)
    )
    rows = features()
    assert rows[changed.pk]["manager_changed"] == 1
    assert rows[first.pk]["manager_changed"] == 0
    assert rows[old.pk]["manager_changed"] == 0
    assert rows[helper.pk]["manager_changed"] == 0
    # as of a month end before the change, it has not happened yet
    assert features(D(2026, 10, 31))[changed.pk]["manager_changed"] == 0


@pytest.mark.django_db
def test_past_month_end_reads_the_history_not_the_current_figures(branch):
    c = CustomerFactory(home_branch=branch, aum=Decimal("1"), month_avg_aum=Decimal("1"))
    monthly(c, D(2026, 4, 1), "100000")
    monthly(c, D(2026, 7, 1), "50000")
    monthly(c, D(2026, 11, 1), "1")
    row = features(D(2026, 7, 31))[c.pk]
    assert dec(row["aum"]) == Decimal("50000")
    assert dec(row["aum_change_3m"]) == Decimal("-0.5000")


@pytest.mark.django_db
def test_merged_records_are_left_out_and_model_inputs_impute_missing_values(branch):
    kept = CustomerFactory(home_branch=branch)
    merged = CustomerFactory(home_branch=branch, merged_into=kept)
    with connection.cursor() as cursor:
        write_features(cursor, AS_OF)
        inputs = ", ".join(MODEL_INPUTS[name] for name in FEATURES)
        cursor.execute(f"SELECT customer_id, {inputs} FROM analysis_features")
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    assert merged.pk not in rows
    assert [float(v) for v in rows[kept.pk]] == [0.0] * len(FEATURES)


def test_feature_table_name_is_checked():
    with pytest.raises(ValueError):
        write_features(None, AS_OF, table="x; DROP TABLE customers_customer")


def test_months_before_keeps_the_day_or_the_month_end():
    assert months_before(D(2026, 11, 20), 12) == D(2025, 11, 20)
    assert months_before(D(2024, 2, 29), 12) == D(2023, 2, 28)
    assert months_before(D(2026, 5, 31), 3) == D(2026, 2, 28)

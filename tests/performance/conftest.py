"""A small known data set for the performance figures (docs/performance.md): five
loaded batches around a weekend, two managers of two outlets, a mid-period transfer,
split credit, intermediary income, an unassigned customer and one assigned part of
the period. Every figure of it is worked out by hand in test_definitions.py."""

import datetime
from decimal import Decimal

import pytest

from customers.aum import write_daily_figures
from customers.choices import AccountCategory, AssignmentRole, BatchStatus, IncomeType
from customers.models import AccountBalance, BatchLoad, IncomeEntry
from tests.customers.factories import AccountFactory, CustomerAssignmentFactory, CustomerFactory

D = datetime.date
# Loaded batches: a Friday in October, then Monday, Friday, Monday, Tuesday of November.
BATCHES = [D(2026, 10, 30), D(2026, 11, 2), D(2026, 11, 6), D(2026, 11, 9), D(2026, 11, 10)]


def _batch(day):
    BatchLoad.objects.create(
        business_date=day, status=BatchStatus.LOADED, source=f"/in/{day:%Y%m%d}", started_via="test"
    )


def _balances(account, by_day):
    for day, amount in by_day.items():
        AccountBalance.objects.create(
            business_date=day, account=account, balance=Decimal(amount), cny_balance=Decimal(amount)
        )


@pytest.fixture
def world(org, make_user):
    m1 = make_user("client_manager", "11101", username="m1")
    m2 = make_user("client_manager", "11102", username="m2")
    for day in BATCHES:
        _batch(day)
    every = dict.fromkeys(BATCHES, "0")

    # A: M1 all month; a current account growing, a time deposit closed after 2 November
    a = CustomerFactory(home_branch=org["11101"], primary_manager=m1)
    CustomerAssignmentFactory(customer=a, manager=m1, start_date=D(2026, 1, 1))
    current = AccountFactory(customer=a, category=AccountCategory.DEP_CUR)
    _balances(current, dict(zip(BATCHES, ["1000", "2000", "3000", "4000", "5000"], strict=True)))
    term = AccountFactory(customer=a, category=AccountCategory.DEP_TIME)
    _balances(term, {BATCHES[0]: "10000", BATCHES[1]: "10000"})

    # B: a mortgage; M1 until 5 November, M2 from the 6th
    b = CustomerFactory(home_branch=org["11101"], primary_manager=m2)
    CustomerAssignmentFactory(customer=b, manager=m1, start_date=D(2026, 1, 1), end_date=D(2026, 11, 5))
    CustomerAssignmentFactory(customer=b, manager=m2, start_date=D(2026, 11, 6))
    _balances(
        AccountFactory(customer=b, category=AccountCategory.LOAN_MORTGAGE), dict.fromkeys(every, "100000")
    )

    # C: M2 of record, M1 assisting with 30%; a wealth product and fund fees (one reversed)
    c = CustomerFactory(home_branch=org["11102"], primary_manager=m2)
    CustomerAssignmentFactory(customer=c, manager=m2, start_date=D(2026, 1, 1))
    CustomerAssignmentFactory(
        customer=c,
        manager=m1,
        role=AssignmentRole.SECONDARY,
        credit_share=Decimal("30"),
        start_date=D(2026, 1, 1),
    )
    _balances(AccountFactory(customer=c, category=AccountCategory.WEALTH), dict.fromkeys(every, "20000"))
    IncomeEntry.objects.create(
        business_date=D(2026, 11, 3),
        customer=c,
        income_type=IncomeType.AGENCY_FUND,
        cny_amount=Decimal("100"),
    )
    IncomeEntry.objects.create(
        business_date=D(2026, 11, 9),
        customer=c,
        income_type=IncomeType.AGENCY_FUND,
        cny_amount=Decimal("-20"),
    )
    # income of October is not November's
    IncomeEntry.objects.create(
        business_date=D(2026, 10, 30), customer=c, income_type=IncomeType.OTHER, cny_amount=Decimal("999")
    )

    # D: nobody's customer; E: M2's from 4 November only
    d = CustomerFactory(home_branch=org["11101"])
    _balances(AccountFactory(customer=d, category=AccountCategory.DEP_CUR), dict.fromkeys(every, "500"))
    e = CustomerFactory(home_branch=org["11101"], primary_manager=m2)
    CustomerAssignmentFactory(customer=e, manager=m2, start_date=D(2026, 11, 4))
    _balances(AccountFactory(customer=e, category=AccountCategory.DEP_CUR), dict.fromkeys(every, "1000"))
    # what the load derives from each batch's balances (customers.aum)
    for day in BATCHES:
        write_daily_figures(day)
    return {"m1": m1, "m2": m2, "a": a, "b": b, "c": c, "d": d, "e": e, "org": org}


@pytest.fixture
def computed(world):
    from performance.services import performance_run

    performance_run("2026-11")
    return world


@pytest.fixture
def as_user(client, login, demo_password):
    """A client logged in as the user (a demo user with the demo password)."""

    def _as(user):
        client.logout()
        return login(user, demo_password) if user.username.startswith("demo_") else login(user)

    return _as


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    """Run the jobs a service starts once its transaction commits (a test's own
    transaction never commits): `with jobs(): publication_propose(...)`."""
    return lambda: django_capture_on_commit_callbacks(execute=True)

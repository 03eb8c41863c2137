"""docs/performance.md on a small known data set, every figure worked out by hand:
carry-forward over a weekend, an account closed mid-period, a mid-period transfer,
split credit, an unassigned customer and one assigned part of the period; managers
plus pool equal the bank."""

from decimal import Decimal

import pytest

from performance.choices import VersionStatus
from performance.models import CustomerResult, ManagerResult
from performance.services import performance_run
from tests.performance.conftest import D

pytestmark = pytest.mark.django_db


def figures(version, manager=None, branch=None):
    row = ManagerResult.objects.get(
        version=version, manager=manager, **({"branch": branch} if branch else {})
    )
    names = ("deposit_avg", "loan_avg", "aum_avg", "liability", "asset", "intermediary", "total")
    return {name: getattr(row, name) for name in names}


def money(*values):
    return dict(
        zip(
            ("deposit_avg", "loan_avg", "aum_avg", "liability", "asset", "intermediary", "total"),
            (Decimal(v) for v in values),
            strict=True,
        )
    )


def test_the_counted_days_run_to_the_last_loaded_date(world):
    version = performance_run("2026-11")
    assert version.status == VersionStatus.PROVISIONAL and version.number == 0
    assert version.counted_through == D(2026, 11, 10) and version.counted_days == 10
    assert version.ftp_spreads["DEP_CUR"] == "0.0200"


def test_each_managers_figures_are_the_definitions(world):
    version = performance_run("2026-11")
    # M1: A's deposits (1000x1 + 2000x4 + 3000x3 + 4000 + 5000 = 27,000 current and
    # 10000x5 = 50,000 term balance-days), B's mortgage for 5 days, 30% of C's
    # wealth and fees; contribution (27000x0.02 + 50000x0.008)/365 = 2.5753...,
    # 500000x0.01/365 = 13.6986..., fees 0.3 x 80 = 24
    assert figures(version, world["m1"]) == money(
        "7700.00", "50000.00", "13700.00", "2.58", "13.70", "24.00", "40.27"
    )
    # M2: B for 6-10 November, 70% of C, E from the 4th (7 days of 1000)
    assert figures(version, world["m2"]) == money(
        "700.00", "50000.00", "14700.00", "0.38", "13.70", "56.00", "70.08"
    )


def test_days_without_a_manager_count_for_the_home_branch(world):
    version = performance_run("2026-11")
    # D all month (500 x 10) and E before the 4th (1000 x 3): 8,000 balance-days
    assert figures(version, None, world["org"]["11101"]) == money(
        "800.00", "0.00", "800.00", "0.44", "0.00", "0.00", "0.44"
    )
    pool = CustomerResult.objects.filter(version=version, manager=None)
    assert {r.customer_id for r in pool} == {world["d"].pk, world["e"].pk}


def test_nothing_is_lost_nor_counted_twice(world):
    version = performance_run("2026-11")
    rows = CustomerResult.objects.filter(version=version)
    per_customer: dict[int, Decimal] = {}
    for row in rows:
        per_customer[row.customer_id] = per_customer.get(row.customer_id, Decimal(0)) + row.aum_days
    # every customer's AUM balance-days, whoever counts them, are the customer's own
    # (B holds a mortgage only: no AUM)
    assert {pk: days for pk, days in per_customer.items() if days} == {
        world["a"].pk: Decimal("77000"),
        world["c"].pk: Decimal("200000"),
        world["d"].pk: Decimal("5000"),
        world["e"].pk: Decimal("10000"),
    }
    totals = ManagerResult.objects.filter(version=version)
    assert sum(r.deposit_avg for r in totals) == Decimal("9200.00")
    assert sum(r.loan_avg for r in totals) == Decimal("100000.00")


def test_running_again_replaces_the_provisional_figures(world):
    first = performance_run("2026-11")
    rows = ManagerResult.objects.filter(version=first).count()
    again = performance_run("2026-11")
    assert again.pk == first.pk and ManagerResult.objects.filter(version=again).count() == rows


def test_a_period_before_any_load_has_no_figures(world):
    version = performance_run("2026-12")
    assert version.counted_days == 0 and version.counted_through is None
    assert not ManagerResult.objects.filter(version=version).exists()


def test_a_quarter_counts_from_its_first_day(world):
    version = performance_run("2026-Q4")
    # 1 October to 10 November: October has only the 30 October batch (2 days, to the 31st)
    assert version.counted_days == 41
    # October's 999 of fees for C now counts too: 30% of (999 + 100 - 20)
    assert figures(version, world["m1"])["intermediary"] == Decimal("323.70")


def test_a_change_of_manager_on_a_day_counts_that_day_once_for_the_new_manager(world):
    """The portal's own transfers end the old assignment on the day the new one
    starts (customers.services.assignment_set_primary): that day is the new
    manager's, not both managers'."""
    from customers.models import CustomerAssignment

    b = world["b"]
    CustomerAssignment.objects.filter(customer=b, manager=world["m1"]).update(end_date=D(2026, 11, 6))
    version = performance_run("2026-11")
    assert figures(version, world["m1"])["loan_avg"] == Decimal("50000.00")  # 1-5 November
    assert figures(version, world["m2"])["loan_avg"] == Decimal("50000.00")  # 6-10 November

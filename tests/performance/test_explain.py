"""A customer's figures explained day range by day range add up to exactly what the
period's computation credited, manager by manager, and the ranges name the shares
of the hand-worked data set."""

from decimal import Decimal

import pytest
from django.http import Http404

from customers.aum import write_daily_figures
from customers.models import AccountBalance
from performance import engine
from performance.drill import customer_explanation
from performance.models import CustomerResult, ManagerResult
from performance.parameters import spreads_for
from performance.services import performance_run
from tests.performance.conftest import D

pytestmark = pytest.mark.django_db


def _explained(version, customer):
    return engine.explain(
        customer.pk,
        start=version.period.start,
        through=version.counted_through,
        spreads=spreads_for(version.period),
    )


def test_every_customer_row_is_the_sum_of_its_explained_days(world):
    version = performance_run("2026-11")
    for key in ("a", "b", "c", "d", "e"):
        customer = world[key]
        days, income = _explained(version, customer)
        rows = CustomerResult.objects.filter(version=version, customer=customer)
        assert rows.exists()
        for row in rows:
            mine = [d for d in days if d.manager_id == row.manager_id]
            assert sum(d.share * d.days * d.deposit for d in mine) == pytest.approx(row.deposit_days)
            assert sum(d.share * d.days * d.aum for d in mine) == pytest.approx(row.aum_days)
            assert sum(d.share * d.days * d.loan for d in mine) == pytest.approx(row.loan_days)
            assert sum(d.liability for d in mine) == pytest.approx(row.liability, abs=Decimal("1e-6"))
            assert sum(d.asset for d in mine) == pytest.approx(row.asset, abs=Decimal("1e-6"))
            credited = sum((i.credited for i in income if i.manager_id == row.manager_id), Decimal(0))
            assert credited == pytest.approx(row.intermediary)


def test_the_ranges_show_the_transfer_the_weekend_and_the_split(world):
    version = performance_run("2026-11")
    days, _income = _explained(version, world["b"])
    # B: M1 until Thursday 5 November, M2 from Friday 6th; Friday's balance carries
    # over the weekend to Sunday 8th
    by_manager = {(d.manager_id, d.first, d.last) for d in days}
    assert (world["m1"].pk, D(2026, 11, 2), D(2026, 11, 5)) in by_manager
    assert (world["m2"].pk, D(2026, 11, 6), D(2026, 11, 8)) in by_manager
    days, income = _explained(version, world["c"])
    shares = {d.manager_id: d.share for d in days}
    assert shares == {world["m2"].pk: Decimal("0.7"), world["m1"].pk: Decimal("0.3")}
    assert {(i.day, i.amount) for i in income} == {
        (D(2026, 11, 3), Decimal("100")),
        (D(2026, 11, 9), Decimal("-20")),
    }


def test_an_unassigned_customer_is_explained_as_the_pool(world):
    version = performance_run("2026-11")
    days, _income = _explained(version, world["d"])
    assert {d.manager_id for d in days} == {None}
    assert sum(d.days for d in days) == 10  # every counted day


def test_the_drill_down_below_a_customer_adds_up_and_masks_what_is_not_the_users(world):
    version = performance_run("2026-11")
    m1 = world["m1"]
    result = ManagerResult.objects.get(version=version, manager=m1)
    own = customer_explanation(m1, result, world["a"].pk)
    assert own.matches and own.total == own.stored_total
    assert own.name == world["a"].name
    assert own.accounts and {line.category for line in own.accounts} == {"Current deposit", "Time deposit"}
    assert all("*" in line.account_no for line in own.accounts)
    # C is M2's customer; M1 assists with 30% (running): C is in M1's scope, accounts and name shown
    assisted = customer_explanation(m1, result, world["c"].pk)
    assert assisted.matches and assisted.accounts and assisted.name == world["c"].name
    # B was M1's until the 5th, M2's since: M1 sees the days and balances, not the accounts or the name
    former = customer_explanation(m1, result, world["b"].pk)
    assert former.matches and former.accounts is None
    assert former.name != world["b"].name and "*" in former.name
    with pytest.raises(Http404):  # a customer that brought M1 nothing
        customer_explanation(m1, result, world["d"].pk)


def test_the_drill_down_says_when_the_data_changed_since_the_version(world):
    version = performance_run("2026-11")
    result = ManagerResult.objects.get(version=version, manager=world["m1"])
    AccountBalance.objects.filter(business_date=D(2026, 11, 10), account__customer=world["a"]).update(
        cny_balance=Decimal("15000")
    )
    write_daily_figures(D(2026, 11, 10))
    assert not customer_explanation(world["m1"], result, world["a"].pk).matches

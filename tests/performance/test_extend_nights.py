"""A night's extension gives the whole computation's figures whatever the assignments
do within the added days: a customer whose manager of record changes on one of them,
or who has an assisting manager, is credited day range by day range; the others for
the whole night by their manager of record of the last day (a change on the first
added day included), or the pool without one."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customers.choices import AssignmentRole
from customers.models import BatchLoad, CustomerAssignment
from performance.models import CustomerResult
from performance.services import performance_run
from tests.customers.factories import CustomerAssignmentFactory
from tests.performance.conftest import D
from tests.performance.test_extend import (
    _computed_whole,
    _extended,
    _hold_back_the_last_days,
    _load_them,
    _rows,
)

pytestmark = pytest.mark.django_db

# the first run counts up to Friday 6 November; the night adds 7 to 10 November


def _end(customer, role, day):
    CustomerAssignment.objects.filter(customer=customer, role=role, end_date__isnull=True).update(
        end_date=day
    )


def _assist(world, customer, manager, share, start, end=None):
    CustomerAssignmentFactory(
        customer=world[customer],
        manager=world[manager],
        role=AssignmentRole.SECONDARY,
        credit_share=Decimal(share),
        start_date=start,
        end_date=end,
    )


def _transfer_within(world):
    # A: M1's until Sunday 8 November, M2's from Monday 9
    _end(world["a"], AssignmentRole.PRIMARY, D(2026, 11, 8))
    CustomerAssignmentFactory(customer=world["a"], manager=world["m2"], start_date=D(2026, 11, 9))


def _transfer_on_the_first_day(world):
    # B: M2's until the last counted day, M1's from the first added one
    _end(world["b"], AssignmentRole.PRIMARY, D(2026, 11, 6))
    CustomerAssignmentFactory(customer=world["b"], manager=world["m1"], start_date=D(2026, 11, 7))


def _record_ends_within(world):
    # E: nobody's from Monday 9 November (the pool's)
    _end(world["e"], AssignmentRole.PRIMARY, D(2026, 11, 8))


def _assisting_starts_within(world):
    _assist(world, "a", "m2", "40", D(2026, 11, 9))


def _assisting_ends_within(world):
    _end(world["c"], AssignmentRole.SECONDARY, D(2026, 11, 9))


def _assisting_replaced_within(world):
    # C: a second assisting manager from Monday 9 November ends M1's assistance the day before
    _assist(world, "c", "m2", "20", D(2026, 11, 9))


def _assisting_replaced_on_the_first_day(world):
    _assist(world, "c", "m2", "20", D(2026, 11, 7))


def _assisting_a_pool_customer(world):
    # D, nobody's customer: M1 assists with 30% from the first added day
    _assist(world, "d", "m1", "30", D(2026, 11, 7))


def _assisting_own_customer(world):
    # A's manager of record also assisting: still all A's
    _assist(world, "a", "m1", "25", D(2026, 11, 7))


def _assisting_with_everything(world):
    # M1 assists B with 100%: M2, of record, counts nothing of the added days
    _assist(world, "b", "m1", "100", D(2026, 11, 7))


NIGHTS = {
    "transfer within": _transfer_within,
    "transfer on the first day": _transfer_on_the_first_day,
    "record ends within": _record_ends_within,
    "assisting starts within": _assisting_starts_within,
    "assisting ends within": _assisting_ends_within,
    "assisting replaced within": _assisting_replaced_within,
    "assisting replaced on the first day": _assisting_replaced_on_the_first_day,
    "assisting a pool customer": _assisting_a_pool_customer,
    "assisting own customer": _assisting_own_customer,
    "assisting with everything": _assisting_with_everything,
}


@pytest.mark.parametrize("night", NIGHTS)
def test_a_night_with_assignments_changing_gives_the_whole_computation(world, night):
    _hold_back_the_last_days()
    first = performance_run("2026-11")
    NIGHTS[night](world)
    _load_them()
    version = performance_run("2026-11")
    assert version.pk == first.pk and _extended(version)
    assert version.counted_through == D(2026, 11, 10)
    assert _rows(version) == _computed_whole(version)


def test_a_transfer_within_the_night_splits_its_days(world):
    _hold_back_the_last_days()
    performance_run("2026-11")
    _transfer_within(world)
    _load_them()
    version = performance_run("2026-11")
    assert _extended(version)
    a = {
        r.manager_id: r.deposit_days
        for r in CustomerResult.objects.filter(version=version, customer=world["a"])
    }
    # A's current account: 3000 on 6 to 8 November (M1), 4000 on the 9th and 5000 on the 10th (M2);
    # its time deposit closed after 2 November
    assert a == {world["m1"].pk: Decimal("1000") + 2000 * 4 + 3000 * 3 + 10000 * 5, world["m2"].pk: 9000}


def test_a_night_without_a_change_credits_the_managers_of_the_last_day(world):
    _hold_back_the_last_days()
    performance_run("2026-11")
    _assisting_a_pool_customer(world)
    _load_them()
    version = performance_run("2026-11")
    assert _extended(version)
    d = {
        r.manager_id: r.deposit_days
        for r in CustomerResult.objects.filter(version=version, customer=world["d"])
    }
    # D's 500 a day: all the pool's up to the 6th, then 30% M1's
    assert d == {None: 500 * 6 + Decimal("350") * 4, world["m1"].pk: 150 * 4}


@pytest.mark.parametrize("night", [None, "assisting starts", "transfer"])
def test_a_night_of_one_batch_gives_the_whole_computation(world, night):
    # counted up to Monday 9 November; the night adds Tuesday 10 November alone
    BatchLoad.objects.filter(business_date=D(2026, 11, 10)).update(status="failed")
    first = performance_run("2026-11")
    assert first.counted_through == D(2026, 11, 9)
    if night == "assisting starts":
        _assist(world, "a", "m2", "40", D(2026, 11, 10))
    elif night == "transfer":
        _end(world["a"], AssignmentRole.PRIMARY, D(2026, 11, 9))
        CustomerAssignmentFactory(customer=world["a"], manager=world["m2"], start_date=D(2026, 11, 10))
    BatchLoad.objects.filter(business_date=D(2026, 11, 10)).update(
        status="loaded", finished_at=timezone.now()
    )
    version = performance_run("2026-11")
    assert version.pk == first.pk and _extended(version)
    assert version.counted_through == D(2026, 11, 10)
    assert _rows(version) == _computed_whole(version)

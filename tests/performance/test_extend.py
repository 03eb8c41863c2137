"""The nightly run extends an open period by the new days alone, and gives exactly
the figures a whole computation gives; anything that changes a day already counted
makes it compute the period whole."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from customers.models import BatchLoad, CustomerAssignment, CustomerMerge
from performance import engine
from performance.models import CustomerResult, FtpSpreads, ManagerResult, Period
from performance.parameters import spreads_for
from performance.services import performance_run
from tests.customers.factories import CustomerAssignmentFactory
from tests.performance.conftest import BATCHES, D

pytestmark = pytest.mark.django_db

LATER = BATCHES[3:]  # Monday 9 and Tuesday 10 November


def _hold_back_the_last_days():
    """The world as it stood on Friday 6 November: 9 and 10 November not loaded yet."""
    BatchLoad.objects.filter(business_date__in=LATER).update(status="failed")


def _load_them():
    BatchLoad.objects.filter(business_date__in=LATER).update(status="loaded", finished_at=timezone.now())


def _rows(version):
    customers = {
        (r.customer_id, r.manager_id): tuple(
            round(getattr(r, c), 6) for c in ("deposit_days", "loan_days", "aum_days", "liability", "asset")
        )
        + (round(r.intermediary, 6),)
        for r in CustomerResult.objects.filter(version=version)
    }
    managers = {
        (r.manager_id, r.branch_id): (r.deposit_avg, r.loan_avg, r.aum_avg, r.total)
        for r in ManagerResult.objects.filter(version=version)
    }
    return customers, managers


def _extended(version) -> bool:
    event = AuditEvent.objects.filter(action="performance_computed").order_by("-id").first()
    return event.details["extended"]


def _computed_whole(version):
    """The same version computed from scratch, for comparison."""
    engine.compute(
        version, start=D(2026, 11, 1), through=version.counted_through, spreads=spreads_for(version.period)
    )
    return _rows(version)


def test_the_nightly_run_adds_the_new_days_and_gives_the_whole_computation(world):
    _hold_back_the_last_days()
    first = performance_run("2026-11")
    assert first.counted_through == D(2026, 11, 6) and not _extended(first)

    _load_them()
    version = performance_run("2026-11")
    assert version.pk == first.pk and _extended(version)
    assert version.counted_through == D(2026, 11, 10) and version.counted_days == 10
    extended = _rows(version)
    # the hand-worked figures of test_definitions: M1's contribution is 40.27
    m1 = ManagerResult.objects.get(version=version, manager=world["m1"])
    assert m1.total == Decimal("40.27")
    assert extended == _computed_whole(version)


def test_a_run_with_nothing_new_computes_whole_and_changes_nothing(world):
    version = performance_run("2026-11")
    before = _rows(version)
    again = performance_run("2026-11")
    assert not _extended(again) and _rows(again) == before


@pytest.mark.parametrize("change", ["backdated_assignment", "reloaded_day", "spreads", "merge"])
def test_a_change_to_a_counted_day_computes_the_period_whole(world, make_user, change):
    _hold_back_the_last_days()
    version = performance_run("2026-11")
    _load_them()
    if change == "backdated_assignment":
        # D, nobody's customer, is found to have been M1's since 2 November
        CustomerAssignmentFactory(customer=world["d"], manager=world["m1"], start_date=D(2026, 11, 2))
    elif change == "reloaded_day":
        BatchLoad.objects.filter(business_date=BATCHES[1]).update(finished_at=timezone.now())
    elif change == "spreads":
        period = Period.objects.get(code="2026-11")
        FtpSpreads.objects.create(period=period, spreads={**version.ftp_spreads, "DEP_CUR": "0.0300"})
    else:
        CustomerMerge.objects.create(
            survivor=world["a"], merged=world["e"], merged_by=make_user("branch_head"), reason="duplicate"
        )
    version = performance_run("2026-11")
    assert not _extended(version)
    assert _rows(version) == _computed_whole(version)
    if change == "backdated_assignment":
        assert CustomerResult.objects.filter(
            version=version, customer=world["d"], manager=world["m1"]
        ).exists()


def test_an_assignment_recorded_for_a_day_not_yet_counted_still_extends(world):
    _hold_back_the_last_days()
    performance_run("2026-11")
    _load_them()
    # D becomes M2's from Tuesday 10 November, a day the first run did not count
    CustomerAssignmentFactory(customer=world["d"], manager=world["m2"], start_date=D(2026, 11, 10))
    version = performance_run("2026-11")
    assert _extended(version)
    assert _rows(version) == _computed_whole(version)
    share = CustomerResult.objects.get(version=version, customer=world["d"], manager=world["m2"])
    assert share.deposit_days == Decimal("500")  # one day of 500
    assert CustomerAssignment.objects.filter(customer=world["d"]).count() == 1


def _computations_of_days(queries) -> int:
    """Computations of days (whole or added): each sums the loaded days once."""
    return sum(q["sql"].startswith("CREATE TEMP TABLE perf_whole") for q in queries)


@pytest.mark.parametrize("year_spreads", ["same", "own"])
def test_a_night_computes_its_days_once_for_the_month_quarter_and_year(world, year_spreads):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from performance.services import refresh_after_load

    _hold_back_the_last_days()
    codes = ("2026", "2026-11", "2026-Q4")
    before = {code: performance_run(code) for code in codes}
    if year_spreads == "own":  # the year's spreads change: it is computed whole, on its own
        FtpSpreads.objects.create(
            period=before["2026"].period, spreads={**before["2026"].ftp_spreads, "DEP_CUR": "0.0300"}
        )
    _load_them()
    with CaptureQueriesContext(connection) as night:
        versions = refresh_after_load(LATER)
    assert [v.period.code for v in versions] == sorted(codes)
    assert _computations_of_days(night.captured_queries) == {"same": 1, "own": 2}[year_spreads]
    for version in versions:
        assert version.pk == before[version.period.code].pk
        assert _extended_version(version) == (year_spreads == "same" or version.period.code != "2026")
        assert _rows(version) == _computed_whole_from(version, version.period.start)
    if connection.vendor == "postgresql":  # nothing left behind in the connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('pg_temp.perf_new_days_1')")
            assert cursor.fetchone()[0] is None


def _extended_version(version) -> bool:
    event = (
        AuditEvent.objects.filter(action="performance_computed", target_id=str(version.pk))
        .order_by("-id")
        .first()
    )
    return event.details["extended"]


def _computed_whole_from(version, start):
    engine.compute(version, start=start, through=version.counted_through, spreads=spreads_for(version.period))
    return _rows(version)

"""Closing a period and recalculating a published one, maker-checker: nothing
replaces a published figure until a second person approves; every version stays
readable; a change between versions names its cause."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from customers.aum import write_daily_figures
from customers.models import AccountBalance
from performance.choices import PeriodStatus, VersionStatus
from performance.models import ManagerResult, Period
from performance.publication import publication_decide, publication_propose, version_diff
from performance.services import performance_run, refresh_after_load
from tests.performance.conftest import BATCHES, D

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world, demo_users, make_user):
    return {
        "maker": demo_users["demo_bm"],
        "checker": make_user("business_manager", "10000", username="bm2"),
        "manager": world["m1"],
    }


def m1_total(version, world):
    return ManagerResult.objects.get(version=version, manager=world["m1"]).total


def test_closing_waits_for_a_second_person_then_publishes_version_1(world, people, jobs):
    provisional = performance_run("2026-11")
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    version = publication.version
    assert version.number == 1 and version.status == VersionStatus.PENDING
    assert Period.objects.get(code="2026-11").status == PeriodStatus.OPEN
    with pytest.raises(PermissionDenied):
        publication_decide(publication=publication, by=people["maker"], approve=True)
    with pytest.raises(PermissionDenied):
        publication_decide(publication=publication, by=people["manager"], approve=True)
    publication_decide(publication=publication, by=people["checker"], approve=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert Period.objects.get(code="2026-11").status == PeriodStatus.CLOSED
    assert m1_total(version, world) == m1_total(provisional, world) == Decimal("40.27")
    assert AuditEvent.objects.filter(action="performance_published").exists()


def test_a_published_version_is_untouched_by_new_data_until_a_recalculation_is_approved(world, people, jobs):
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    publication_decide(publication=publication, by=people["checker"], approve=True)
    published = publication.version
    # a correction arrives: A's current account on 10 November was 15,000, not 5,000
    AccountBalance.objects.filter(business_date=BATCHES[-1], account__customer=world["a"]).update(
        cny_balance=Decimal("15000"), balance=Decimal("15000")
    )
    write_daily_figures(BATCHES[-1])  # as the re-load of that batch derives it
    refresh_after_load([D(2026, 11, 10)])  # the nightly step leaves a closed period alone
    with pytest.raises(ValidationError):
        performance_run("2026-11")
    assert m1_total(published, world) == Decimal("40.27")

    with jobs():
        again = publication_propose(
            code="2026-11", by=people["maker"], reason="Balance correction of the 10th"
        )
    recalculated = again.version
    assert recalculated.number == 2 and recalculated.status == VersionStatus.PENDING
    changes = {c.manager_id: c for c in version_diff(published, recalculated)}
    assert set(changes) == {world["m1"].pk}  # only M1's customer changed
    assert changes[world["m1"].pk].causes == ("data",)
    assert changes[world["m1"].pk].delta["deposit_avg"] == Decimal("1000.00")  # 10,000 more for one day / 10
    with pytest.raises(ValidationError):  # one proposal at a time
        publication_propose(code="2026-11", by=people["maker"], reason="Again")

    publication_decide(publication=again, by=people["checker"], approve=True)
    published.refresh_from_db()
    recalculated.refresh_from_db()
    assert published.status == VersionStatus.SUPERSEDED and recalculated.status == VersionStatus.PUBLISHED
    assert m1_total(published, world) == Decimal("40.27")  # still readable, as it was


def test_a_rejection_needs_a_reason_and_leaves_the_published_figures(world, people, jobs):
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    with pytest.raises(ValidationError):
        publication_decide(publication=publication, by=people["checker"], approve=False, note="")
    publication_decide(publication=publication, by=people["checker"], approve=False, note="Loads missing")
    publication.version.refresh_from_db()
    assert publication.version.status == VersionStatus.REJECTED
    assert Period.objects.get(code="2026-11").status == PeriodStatus.OPEN


def test_proposing_needs_the_permission_and_a_reason(world, people):
    with pytest.raises(PermissionDenied):
        publication_propose(code="2026-11", by=people["manager"], reason="Month end close")
    with pytest.raises(ValidationError):
        publication_propose(code="2026-11", by=people["maker"], reason="")


def test_a_rule_change_is_named_as_the_cause(world, people, jobs):
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    publication_decide(publication=publication, by=people["checker"], approve=True)
    published = publication.version
    published.ftp_spreads = {
        **published.ftp_spreads,
        "DEP_CUR": "0.0300",
    }  # as if computed under another rule
    published.save(update_fields=["ftp_spreads"])
    ManagerResult.objects.filter(version=published, manager=world["m1"]).update(total=Decimal("1"))
    with jobs():
        again = publication_propose(code="2026-11", by=people["maker"], reason="New spreads")
    causes = {c.manager_id: c.causes for c in version_diff(published, again.version)}
    assert causes[world["m1"].pk] == ("rule",)


def test_the_run_command_refuses_a_bad_period_and_a_closed_one(world, people, jobs):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a period"):
        call_command("performance_run", period="2026-13")
    with jobs():
        publication = publication_propose(code="2026-11", by=people["maker"], reason="Month end close")
    publication_decide(publication=publication, by=people["checker"], approve=True)
    with pytest.raises(CommandError, match="closed"):
        call_command("performance_run", period="2026-11")
    assert m1_total(publication.version, world) == Decimal("40.27")

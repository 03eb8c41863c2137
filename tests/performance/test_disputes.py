"""A manager disputes a credited customer; the branch head decides; an approval
corrects the assignment history of exactly those days and computes the periods
again (an open one at once, a closed one as a recalculation waiting for a second
person)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from core.approvals import ApprovalStatus
from customers.models import CustomerAssignment
from performance.choices import DisputeClaim, VersionStatus
from performance.disputes import correct_history, dispute_decide, dispute_raise
from performance.models import CustomerResult, ManagerResult, Period
from performance.publication import publication_decide, publication_propose
from performance.services import performance_run
from tests.performance.conftest import D

pytestmark = pytest.mark.django_db


@pytest.fixture
def nov(world):
    performance_run("2026-11")
    return Period.objects.get(code="2026-11")


def _raise(world, nov, manager="m1", customer="d", claim=DisputeClaim.MINE, first=None, last=None, reason=""):
    return dispute_raise(
        by=world[manager],
        period=nov,
        customer=world[customer],
        claim=claim,
        first_day=first or D(2026, 11, 2),
        last_day=last or D(2026, 11, 6),
        reason=reason or "I opened this customer's account on 2 November",
    )


def _credited(customer, manager):
    version = Period.objects.get(code="2026-11").versions.get(number=0)
    row = CustomerResult.objects.filter(version=version, customer=customer, manager=manager).first()
    return row.deposit_days if row else Decimal("0")


def test_an_approved_claim_credits_the_manager_with_exactly_those_days(world, nov, demo_users, jobs):
    assert _credited(world["d"], world["m1"]) == 0
    dispute = _raise(world, nov)
    assert AuditEvent.objects.filter(action="dispute_raised").exists()
    with jobs():
        decided = dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True)
    decided.refresh_from_db()  # the recalculation's job recorded what it computed
    assert decided.status == ApprovalStatus.APPROVED and decided.manager_of_record == world["m1"]
    # D's current account holds 500 a day: 2..6 November are five days for M1,
    # the other five counted days stay in the pool
    assert _credited(world["d"], world["m1"]) == Decimal("2500")
    assert _credited(world["d"], None) == Decimal("2500")
    history = list(
        CustomerAssignment.objects.filter(customer=world["d"]).values_list(
            "manager_id", "start_date", "end_date"
        )
    )
    assert history == [(world["m1"].pk, D(2026, 11, 2), D(2026, 11, 6))]
    assert decided.recalculated[0] == {"period": "2026-11", "version": 0, "status": VersionStatus.PROVISIONAL}
    event = AuditEvent.objects.get(action="dispute_decided")
    assert (
        event.details["dispute"] == dispute.pk and event.details["days_count_for"] == world["m1"].employee_no
    )


def test_a_claim_against_another_manager_splits_their_assignment_around_the_days(
    world, nov, demo_users, jobs
):
    # A is M1's all month; M2 claims 3..4 November
    dispute = _raise(world, nov, manager="m2", customer="a", first=D(2026, 11, 3), last=D(2026, 11, 4))
    with jobs():
        dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True)
    rows = list(
        CustomerAssignment.objects.filter(customer=world["a"])
        .order_by("start_date")
        .values_list("manager_id", "start_date", "end_date")
    )
    assert rows == [
        (world["m1"].pk, D(2026, 1, 1), D(2026, 11, 2)),
        (world["m2"].pk, D(2026, 11, 3), D(2026, 11, 4)),
        (world["m1"].pk, D(2026, 11, 5), None),
    ]
    world["a"].refresh_from_db()
    assert world["a"].primary_manager == world["m1"]  # still M1's today
    # 3 and 4 November carry the 2nd's balances: 2,000 current and 10,000 time deposit
    assert _credited(world["a"], world["m2"]) == Decimal("24000")


def test_a_not_mine_claim_gives_the_days_to_the_named_manager_or_the_pool(world, nov, demo_users, jobs):
    dispute = _raise(
        world, nov, customer="a", claim=DisputeClaim.NOT_MINE, first=D(2026, 11, 9), last=D(2026, 11, 10)
    )
    with jobs():
        dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True, manager=None)
    assert _credited(world["a"], None) == Decimal("9000")  # 4,000 on the 9th, 5,000 on the 10th
    with pytest.raises(ValidationError):  # not credited to M2: nothing to give away
        _raise(world, nov, manager="m2", customer="d", claim=DisputeClaim.NOT_MINE)


def test_what_a_dispute_may_not_be(world, nov, demo_users, make_user):
    with pytest.raises(ValidationError):  # beyond the counted days (through 10 November)
        _raise(world, nov, first=D(2026, 11, 9), last=D(2026, 11, 20))
    with pytest.raises(ValidationError):  # before the period
        _raise(world, nov, first=D(2026, 10, 30), last=D(2026, 11, 2))
    with pytest.raises(ValidationError):  # no reason
        _raise(world, nov, reason="   ")
    with pytest.raises(PermissionDenied):  # a branch head does not raise disputes
        dispute_raise(
            by=demo_users["demo_bh"],
            period=nov,
            customer=world["d"],
            claim=DisputeClaim.MINE,
            first_day=D(2026, 11, 2),
            last_day=D(2026, 11, 3),
            reason="mine",
        )
    _raise(world, nov)
    with pytest.raises(ValidationError):  # one pending dispute per customer and period
        _raise(world, nov)


def test_who_may_decide(world, nov, demo_users, make_user):
    dispute = _raise(world, nov)
    with pytest.raises(PermissionDenied):  # the manager who raised it
        dispute_decide(dispute=dispute, by=world["m1"], approve=True)
    with pytest.raises(PermissionDenied):  # a branch head of another sub-branch
        dispute_decide(dispute=dispute, by=make_user("branch_head", "11200"), approve=True)
    with pytest.raises(ValidationError):  # a rejection says why
        dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=False)
    rejected = dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=False, note="Opened by M2")
    assert rejected.status == ApprovalStatus.REJECTED
    assert not CustomerAssignment.objects.filter(customer=world["d"]).exists()  # nothing changed


def test_a_dispute_of_a_closed_period_waits_for_a_second_person(world, nov, demo_users, make_user, jobs):
    checker = make_user("business_manager", "10000", username="bm2")
    with jobs():
        closing = publication_propose(code="2026-11", by=demo_users["demo_bm"], reason="Month end close")
    publication_decide(publication=closing, by=checker, approve=True)
    published = closing.version
    before = ManagerResult.objects.get(version=published, manager=world["m1"]).total
    dispute = _raise(world, nov, first=D(2026, 11, 2), last=D(2026, 11, 10))
    with jobs():
        decided = dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True)
    decided.refresh_from_db()  # the recalculation's job recorded what it computed
    month = next(r for r in decided.recalculated if r["period"] == "2026-11")
    assert month["status"] == VersionStatus.PENDING and month["version"] == 2
    # the published figures are untouched until the recalculation is approved
    assert ManagerResult.objects.get(version=published, manager=world["m1"]).total == before
    pending = Period.objects.get(code="2026-11").versions.get(number=2).publication
    with pytest.raises(PermissionDenied):  # the branch head proposed it: another person approves
        publication_decide(publication=pending, by=demo_users["demo_bh"], approve=True)
    publication_decide(publication=pending, by=checker, approve=True)
    recalculated = Period.objects.get(code="2026-11").versions.get(number=2)
    assert recalculated.status == VersionStatus.PUBLISHED
    assert CustomerResult.objects.filter(
        version=recalculated, customer=world["d"], manager=world["m1"]
    ).exists()


def test_the_correction_rewrites_only_the_overlapping_assignments(world, make_user):
    b = world["b"]  # M1 1 Jan..5 Nov, M2 from 6 Nov
    changes = correct_history(
        b,
        manager=None,
        first_day=D(2026, 11, 4),
        last_day=D(2026, 11, 7),
        by=make_user("branch_head"),
        note="x",
    )
    rows = list(
        CustomerAssignment.objects.filter(customer=b)
        .order_by("start_date")
        .values_list("manager_id", "start_date", "end_date")
    )
    assert rows == [
        (world["m1"].pk, D(2026, 1, 1), D(2026, 11, 3)),
        (world["m2"].pk, D(2026, 11, 8), None),
    ]
    assert [c["change"] for c in changes] == ["ended", "starts later"]


def test_the_days_go_only_to_a_manager_of_the_deciders_branches(world, nov, demo_users, make_user):
    dispute = _raise(
        world, nov, customer="a", claim=DisputeClaim.NOT_MINE, first=D(2026, 11, 9), last=D(2026, 11, 10)
    )
    elsewhere = make_user("client_manager", "12101")  # Shanghai: outside demo_bh's 11100
    with pytest.raises(ValidationError, match="your branches"):
        dispute_decide(dispute=dispute, by=demo_users["demo_bh"], approve=True, manager=elsewhere)
    dispute.refresh_from_db()
    assert dispute.status == ApprovalStatus.PENDING and dispute.manager_of_record is None

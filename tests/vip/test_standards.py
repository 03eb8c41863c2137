"""Service standards of major customers: the top share of a manager's book and
every VIP get due dates; overdue contacts warn the manager and the branch head."""

import datetime

import pytest
from django.utils import timezone

from care.choices import AlertKind
from care.models import Alert
from customers.models import CustomerAssignment, Interaction
from vip.standards import contact_warnings_refresh, is_top_share
from vip.tasks import evaluate_tiers_task, expire_shares_task

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("size", "share", "major_positions"),
    [(10, 20, [1, 2]), (3, 20, [1]), (1, 20, [1]), (5, 0, []), (4, 100, [1, 2, 3, 4])],
)
def test_top_share_rounds_up(size, share, major_positions):
    assert [p for p in range(1, size + 1) if is_top_share(p, size, share)] == major_positions


@pytest.fixture
def book(users, new_customer):
    """demo_cm1's book of ten, assigned 200 days ago: the two largest are major by
    AUM; a small one holds a tier (major too); the rest are not major."""
    cm1 = users["demo_cm1"]
    customers = [new_customer(manager=cm1, aum=str(1000 * (i + 1))) for i in range(10)]
    customers[0].tier = "potential"
    customers[0].save(update_fields=["tier"])
    CustomerAssignment.objects.update(start_date=timezone.localdate() - datetime.timedelta(days=200))
    return customers


def _warned(user):
    return set(
        Alert.objects.open()
        .filter(assignee=user, kind=AlertKind.CONTACT_OVERDUE)
        .values_list("customer_id", flat=True)
    )


def test_overdue_major_customers_warn_the_manager_and_the_branch_head(users, book):
    cm1, bh = users["demo_cm1"], users["demo_bh"]
    # the largest was called 10 days ago (fine); the second 100 days ago (default
    # interval for major customers without a tier: 90 days, overdue)
    now = timezone.now()
    Interaction.objects.create(
        customer=book[9], kind="call", subject="x", occurred_at=now - datetime.timedelta(days=10)
    )
    Interaction.objects.create(
        customer=book[8], kind="call", subject="x", occurred_at=now - datetime.timedelta(days=100)
    )
    # a complaint is not a contact by the bank
    Interaction.objects.create(customer=book[0], kind="complaint", subject="x", occurred_at=now)
    counts = contact_warnings_refresh()
    # potential's interval is 180 days: assigned 200 days ago, never contacted: overdue
    assert _warned(cm1) == {book[8].pk, book[0].pk}
    assert counts["warned"] == 2
    team = Alert.objects.get(assignee=bh, kind=AlertKind.TEAM_OVERDUE)
    assert team.figures == {"manager": "E1101", "count": 2} and team.customer is None
    # the warning says when the contact became overdue: 90 days after the last call
    second = Alert.objects.get(kind=AlertKind.CONTACT_OVERDUE, customer=book[8])
    last_call = timezone.localdate() - datetime.timedelta(days=100)
    assert second.figures["last_contact"] == last_call.isoformat()
    assert second.figures["standard_days"] == 90
    assert second.due_date == last_call + datetime.timedelta(days=90)
    # running it again adds nothing
    contact_warnings_refresh()
    assert Alert.objects.filter(kind=AlertKind.CONTACT_OVERDUE).count() == 2
    assert Alert.objects.filter(kind=AlertKind.TEAM_OVERDUE).count() == 1
    # a contact closes the warning at the next run
    Interaction.objects.create(customer=book[8], kind="visit", subject="x", occurred_at=timezone.now())
    counts = contact_warnings_refresh()
    assert counts["closed"] == 1 and _warned(cm1) == {book[0].pk}
    assert Alert.objects.open().get(assignee=bh, kind=AlertKind.TEAM_OVERDUE).figures == {
        "manager": "E1101",
        "count": 1,
    }
    # the answered warning is done, "contacted"
    answered = Alert.objects.get(kind=AlertKind.CONTACT_OVERDUE, customer=book[8])
    assert answered.status == "done" and answered.outcome == "contacted"


def test_a_new_assignment_has_its_interval_before_it_is_overdue(users, new_customer):
    new_customer(manager=users["demo_cm1"], aum="900000", tier="gold")
    assert contact_warnings_refresh()["warned"] == 0


def test_the_nightly_tasks_run(users, new_customer):
    result = evaluate_tiers_task()
    assert "run" in result and "warnings" in result
    assert expire_shares_task() == 0


def test_the_nightly_load_evaluates_tiers_after_the_aum(users, new_customer):
    from crm_portal.tasks import POST_LOAD_STEPS, evaluate_vip_tiers
    from vip.models import EvaluationRun

    names = [name for name, _step in POST_LOAD_STEPS]
    assert ("vip_tiers", evaluate_vip_tiers) in POST_LOAD_STEPS
    assert names.index("aum") < names.index("vip_tiers")
    evaluate_vip_tiers([timezone.localdate()])
    assert EvaluationRun.objects.filter(status="done").count() == 1

"""The engine around the rules: idempotence, no re-raise after closing, whom an alert
is for, escalation, the audit trail, the command and the post-load step."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent
from accounts.roles import Role
from care.choices import AlertKind, AlertStatus
from care.engine import alerts_daily, alerts_escalate
from care.models import Alert
from care.rules import RULES
from customers.choices import AccountCategory
from tests.care.test_rules_fixtures import account_fixture, customer_fixture  # noqa: F401
from tests.care.test_rules_support import D, alerts, days, run
from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(customer, account):
    """A customer with a birthday, a maturity and an expiring risk assessment at D."""
    person = customer(birth_date=datetime.date(1975, 12, 6), risk_level="R2", risk_expiry=days(10))
    account(person, category=AccountCategory.DEP_TIME, maturity_date=days(20))
    return person


def test_a_second_run_adds_nothing(busy):
    first = run(D)
    assert first[AlertKind.BIRTHDAY] == first[AlertKind.MATURITY] == first[AlertKind.RISK_EXPIRY] == 1
    assert set(first) == {str(rule.kind) for rule in RULES}
    total = Alert.objects.count()
    second = run(D)
    assert sum(second.values()) == 0
    assert Alert.objects.count() == total == 3


def test_a_closed_alert_is_not_raised_again_for_the_same_event(busy):
    run(D)
    Alert.objects.filter(customer=busy).update(status=AlertStatus.DONE)
    Alert.objects.filter(kind=AlertKind.MATURITY).update(status=AlertStatus.DISMISSED)
    again = run(days(1))
    assert sum(again.values()) == 0
    assert not Alert.objects.filter(status=AlertStatus.OPEN).exists()
    # next year's birthday is a new event
    run(datetime.date(2027, 12, 1), AlertKind.BIRTHDAY)
    assert list(alerts(AlertKind.BIRTHDAY, busy).values_list("event_key", "status")) == [
        ("2026", AlertStatus.DONE),
        ("2027", AlertStatus.OPEN),
    ]


def test_every_run_is_audited_with_counts_per_kind(busy):
    run(D)
    event = AuditEvent.objects.get(action="alerts_evaluated")
    assert event.details["business_date"] == D.isoformat()
    assert event.details["counts"][AlertKind.BIRTHDAY] == 1
    assert event.details["total"] == 3
    assert event.details["parameters"]["birthday_days"] == "7"


# --- whom an alert is for ------------------------------------------------------------------


def test_the_manager_of_record_gets_the_alert(busy, demo_users):
    run(D, AlertKind.BIRTHDAY)
    (alert,) = alerts(AlertKind.BIRTHDAY)
    assert alert.assignee == demo_users["demo_cm1"]
    assert alert.branch == busy.home_branch


def test_without_a_manager_the_branch_head_above_gets_it(customer, demo_users):
    # outlet 11102 has no head; its sub-branch 11100 has demo_bh
    person = customer(manager=None, branch="11102", birth_date=D.replace(year=1980))
    run(D, AlertKind.BIRTHDAY)
    (alert,) = alerts(AlertKind.BIRTHDAY, person)
    assert alert.assignee == demo_users["demo_bh"]
    assert alert.branch.code == "11102"


def test_an_inactive_manager_falls_back_to_the_branch_head(customer, demo_users):
    person = customer(birth_date=D.replace(year=1980))
    type(demo_users["demo_cm1"]).objects.filter(pk=demo_users["demo_cm1"].pk).update(
        is_active=False, status="disabled"
    )
    run(D, AlertKind.BIRTHDAY)
    assert alerts(AlertKind.BIRTHDAY, person).get().assignee == demo_users["demo_bh"]


def test_the_nearest_head_up_the_tree(customer, make_user):
    # Shanghai: no head at the outlet or its sub-branch; one at the branch 12000, one at head office
    make_user(Role.BRANCH_HEAD, "10000")
    shanghai = make_user(Role.BRANCH_HEAD, "12000")
    person = customer(manager=None, branch="12101", birth_date=D.replace(year=1980))
    run(D, AlertKind.BIRTHDAY)
    assert alerts(AlertKind.BIRTHDAY, person).get().assignee == shanghai


def test_nobody_to_assign_leaves_the_alert_with_its_branch(customer, org):
    person = customer(manager=None, branch="12101", birth_date=D.replace(year=1980))
    run(D, AlertKind.BIRTHDAY)
    alert = alerts(AlertKind.BIRTHDAY, person).get()
    assert alert.assignee is None and alert.branch == org["12101"]


# --- escalation --------------------------------------------------------------------------


def _maturity_due(busy) -> Alert:
    run(D, AlertKind.MATURITY)
    return alerts(AlertKind.MATURITY, busy).get()


def test_escalation_after_n_days_past_due_and_not_before(busy, demo_users):
    alert = _maturity_due(busy)
    due = alert.due_date
    assert alerts_escalate(today=due + datetime.timedelta(days=2)) == 0
    alert.refresh_from_db()
    assert alert.escalated_at is None
    assert alerts_escalate(today=due + datetime.timedelta(days=3)) == 1
    alert.refresh_from_db()
    assert alert.escalated_at is not None and alert.escalated_to == demo_users["demo_bh"]
    # once
    assert alerts_escalate(today=due + datetime.timedelta(days=10)) == 0
    event = AuditEvent.objects.filter(action="alerts_escalated").order_by("-id").first()
    assert event.details["days"] == 3


def test_closed_and_snoozed_alerts_wait(busy):
    alert = _maturity_due(busy)
    late = alert.due_date + datetime.timedelta(days=5)
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.DONE)
    assert alerts_escalate(today=late) == 0
    Alert.objects.filter(pk=alert.pk).update(status=AlertStatus.SNOOZED, snoozed_until=late)
    assert alerts_escalate(today=late) == 0  # counted from the end of the snooze
    assert alerts_escalate(today=late + datetime.timedelta(days=3)) == 1


def test_an_alert_of_the_branch_head_goes_further_up(customer, make_user, demo_users):
    person = customer(
        manager=None, branch="11102", birth_date=D.replace(year=1980)
    )  # assigned to demo_bh (no manager)
    beijing = make_user(Role.BRANCH_HEAD, "11000")
    run(D, AlertKind.BIRTHDAY)
    alert = alerts(AlertKind.BIRTHDAY, person).get()
    assert alert.assignee == demo_users["demo_bh"]
    alerts_escalate(today=D + datetime.timedelta(days=3))
    alert.refresh_from_db()
    assert alert.escalated_to == beijing


# --- entry points ------------------------------------------------------------------------


def test_run_alerts_command(busy):
    out = StringIO()
    call_command("run_alerts", "--date", D.isoformat(), stdout=out)
    assert "birthday" in out.getvalue() and "total                        3" in out.getvalue()
    out = StringIO()
    call_command("run_alerts", "--date", D.isoformat(), stdout=out)
    assert "total                        0" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("run_alerts", "--date", "2026-13-01")


def test_the_daily_job_runs_the_rules_needing_no_batch(busy):
    result = alerts_daily(today=D)
    assert set(result["counts"]) == {"birthday", "maturity", "risk_expiry", "contact_overdue"}
    assert result["counts"]["birthday"] == 1


def test_the_post_load_step_is_after_the_marketing_steps():
    from crm_portal.tasks import POST_LOAD_STEPS

    names = [name for name, _step in POST_LOAD_STEPS]
    assert names.index("alerts") > names.index("marketing_profile")
    assert names.index("alerts") > names.index("vip_tiers")

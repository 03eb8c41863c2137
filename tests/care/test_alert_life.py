"""An alert's life: done with an outcome (a contact is logged and the service
standards see it), snoozed until a date (hidden, then open again by itself),
handed over by the branch head only, dismissed with a reason; only the assignee
or the branch head over them may act; a closed alert stays closed."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from care.choices import AlertKind, AlertStatus
from care.models import Alert
from care.selectors.alerts import alert_list, alerts_due
from care.services.alerts import alert_dismiss, alert_done, alert_hand_over, alert_snooze
from customers.models import Interaction
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)
from vip.standards import CONTACT_KINDS, contact_warnings_refresh

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def users(demo_users):
    return demo_users


@pytest.fixture
def alert(users, new_customer):  # noqa: F811
    customer = new_customer(manager=users["demo_cm1"], aum="900000")
    return make_alert(
        assignee=users["demo_cm1"],
        customer=customer,
        kind=AlertKind.MATURITY,
        figures={
            "account_tail": "1496",
            "category": "DEP_TIME",
            "maturity_date": "2026-12-20",
            "amount": "500000",
        },
        valid_until=today() + datetime.timedelta(days=10),
    )


class TestDone:
    def test_contacted_logs_a_contact_and_closes_the_alert(self, users, alert):
        # when
        alert_done(
            alert=alert, by=users["demo_cm1"], outcome="contacted", note="rolled over", channel="visit"
        )
        # then
        alert.refresh_from_db()
        assert (alert.status, alert.outcome, alert.close_note) == ("done", "contacted", "rolled over")
        assert alert.closed_by == users["demo_cm1"] and alert.closed_at is not None
        contact = Interaction.objects.get(customer=alert.customer)
        assert (
            contact.kind == "visit"
            and contact.manager == users["demo_cm1"]
            and contact.notes == "rolled over"
        )
        assert "Maturity" in contact.subject
        event = AuditEvent.objects.get(action=Action.ALERT_DONE)
        assert event.details["outcome"] == "contacted" and event.details["interaction"] == contact.pk

    def test_not_reachable_is_a_note_not_a_contact(self, users, alert):
        alert_done(alert=alert, by=users["demo_cm1"], outcome="not_reachable", note="no answer twice")
        alert.refresh_from_db()
        assert alert.status == "done" and alert.outcome == "not_reachable"
        logged = Interaction.objects.get(customer=alert.customer)
        assert logged.kind == "note" and logged.notes == "no answer twice"
        assert not Interaction.objects.filter(kind__in=CONTACT_KINDS).exists()

    def test_the_contact_answers_the_service_standard(self, users, new_customer):  # noqa: F811
        # given: a major customer assigned 200 days ago, never contacted: overdue
        cm1 = users["demo_cm1"]
        customer = new_customer(manager=cm1, aum="900000")
        customer.assignments.update(start_date=today() - datetime.timedelta(days=200))
        contact_warnings_refresh()
        warning = Alert.objects.get(kind=AlertKind.CONTACT_OVERDUE, customer=customer)
        # when the manager calls and says so on the alert
        alert_done(alert=warning, by=cm1, outcome="contacted", channel="call")
        # then the next run raises nothing new: the call counts as the contact
        assert contact_warnings_refresh()["warned"] == 0
        assert not Alert.objects.open().filter(kind=AlertKind.CONTACT_OVERDUE, customer=customer).exists()

    def test_a_closed_alert_stays_closed(self, users, alert):
        alert_dismiss(alert=alert, by=users["demo_cm1"], reason="moved abroad")
        alert_done(alert=alert, by=users["demo_cm1"], outcome="contacted")
        alert.refresh_from_db()
        assert alert.status == "dismissed" and not Interaction.objects.exists()
        assert not AuditEvent.objects.filter(action=Action.ALERT_DONE).exists()

    def test_an_unknown_outcome_is_refused(self, users, alert):
        with pytest.raises(ValidationError):
            alert_done(alert=alert, by=users["demo_cm1"], outcome="gone fishing")


class TestWhoMayAct:
    def test_another_client_manager_is_refused(self, users, alert):
        for act in (
            lambda by: alert_done(alert=alert, by=by, outcome="contacted"),
            lambda by: alert_snooze(alert=alert, by=by, until=today() + datetime.timedelta(days=2)),
            lambda by: alert_dismiss(alert=alert, by=by, reason="not mine"),
        ):
            with pytest.raises(PermissionDenied):
                act(users["demo_cm2"])
        alert.refresh_from_db()
        assert alert.status == "open"

    def test_the_branch_head_over_them_may_act(self, users, alert):
        alert_dismiss(alert=alert, by=users["demo_bh"], reason="duplicate of a visit")
        alert.refresh_from_db()
        assert alert.status == "dismissed" and alert.closed_by == users["demo_bh"]

    def test_head_office_reads_but_does_not_work_alerts(self, users, alert):
        with pytest.raises(PermissionDenied):
            alert_dismiss(alert=alert, by=users["demo_bm"], reason="tidy up")


class TestSnooze:
    def test_snoozed_is_hidden_until_the_date_then_open_again(self, users, alert):
        cm1 = users["demo_cm1"]
        until = today() + datetime.timedelta(days=3)
        alert_snooze(alert=alert, by=cm1, until=until)
        alert.refresh_from_db()
        assert alert.status == AlertStatus.SNOOZED and alert.snoozed_until == until
        assert AuditEvent.objects.get(action=Action.ALERT_SNOOZED).details["until"] == until.isoformat()
        # hidden from the open list and the due panel until then
        assert alert not in alert_list(user=cm1, day=today())
        assert alert in alert_list(user=cm1, day=today(), status="snoozed")
        assert alert_list(user=cm1, day=until - datetime.timedelta(days=1)).count() == 0
        # on the day it is open again, with no job run
        assert list(alert_list(user=cm1, day=until)) == [alert]
        rows, total = alerts_due(cm1, until)
        assert total == 1 and rows[0].alert == alert and rows[0].status_label == "Open"
        # and it may still be done
        alert_done(alert=alert, by=cm1, outcome="not_needed")
        alert.refresh_from_db()
        assert alert.status == "done" and alert.snoozed_until is None

    @pytest.mark.parametrize("days", [0, -1, 11])
    def test_the_date_must_be_ahead_and_within_the_validity(self, users, alert, days):
        # the alert is valid 10 days: today, the past and day 11 are refused
        with pytest.raises(ValidationError):
            alert_snooze(alert=alert, by=users["demo_cm1"], until=today() + datetime.timedelta(days=days))
        alert.refresh_from_db()
        assert alert.status == "open"

    def test_without_a_validity_at_most_thirty_days(self, users, alert):
        Alert.objects.filter(pk=alert.pk).update(valid_until=None)
        alert.refresh_from_db()
        with pytest.raises(ValidationError, match="at the latest"):
            alert_snooze(alert=alert, by=users["demo_cm1"], until=today() + datetime.timedelta(days=31))
        alert_snooze(alert=alert, by=users["demo_cm1"], until=today() + datetime.timedelta(days=30))


class TestHandOver:
    @pytest.fixture
    def shared(self, users, new_customer):  # noqa: F811
        """A customer of cm1's that cm2 may see (shared), and cm1's alert about them."""
        from vip.services import customer_share

        customer = new_customer(manager=users["demo_cm1"], aum="900000")
        customer_share(
            customer=customer,
            with_user=users["demo_cm2"],
            by=users["demo_bh"],
            until=timezone.now() + datetime.timedelta(days=20),
            reason="cover",
        )
        return make_alert(assignee=users["demo_cm1"], customer=customer, kind=AlertKind.BIRTHDAY)

    def test_the_branch_head_hands_an_alert_over(self, users, shared):
        alert_hand_over(
            alert=shared, by=users["demo_bh"], to_manager=users["demo_cm2"], reason="cm1 on leave"
        )
        shared.refresh_from_db()
        assert shared.assignee == users["demo_cm2"] and shared.status == "open"
        event = AuditEvent.objects.get(action=Action.ALERT_HANDED_OVER)
        assert event.details == {"kind": "birthday", "from": "E1101", "to": "E1102", "reason": "cm1 on leave"}
        assert event.actor == users["demo_bh"]

    def test_a_client_manager_may_not_hand_over(self, users, shared):
        with pytest.raises(PermissionDenied):
            alert_hand_over(alert=shared, by=users["demo_cm1"], to_manager=users["demo_cm2"], reason="busy")
        shared.refresh_from_db()
        assert shared.assignee == users["demo_cm1"]

    def test_a_target_outside_the_subtree_is_refused(self, users, shared):
        with pytest.raises(ValidationError, match="client manager of your branches"):
            alert_hand_over(alert=shared, by=users["demo_bh"], to_manager=users["demo_cm3"], reason="x")

    def test_a_target_who_may_not_see_the_customer_is_refused(self, users, new_customer):  # noqa: F811
        customer = new_customer(manager=users["demo_cm1"])
        alert = make_alert(assignee=users["demo_cm1"], customer=customer, kind=AlertKind.BIRTHDAY)
        with pytest.raises(ValidationError, match="may not see this customer"):
            alert_hand_over(alert=alert, by=users["demo_bh"], to_manager=users["demo_cm2"], reason="x")

    def test_a_reason_is_required_and_an_inactive_manager_refused(self, users, shared, make_user):
        with pytest.raises(ValidationError, match="why"):
            alert_hand_over(alert=shared, by=users["demo_bh"], to_manager=users["demo_cm2"], reason="  ")
        gone = make_user("client_manager", "11102")
        gone.is_active = False
        gone.status = "disabled"
        gone.save(update_fields=["is_active", "status"])
        with pytest.raises(ValidationError):
            alert_hand_over(alert=shared, by=users["demo_bh"], to_manager=gone, reason="x")

    def test_a_team_alert_about_no_customer_goes_to_any_manager_of_the_subtree(self, users):
        team = make_alert(
            assignee=users["demo_bh"],
            kind=AlertKind.TEAM_OVERDUE,
            figures={"manager": "E1101", "count": 4},
            branch=users["demo_cm1"].branch,
        )
        alert_hand_over(alert=team, by=users["demo_bh"], to_manager=users["demo_cm2"], reason="follow up")
        team.refresh_from_db()
        assert team.assignee == users["demo_cm2"]


class TestDismiss:
    def test_a_reason_is_required(self, users, alert):
        with pytest.raises(ValidationError):
            alert_dismiss(alert=alert, by=users["demo_cm1"], reason="   ")
        alert.refresh_from_db()
        assert alert.status == "open"
        alert_dismiss(alert=alert, by=users["demo_cm1"], reason="customer moved abroad")
        alert.refresh_from_db()
        assert (alert.status, alert.close_note) == ("dismissed", "customer moved abroad")
        assert (
            AuditEvent.objects.get(action=Action.ALERT_DISMISSED).details["reason"] == "customer moved abroad"
        )

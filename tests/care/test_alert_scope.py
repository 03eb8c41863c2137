"""Which alerts a user sees (`Alert.objects.visible_to`): the rule's edge cases, one
alert for each, so that a change in how the scope is written (a join, an EXISTS, a
UNION) cannot change which alerts a manager or a branch head sees."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import User
from care.choices import AlertKind
from care.models import Alert
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(demo_users, new_customer, org):  # noqa: F811
    cm1, cm2, cm3, bh = (demo_users[n] for n in ("demo_cm1", "demo_cm2", "demo_cm3", "demo_bh"))
    mine = new_customer(branch="11101", manager=cm1, name="本人")
    shared = new_customer(branch="12101", manager=cm3, name="共享")
    expired = new_customer(branch="12101", manager=cm3, name="过期")
    foreign = new_customer(branch="12101", manager=cm3, name="外人")
    colleague = new_customer(branch="11102", manager=cm2, name="同事")
    assign_perm("customers.view_customer", cm1, shared)
    grant = assign_perm("customers.view_customer", cm1, expired)
    grant.expires_at = timezone.now() - datetime.timedelta(days=1)
    grant.save(update_fields=["expires_at"])

    def team(assignee, branch: str) -> Alert:
        return make_alert(assignee=assignee, kind=AlertKind.TEAM_OVERDUE, branch=org[branch], figures={})

    return {
        # a client manager's: assigned to them, about a customer they may see or none
        "cm1 about their customer": make_alert(assignee=cm1, customer=mine),
        "cm1 about a customer shared with them": make_alert(assignee=cm1, customer=shared),
        "cm1 about no customer": team(cm1, "11101"),
        # assigned to them, but about a customer they may not see (any longer)
        "cm1 about a customer whose grant expired": make_alert(assignee=cm1, customer=expired),
        "cm1 about another manager's customer": make_alert(assignee=cm1, customer=foreign),
        # about their customer, but someone else's alert
        "cm2 about cm1's customer": make_alert(assignee=cm2, customer=mine),
        "cm2 about their customer": make_alert(assignee=cm2, customer=colleague),
        "cm3 about no customer": team(cm3, "12101"),
        "no one's, about no customer, at 11102": team(None, "11102"),
        # the head's own about no customer, filed outside their subtree (a head who
        # moved): theirs wherever it is filed
        "bh about no customer, at 12101": team(bh, "12101"),
    }


def seen(user: User, alerts: dict[str, Alert]) -> set[str]:
    fresh = User.objects.get(pk=user.pk)  # as a new request: grants and roles read afresh
    label_of = {alert.pk: label for label, alert in alerts.items()}
    return {label_of[pk] for pk in Alert.objects.visible_to(fresh).values_list("pk", flat=True)}


def test_a_client_manager_sees_their_alerts_about_customers_they_may_see_or_none(demo_users, alerts):
    assert seen(demo_users["demo_cm1"], alerts) == {
        "cm1 about their customer",
        "cm1 about a customer shared with them",
        "cm1 about no customer",
    }
    # assigned to them about a customer they may not see: hidden from them as well
    assert seen(demo_users["demo_cm2"], alerts) == {"cm2 about their customer"}
    assert seen(demo_users["demo_cm3"], alerts) == {"cm3 about no customer"}


def test_a_branch_head_sees_the_subtree_s_alerts_about_customers_of_the_subtree(demo_users, alerts):
    # 11100's subtree: 11101 and 11102; an alert of the team about a customer of
    # Shanghai (a manager's, on a grant or not) stays hidden
    assert seen(demo_users["demo_bh"], alerts) == {
        "cm1 about their customer",
        "cm1 about no customer",
        "cm2 about cm1's customer",
        "cm2 about their customer",
        "no one's, about no customer, at 11102",
        "bh about no customer, at 12101",
    }


def test_head_office_sees_every_alert(demo_users, alerts):
    assert seen(demo_users["demo_bm"], alerts) == set(alerts)

"""Home pages composed from the widgets each app registers: every role's default
widgets, no placeholder left, "my day" of a client manager (alerts due with their
reasons, today's plan, overdue contacts, targets, messages, scorecard) at a pinned
number of queries, and the customise page (choose, order, reset; unknown keys and
other roles' widgets refused; audited)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent, Branch, HomeLayout
from care.choices import AlertKind, AlertStatus, PlanKind
from care.models import PlanItem
from core import widgets
from crm_portal import home
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

PLACEHOLDERS = (b"will appear here", b"Your reminders, work plan and visits")

# The default widgets of each demo role, in their order.
DEFAULTS = {
    "demo_admin": ["welcome", "pending_users", "failed_loads", "proposals"],
    "demo_pm": ["welcome", "proposals"],
    "demo_bm": ["welcome", "decisions", "campaigns_running"],
    "demo_audit": ["welcome", "suspicious", "failed_loads", "pending_users"],
    "demo_bh": [
        "welcome",
        "morning_meeting",
        "my_customers",
        "team_overdue",
        "alerts_due",
        "team_board",
        "decisions",
    ],
    "demo_cm1": [
        "welcome",
        "alerts_due",
        "plan_today",
        "overdue_contacts",
        "targets",
        "messages",
        "scorecard",
        "my_customers",
    ],
}


def _panels(response) -> list[str]:
    return [p.key for p in response.context["panels"]]


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(DEFAULTS))
def test_every_role_gets_its_own_widgets_and_no_placeholder(client, demo_users, demo_password, username):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    response = client.get("/")
    assert response.status_code == 200
    assert _panels(response) == DEFAULTS[username]
    for text in PLACEHOLDERS:
        assert text not in response.content
    for key in DEFAULTS[username]:
        assert f'data-widget="{key}"'.encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(DEFAULTS))
def test_lazy_widgets_load_their_body(client, demo_users, demo_password, username):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    lazy = [w for w in widgets.available_to(demo_users[username]) if w.lazy]
    for widget in lazy:
        response = client.get(f"/home/widgets/{widget.key}/")
        assert response.status_code == 200, widget.key
        assert b"Loading" not in response.content


@pytest.mark.django_db
def test_the_registry_refuses_another_apps_key():
    widget = widgets.get("welcome")
    assert widget is not None
    with pytest.raises(ValueError):
        widgets.register(widgets.Widget(key="welcome", title="x", template="x.html", app="marketing"))


# --- my day ---------------------------------------------------------------------------------


@pytest.fixture
def my_day(demo_users, new_customer):  # noqa: F811
    """demo_cm1's day: a large outflow due today, a maturity due tomorrow (not shown),
    a snoozed alert (not shown), two overdue contacts, a visit planned today; and a
    colleague's alert (not shown)."""
    cm1, cm2 = demo_users["demo_cm1"], demo_users["demo_cm2"]
    today = timezone.localdate()
    mine = new_customer(manager=cm1, name="王大锤")
    other = new_customer(branch="11102", manager=cm2, name="李小龙")
    make_alert(
        assignee=cm1,
        customer=mine,
        kind=AlertKind.LARGE_OUTFLOW,
        event_key="outflow",
        figures={
            "aum_before": "1900000.00",
            "aum_now": "1080000.00",
            "change": "-820000.00",
            "percent": "-43.2",
            "since": (today - datetime.timedelta(days=7)).isoformat(),
        },
    )
    make_alert(
        assignee=cm1,
        customer=mine,
        kind=AlertKind.MATURITY,
        event_key="later",
        due_date=today + datetime.timedelta(days=1),
        figures={
            "account_tail": "1234",
            "category": "DEP_TIME",
            "maturity_date": (today + datetime.timedelta(days=1)).isoformat(),
            "amount": "1.00",
        },
    )
    make_alert(
        assignee=cm1,
        customer=mine,
        kind=AlertKind.TIER_CHANGE,
        event_key="snoozed",
        status=AlertStatus.SNOOZED,
        snoozed_until=today + datetime.timedelta(days=3),
    )
    for n in range(2):
        since = today - datetime.timedelta(days=10 + n)
        make_alert(
            assignee=cm1,
            customer=new_customer(manager=cm1),
            kind=AlertKind.CONTACT_OVERDUE,
            event_key=f"overdue-{n}",
            due_date=since,
            figures={
                "tier": "gold",
                "last_contact": None,
                "standard_days": 30,
                "overdue_since": since.isoformat(),
            },
        )
    make_alert(
        assignee=cm2,
        customer=other,
        kind=AlertKind.LARGE_OUTFLOW,
        event_key="theirs",
        figures={
            "aum_before": "1",
            "aum_now": "0",
            "change": "-1",
            "percent": "-99",
            "since": today.isoformat(),
        },
    )
    PlanItem.objects.create(
        owner=cm1, kind=PlanKind.VISIT, customer=mine, title="Visit about the outflow", start_date=today
    )
    return cm1


@pytest.mark.django_db
def test_my_day_shows_what_is_due_today_with_its_reason(client, my_day, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    response = client.get("/")
    html = response.content.decode()
    panels = {p.key: p for p in response.context["panels"]}
    due = panels["alerts_due"].context
    assert due["total"] == 1  # not tomorrow's, not the snoozed, not the colleague's, not the contacts
    assert [row.alert.kind for row in due["rows"]] == [AlertKind.LARGE_OUTFLOW]
    assert "43" in due["rows"][0].reason and "820,000" in due["rows"][0].reason.replace("，", ",")
    assert panels["overdue_contacts"].context["total"] == 2
    assert "Visit about the outflow" in html
    # the customer's name masked, never in full
    assert "王大锤" not in html and "王*" in html
    assert "李小龙" not in html


@pytest.mark.django_db
def test_my_day_costs_the_same_queries_with_many_alerts(
    client,
    my_day,
    demo_password,
    new_customer,  # noqa: F811
    django_assert_max_num_queries,
):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    client.get("/")  # the session settles
    with django_assert_max_num_queries(21) as few:
        client.get("/")
    customer = new_customer(manager=my_day)
    for n in range(40):
        make_alert(
            assignee=my_day,
            customer=customer,
            kind=AlertKind.DORMANCY,
            event_key=f"d{n}",
            figures={"reason": "status", "last_transaction": None, "days": 200},
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/")
    assert {p.key: p for p in response.context["panels"]}["alerts_due"].context["total"] == 41


@pytest.mark.django_db
def test_branch_head_sees_the_teams_overdue_alerts_per_manager(
    client,
    demo_users,
    demo_password,
    new_customer,  # noqa: F811
):
    cm1, cm3 = demo_users["demo_cm1"], demo_users["demo_cm3"]
    past = timezone.localdate() - datetime.timedelta(days=5)
    for n in range(3):
        make_alert(
            assignee=cm1,
            customer=new_customer(manager=cm1),
            kind=AlertKind.BIRTHDAY,
            event_key=f"b{n}",
            due_date=past,
            figures={"birthday": past.isoformat(), "age": 40, "calendar": "solar"},
        )
    # Shanghai: not the Haidian head's team
    make_alert(
        assignee=cm3,
        customer=new_customer(branch="12101", manager=cm3),
        kind=AlertKind.BIRTHDAY,
        event_key="sh",
        due_date=past,
        figures={"birthday": past.isoformat(), "age": 40, "calendar": "solar"},
    )
    # the head's own overdue alert about no customer, filed under a branch outside the
    # subtree: the head may see it, it is not the team's (an alert about a customer is
    # at the customer's branch: tests/care/test_alert_branch.py)
    make_alert(
        assignee=demo_users["demo_bh"],
        kind=AlertKind.TEAM_OVERDUE,
        event_key="head",
        due_date=past,
        branch=Branch.objects.get(code="12101"),
        figures={"manager": "E1201", "count": 2},
    )
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    response = client.get("/")
    team = {p.key: p for p in response.context["panels"]}["team_overdue"].context
    assert team["total"] == 3
    assert [(r.employee_no, r.count) for r in team["rows"]] == [("E1101", 3)]
    assert b'href="/care/meeting/"' in response.content


# --- customise ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_chooses_and_orders_their_widgets_then_resets(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    page = client.get("/home/customise/")
    assert page.status_code == 200 and b"customise-form" in page.content
    response = client.post(
        "/home/customise/",
        {
            "show": ["scorecard", "welcome", "targets"],
            "order-scorecard": "1",
            "order-welcome": "3",
            "order-targets": "2",
        },
    )
    assert response.status_code == 302
    assert HomeLayout.objects.get(user=demo_users["demo_cm1"]).widgets == ["scorecard", "targets", "welcome"]
    assert _panels(client.get("/")) == ["scorecard", "targets", "welcome"]
    event = AuditEvent.objects.filter(action=Action.HOME_LAYOUT_CHANGED, actor_username="demo_cm1").get()
    assert event.details["widgets"] == ["scorecard", "targets", "welcome"]

    response = client.post("/home/customise/", {"action": "reset"})
    assert response.status_code == 302
    assert not HomeLayout.objects.filter(user=demo_users["demo_cm1"]).exists()
    assert _panels(client.get("/")) == DEFAULTS["demo_cm1"]
    assert (
        AuditEvent.objects.filter(action=Action.HOME_LAYOUT_CHANGED, actor_username="demo_cm1").count() == 2
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "keys", "message"),
    [
        ("demo_cm1", ["welcome", "no_such_widget"], b"There is no widget"),
        ("demo_cm1", ["welcome", "suspicious"], b"is not available to you"),  # the auditor's
        ("demo_audit", ["welcome", "scorecard"], b"is not available to you"),  # a manager's
        ("demo_cm1", [], b"Choose at least one widget"),
    ],
)
def test_a_choice_the_user_may_not_have_is_refused(
    client, demo_users, demo_password, username, keys, message
):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    response = client.post("/home/customise/", {"show": keys})
    assert response.status_code == 400
    assert message in response.content
    assert not HomeLayout.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.HOME_LAYOUT_CHANGED).exists()


@pytest.mark.django_db
def test_a_place_that_is_not_a_number_is_refused(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    response = client.post("/home/customise/", {"show": ["welcome"], "order-welcome": "first"})
    assert response.status_code == 400 and b"whole number" in response.content
    assert not HomeLayout.objects.exists()


@pytest.mark.django_db
def test_a_stored_widget_no_longer_available_is_skipped(demo_users):
    # a manager who became an auditor keeps their row; the scorecard is not shown any more
    cm1 = demo_users["demo_cm1"]
    HomeLayout.objects.create(user=cm1, widgets=["scorecard", "welcome", "gone_widget"])
    chosen, own = home.layout_for(cm1)
    assert own and [w.key for w in chosen] == ["scorecard", "welcome"]
    auditor = demo_users["demo_audit"]
    HomeLayout.objects.create(user=auditor, widgets=["scorecard", "welcome"])
    assert [w.key for w in home.layout_for(auditor)[0]] == ["welcome"]


@pytest.mark.django_db
def test_a_lazy_widget_of_another_role_is_not_found(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    assert client.get("/home/widgets/team_board/").status_code == 404
    assert client.get("/home/widgets/nothing/").status_code == 404


@pytest.mark.django_db
def test_a_parameter_manager_sees_the_proposals_of_others_waiting(
    client, demo_users, demo_password, make_user
):
    from vip.models import ParameterProposal

    colleague = make_user("parameter_manager", "10000")
    ParameterProposal.objects.create(proposed_by=colleague, changes={"policy": {}}, reason="thresholds")
    ParameterProposal.objects.create(proposed_by=demo_users["demo_pm"], changes={"policy": {}}, reason="mine")
    client.post("/accounts/login/", {"username": "demo_pm", "password": demo_password})
    assert b"/home/widgets/proposals/" in client.get("/").content
    body = client.get("/home/widgets/proposals/")
    rows = {str(row["label"]): row["count"] for row in body.context["ctx"]["rows"]}
    assert rows["Tier parameters"] == 1  # not their own
    assert body.context["ctx"]["total"] == 1
    assert b'href="/vip/approvals/"' in body.content


@pytest.mark.django_db
def test_an_auditor_sees_suspicious_operations_and_failed_loads(client, demo_users, demo_password):
    from accounts.audit import audit
    from customers.choices import BatchStatus
    from customers.models import BatchLoad

    audit(
        Action.SUSPICIOUS_ACTIVITY,
        actor=demo_users["demo_cm1"],
        details={"kind": "reveals_over_daily_limit", "count": 21, "limit": 20},
    )
    BatchLoad.objects.create(
        source="/data/20261205", status=BatchStatus.FAILED, started_via="beat", message="bad file"
    )
    BatchLoad.objects.create(source="/data/20261204", status=BatchStatus.LOADED, started_via="beat")
    client.post("/accounts/login/", {"username": "demo_audit", "password": demo_password})
    response = client.get("/")
    panels = {p.key: p.context for p in response.context["panels"]}
    assert panels["suspicious"]["count"] == 1
    assert panels["failed_loads"]["count"] == 1
    assert "21 reveals of personal data in a day (limit 20)" in response.content.decode()

"""The alert pages: a client manager sees only their own alerts, a branch head their
team's; filters, the position on the page, the empty state, labels rather than
codes; the small forms work an alert and say clearly what is wrong; the page's
query count does not grow with the alerts shown."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from care.choices import AlertKind
from care.models import Alert
from customers.models import Interaction
from tests.care.world_alerts import make_alert
from tests.customers.conftest import log_in, new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

OUTFLOW = {"aum_before": "1900000", "aum_now": "1080000", "change": "-820000", "percent": "-43.2"}


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def users(demo_users):
    return demo_users


@pytest.fixture
def alerts(users, new_customer):  # noqa: F811
    """cm1's outflow alert about their customer 张三丰, cm2's tier change, cm3's in Shanghai."""
    mine = new_customer(manager=users["demo_cm1"], name="张三丰", aum="1080000")
    theirs = new_customer(manager=users["demo_cm2"], branch="11102")
    shanghai = new_customer(manager=users["demo_cm3"], branch="12101")
    since = (today() - datetime.timedelta(days=7)).isoformat()
    return {
        "cm1": make_alert(
            assignee=users["demo_cm1"],
            customer=mine,
            kind=AlertKind.LARGE_OUTFLOW,
            figures={**OUTFLOW, "since": since},
            priority=1,
        ),
        "cm2": make_alert(assignee=users["demo_cm2"], customer=theirs, kind=AlertKind.TIER_CHANGE),
        "cm3": make_alert(assignee=users["demo_cm3"], customer=shanghai, kind=AlertKind.TIER_CHANGE),
    }


class TestList:
    def test_a_client_manager_sees_only_their_own_with_reasons_and_labels(
        self, client, users, alerts, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/care/alerts/")
        html = page.content.decode()
        assert page.status_code == 200
        assert [r.alert for r in page.context["rows"]] == [alerts["cm1"]]
        assert "AUM fell 43.2% in 7 days, −820,000.00 CNY" in html
        table = html[html.index('data-testid="alert-table"') :]
        assert "Large outflow" in table and "large_outflow" not in table  # a label, not the code
        assert "张*" in html and "张三丰" not in html  # the name masked
        plan = f"/care/plan/new/?customer={alerts['cm1'].customer.customer_no}&amp;alert={alerts['cm1'].pk}"
        assert plan in html
        assert "Items 1–1 of 1" in html

    def test_a_branch_head_sees_the_team_and_filters_by_manager(self, client, users, alerts, demo_password):
        log_in(client, "demo_bh", demo_password)
        page = client.get("/care/alerts/")
        assert {r.alert for r in page.context["rows"]} == {alerts["cm1"], alerts["cm2"]}
        only_cm2 = client.get("/care/alerts/", {"manager": "E1102"})
        assert [r.alert for r in only_cm2.context["rows"]] == [alerts["cm2"]]
        # a client manager has no manager filter: the parameter is ignored
        client.logout()
        log_in(client, "demo_cm1", demo_password)
        assert "manager" not in client.get("/care/alerts/", {"manager": "E1102"}).context["form"].fields

    def test_filters_and_the_empty_state(self, client, users, alerts, demo_password):
        old = make_alert(
            assignee=users["demo_cm1"],
            customer=alerts["cm1"].customer,
            kind=AlertKind.BIRTHDAY,
            due_date=today() - datetime.timedelta(days=2),
            figures={"birthday": today().isoformat(), "age": 50, "calendar": "solar"},
        )
        log_in(client, "demo_cm1", demo_password)
        overdue = client.get("/care/alerts/", {"due": "overdue"})
        assert [r.alert for r in overdue.context["rows"]] == [old]
        assert "overdue" in overdue.content.decode()
        assert [r.alert for r in client.get("/care/alerts/", {"due": "today"}).context["rows"]] == [
            alerts["cm1"]
        ]
        assert [r.alert for r in client.get("/care/alerts/", {"kind": "birthday"}).context["rows"]] == [old]
        assert [r.alert for r in client.get("/care/alerts/", {"priority": "1"}).context["rows"]] == [
            alerts["cm1"]
        ]
        by_no = client.get("/care/alerts/", {"q": alerts["cm1"].customer.customer_no})
        assert len(by_no.context["rows"]) == 2
        # another manager's customer number finds nothing
        empty = client.get("/care/alerts/", {"q": alerts["cm2"].customer.customer_no})
        assert empty.context["rows"] == [] and "No alert matches these filters." in empty.content.decode()
        closed = client.get("/care/alerts/", {"status": "done"})
        assert closed.context["rows"] == []

    def test_a_bad_filter_is_a_clear_400(self, client, users, alerts, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/care/alerts/", {"kind": "nonsense", "due": "yesterday"})
        assert page.status_code == 400
        html = page.content.decode()
        assert "Select a valid choice. nonsense is not one of the available choices." in html
        assert page.context["rows"] == []

    def test_the_empty_state_with_no_alerts(self, client, users, demo_password):
        log_in(client, "demo_cm1", demo_password)
        assert "No open alerts: nothing needs your attention." in client.get("/care/alerts/").content.decode()

    def test_roles_without_alerts_are_refused(self, client, users, demo_password):
        log_in(client, "demo_pm", demo_password)
        assert client.get("/care/alerts/").status_code == 403

    def test_pages_show_the_position_and_the_query_count_stays_flat(
        self,
        client,
        users,
        new_customer,  # noqa: F811
        demo_password,
        django_assert_max_num_queries,
    ):
        cm1 = users["demo_cm1"]
        for i in range(60):
            customer = new_customer(manager=cm1)
            kind = (AlertKind.TIER_CHANGE, AlertKind.MATURITY, AlertKind.CONTACT_OVERDUE)[i % 3]
            make_alert(
                assignee=cm1,
                customer=customer,
                kind=kind,
                due_date=today() + datetime.timedelta(days=i % 5),
                figures={"tier": "gold", "standard_days": 30, "overdue_since": "2026-11-01"},
            )
        log_in(client, "demo_cm1", demo_password)
        # session, user with branch, permissions with roles, grants, count, rows, the
        # rows' customers and assignees, level names: none per row
        with django_assert_max_num_queries(9) as queries:
            page = client.get("/care/alerts/", {"page": 2})
        assert len(page.context["rows"]) == 25
        assert "Items 26–50 of 60" in page.content.decode()
        # the page's rows are read alone, their customers by primary key after: no
        # customer joined to every alert the filters keep
        rows = next(
            q["sql"] for q in queries.captured_queries if 'ORDER BY "care_alert"."due_date"' in q["sql"]
        )
        assert "JOIN" not in rows
        log_in(client, "demo_bh", demo_password)
        # and the head's subtree, and the team for the manager filter
        with django_assert_max_num_queries(11) as queries:
            client.get("/care/alerts/", {"page": 3})
        rows = next(
            q["sql"] for q in queries.captured_queries if 'ORDER BY "care_alert"."due_date"' in q["sql"]
        )
        # the subtree's branches as constants, not a subquery of the branch table
        assert "JOIN" not in rows and "accounts_branch" not in rows


class TestDetailAndActions:
    def test_done_from_the_page_logs_the_contact(self, client, users, alerts, demo_password):
        alert = alerts["cm1"]
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/care/alerts/{alert.pk}/").content.decode()
        assert 'data-testid="done-form"' in page and 'data-testid="hand-over-form"' not in page
        response = client.post(
            f"/care/alerts/{alert.pk}/done/",
            {"outcome": "contacted", "channel": "call", "note": "will visit"},
        )
        assert response.status_code == 302 and response["Location"] == f"/care/alerts/{alert.pk}/"
        alert.refresh_from_db()
        assert alert.status == "done"
        assert Interaction.objects.filter(customer=alert.customer, kind="call").exists()
        after = client.get(f"/care/alerts/{alert.pk}/").content.decode()
        assert "Contacted" in after and 'data-testid="alert-actions"' not in after

    def test_bad_input_shows_the_error_on_the_form(self, client, users, alerts, demo_password):
        alert = alerts["cm1"]
        log_in(client, "demo_cm1", demo_password)
        no_reason = client.post(f"/care/alerts/{alert.pk}/dismiss/", {"reason": "  "})
        assert no_reason.status_code == 400
        assert "This field is required." in no_reason.content.decode()
        past = client.post(f"/care/alerts/{alert.pk}/snooze/", {"until": today().isoformat()})
        assert past.status_code == 400 and "Snooze until a day after today." in past.content.decode()
        not_a_date = client.post(f"/care/alerts/{alert.pk}/snooze/", {"until": "next week"})
        assert not_a_date.status_code == 400 and "Enter a valid date." in not_a_date.content.decode()
        alert.refresh_from_db()
        assert alert.status == "open"

    def test_snooze_from_the_page(self, client, users, alerts, demo_password):
        alert = alerts["cm1"]
        log_in(client, "demo_cm1", demo_password)
        until = today() + datetime.timedelta(days=2)
        client.post(f"/care/alerts/{alert.pk}/snooze/", {"until": until.isoformat()})
        assert client.get("/care/alerts/").context["rows"] == []
        snoozed = client.get("/care/alerts/", {"status": "snoozed"}).content.decode()
        assert f"until {until.isoformat()}" in snoozed

    def test_another_managers_alert_is_not_found(self, client, users, alerts, demo_password):
        log_in(client, "demo_cm1", demo_password)
        other = alerts["cm2"]
        assert client.get(f"/care/alerts/{other.pk}/").status_code == 404
        assert client.post(f"/care/alerts/{other.pk}/dismiss/", {"reason": "x"}).status_code == 404
        other.refresh_from_db()
        assert other.status == "open"

    def test_the_branch_head_hands_over_from_the_page(self, client, users, demo_password):
        team = make_alert(
            assignee=users["demo_bh"],
            kind=AlertKind.TEAM_OVERDUE,
            figures={"manager": "E1101", "count": 4},
            branch=users["demo_cm1"].branch,
        )
        log_in(client, "demo_bh", demo_password)
        page = client.get(f"/care/alerts/{team.pk}/").content.decode()
        assert 'data-testid="hand-over-form"' in page and "E1102" in page
        refused = client.post(f"/care/alerts/{team.pk}/hand-over/", {"to_manager": "E1201", "reason": "x"})
        assert refused.status_code == 400  # cm3 is not one of the head's managers
        done = client.post(
            f"/care/alerts/{team.pk}/hand-over/", {"to_manager": "E1102", "reason": "follow up"}
        )
        assert done.status_code == 302
        team.refresh_from_db()
        assert team.assignee == users["demo_cm2"]

    def test_a_client_manager_may_not_hand_over(self, client, users, alerts, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/care/alerts/{alerts['cm1'].pk}/hand-over/", {"to_manager": "E1102", "reason": "busy"}
        )
        assert response.status_code == 403
        assert Alert.objects.get(pk=alerts["cm1"].pk).assignee == users["demo_cm1"]


class TestPanel:
    def test_the_due_panel_lists_what_is_due_with_reasons(self, client, users, alerts, demo_password):
        make_alert(
            assignee=users["demo_cm1"],
            customer=alerts["cm1"].customer,
            kind=AlertKind.BIRTHDAY,
            due_date=today() + datetime.timedelta(days=3),
        )
        log_in(client, "demo_cm1", demo_password)
        panel = client.get("/care/alerts/panel/")
        assert [r.alert for r in panel.context["rows"]] == [alerts["cm1"]]  # not the one due later
        assert "AUM fell 43.2%" in panel.content.decode()

    def test_the_panel_is_empty_for_a_user_without_alerts(self, client, users, demo_password):
        log_in(client, "demo_pm", demo_password)
        panel = client.get("/care/alerts/panel/")
        assert panel.status_code == 200 and panel.context["rows"] == []

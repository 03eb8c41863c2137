"""The controls of the keep-close lists (alerts, visit journal, outbox): filters are
labelled selects with worded "all" choices, a manager is chosen by name among those
the user may see (any other is refused with a message), every list has a page size,
its position and sorting by column, and the actions answer with what happened."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from care.choices import AlertKind, AlertOutcome, VisitPurpose
from tests.care.test_journal import _record
from tests.care.test_outbox import _outbox, greet, make_customer  # noqa: F401  (fixtures)
from tests.care.world_alerts import make_alert
from tests.care.world_plan import small_world
from tests.customers.conftest import log_in, new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def options(html: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) options of the select `name` on the page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, f"no select {name}"
    return [
        (value, label.strip())
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    ]


def answers(response) -> list[str]:
    """The messages an action left for the next page."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def rows_of(page) -> list:
    return [row.alert for row in page.context["rows"]]


@pytest.fixture
def team_alerts(demo_users, new_customer):  # noqa: F811
    """One alert of each demo client manager: cm1 and cm2 in the branch head's
    subtree, cm3 in Shanghai."""
    made = {}
    for name, branch in (("demo_cm1", "11101"), ("demo_cm2", "11102"), ("demo_cm3", "12101")):
        customer = new_customer(manager=demo_users[name], branch=branch, name="张三丰")
        made[name] = make_alert(assignee=demo_users[name], customer=customer, kind=AlertKind.TIER_CHANGE)
    return made


class TestAlertFilters:
    def test_the_selects_are_labelled_and_offer_the_managers_by_name(
        self, client, demo_users, org, team_alerts, demo_password
    ):
        log_in(client, "demo_bh", demo_password)
        html = client.get("/care/alerts/").content.decode()
        for name, label in (
            ("kind", "Kind"),
            ("status", "Status"),
            ("priority", "Priority"),
            ("manager", "Manager"),
        ):
            assert re.search(rf'<label[^>]*for="id_{name}"[^>]*>{label}</label>', html), name
        assert options(html, "kind")[0] == ("", "All kinds")
        assert options(html, "priority")[0] == ("", "Any priority")
        managers = options(html, "manager")
        assert managers[0] == ("", "All managers")
        assert ("E1101", f"王经理 · {org['11101'].name}") in managers
        assert ("E1102", f"李经理 · {org['11102'].name}") in managers
        assert all(value != "E1201" for value, _ in managers)  # Shanghai is not the head's
        assert all(label not in ("—", "") for _, label in managers + options(html, "kind"))

    def test_filtering_by_a_manager_and_refusing_one_outside_the_scope(
        self, client, team_alerts, demo_password
    ):
        log_in(client, "demo_bh", demo_password)
        only = client.get("/care/alerts/", {"manager": "E1102"})
        assert only.status_code == 200 and rows_of(only) == [team_alerts["demo_cm2"]]
        refused = client.get("/care/alerts/", {"manager": "E1201"})
        assert refused.status_code == 400 and rows_of(refused) == []
        assert "This manager is not in your scope: choose one from the list." in refused.content.decode()

    def test_a_client_manager_has_no_manager_filter(self, client, team_alerts, demo_password):
        log_in(client, "demo_cm1", demo_password)
        html = client.get("/care/alerts/").content.decode()
        assert 'name="manager"' not in html
        assert options(html, "status")[-1] == ("all", "All statuses")


class TestAlertListControls:
    @pytest.fixture
    def sixty(self, demo_users, new_customer):  # noqa: F811
        cm1 = demo_users["demo_cm1"]
        made = []
        for i in range(60):
            made.append(
                make_alert(
                    assignee=cm1,
                    customer=new_customer(manager=cm1),
                    kind=(AlertKind.TIER_CHANGE, AlertKind.MATURITY)[i % 2],
                    priority=i % 3 + 1,
                    due_date=today() + datetime.timedelta(days=i % 7),
                    figures={"tier": "gold"},
                )
            )
        return made

    def test_page_size_and_position(self, client, sixty, demo_password, django_assert_max_num_queries):
        log_in(client, "demo_cm1", demo_password)
        first = client.get("/care/alerts/", {"size": 50})
        assert len(first.context["rows"]) == 50 and "Items 1–50 of 60" in first.content.decode()
        second = client.get("/care/alerts/", {"size": 50, "page": 2})
        assert len(second.context["rows"]) == 10 and "Items 51–60 of 60" in second.content.decode()
        # the next page's link keeps the size; the sizes offered are links
        assert 'href="?size=50&amp;page=2"' in first.content.decode() or "page=2&amp;size=50" in (
            first.content.decode()
        )
        assert 'data-testid="page-sizes"' in first.content.decode()
        # a size not offered is the default
        assert len(client.get("/care/alerts/", {"size": 1000}).context["rows"]) == 25
        # as many queries for 100 rows as for 25 (same pin as the list's own test)
        with django_assert_max_num_queries(13):
            assert len(client.get("/care/alerts/", {"size": 100}).context["rows"]) == 60

    def test_sorting_by_a_column(self, client, sixty, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/care/alerts/", {"sort": "-priority", "size": 100})
        priorities = [a.priority for a in rows_of(page)]
        assert priorities == sorted(priorities, reverse=True) and priorities[0] == 3
        html = page.content.decode()
        assert 'aria-sort="descending"' in html and 'data-sort="priority"' in html
        due = [a.due_date for a in rows_of(client.get("/care/alerts/", {"sort": "due", "size": 100}))]
        assert due == sorted(due)
        # a column not offered is the list's own order, not an error
        assert client.get("/care/alerts/", {"sort": "assignee__password"}).status_code == 200

    def test_sorting_keeps_the_filters(self, client, sixty, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/care/alerts/", {"kind": "maturity", "sort": "priority"})
        assert {a.kind for a in rows_of(page)} == {AlertKind.MATURITY}
        assert 'href="?kind=maturity&amp;sort=-priority"' in page.content.decode()


class TestAlertAnswers:
    def test_done_says_which_alert_and_how(self, client, team_alerts, demo_password):
        alert = team_alerts["demo_cm1"]
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/care/alerts/{alert.pk}/done/",
            {"outcome": AlertOutcome.CONTACTED, "channel": "call", "note": ""},
        )
        said = answers(response)
        assert said == [f"Tier changed of 张* ({alert.customer.customer_no}) is done: Contacted."]

    def test_hand_over_names_the_new_manager(self, client, demo_users, demo_password):
        alert = make_alert(
            assignee=demo_users["demo_bh"],
            kind=AlertKind.TEAM_OVERDUE,
            figures={"manager": "E1101", "count": 4},
            branch=demo_users["demo_cm1"].branch,
        )
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            f"/care/alerts/{alert.pk}/hand-over/",
            {"to_manager": "E1102", "reason": "on leave"},
        )
        assert answers(response) == [f"{alert.get_kind_display()} is handed over to 李经理."]


@pytest.fixture
def world(demo_users, new_customer):  # noqa: F811
    return small_world(demo_users, new_customer)


class TestJournal:
    def test_labelled_selects_and_the_team_by_name(self, client, world, org):
        client.force_login(world["users"]["bh"])
        html = client.get("/care/journal/").content.decode()
        assert options(html, "purpose")[0] == ("", "All purposes")
        team = options(html, "manager")
        assert team[0] == ("", "The whole team")
        assert ("E1101", f"王经理 · {org['11101'].name}") in team
        assert all(value != "E1201" for value, _ in team)
        assert "—</option>" not in html

    def test_a_manager_outside_the_team_is_refused(self, client, world):
        _record(world, feedback="Mine")
        client.force_login(world["users"]["bh"])
        response = client.get("/care/journal/", {"manager": "E1201"})
        assert response.status_code == 400 and response.context["page_obj"].paginator.count == 0
        assert "No manager with this employee number in your team." in response.content.decode()
        assert client.get("/care/journal/", {"manager": "E1101"}).context["page_obj"].paginator.count == 1

    def test_size_position_and_sort(self, client, world, django_assert_max_num_queries):
        base = timezone.now() - datetime.timedelta(days=3)
        for n in range(30):
            _record(
                world,
                visited_at=base - datetime.timedelta(minutes=n),
                purpose=(VisitPurpose.KEEP_IN_TOUCH, VisitPurpose.COMPLAINT)[n % 2],
                feedback=f"entry {n}",
            )
        client.force_login(world["users"]["cm1"])
        with django_assert_max_num_queries(14):
            first = client.get("/care/journal/")
        assert len(first.context["page_obj"].object_list) == 25
        assert "Items 1–25 of 30" in first.content.decode()
        assert len(client.get("/care/journal/", {"size": 50}).context["page_obj"].object_list) == 30
        oldest_first = client.get("/care/journal/", {"sort": "when"}).context["page_obj"].object_list
        assert oldest_first[0].feedback == "entry 29"
        by_purpose = list(client.get("/care/journal/", {"sort": "purpose", "size": 50}).context["page_obj"])
        purposes = [e.purpose for e in by_purpose]
        assert purposes == sorted(purposes)

    def test_recording_says_what_was_recorded(self, client, world):
        client.force_login(world["users"]["cm1"])
        when = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(hours=1)
        response = client.post(
            "/care/journal/new/",
            {
                "customer_no": world["own"].customer_no,
                "kind": "visit",
                "visited_at": when.strftime("%Y-%m-%dT%H:%M"),
                "purpose": VisitPurpose.KEEP_IN_TOUCH,
            },
        )
        assert response.status_code == 302
        assert answers(response) == [
            f"Visit with 王* ({world['own'].customer_no}) on {when:%Y-%m-%d %H:%M} recorded."
        ]


class TestOutbox:
    def test_size_position_and_sort(self, client, login, demo_users, demo_password, make_customer):  # noqa: F811
        customer = make_customer()
        for n in range(30):
            greet(customer, key=f"k{n}")
        client = login(demo_users["demo_cm1"], demo_password)
        first = client.get("/care/outbox/").content.decode()
        assert first.count('data-testid="message-') == 30 and "Items 1–30 of 30" in first
        small = client.get("/care/outbox/", {"size": 25}).content.decode()
        assert small.count('data-testid="message-') == 25 and "Items 1–25 of 30" in small
        oldest = client.get("/care/outbox/", {"sort": "queued"})
        newest = client.get("/care/outbox/")
        assert [m.pk for m in oldest.context["page_obj"]] == sorted(m.pk for m in newest.context["page_obj"])
        assert options(first, "status")[0] == ("", "All statuses")
        assert options(first, "channel")[0] == ("", "All channels")

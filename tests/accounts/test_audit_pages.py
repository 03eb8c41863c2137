"""The audit pages: the trail as a reader sees it (labels, names, changes, links),
its filters, paging and export, the suspicious-operation report and its review
queue, the usage by branch, and who may see them."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.utils import timezone

from accounts.audit import Action, audit
from accounts.audit_display import detail_lines, detail_text
from accounts.models import AuditEvent, FindingReview
from marketing.choices import MarketingAction
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

TZ = timezone.get_current_timezone()
WEDNESDAY = datetime.date(2026, 11, 18)
SATURDAY = datetime.date(2026, 11, 21)
ON_WEDNESDAY = {"date_from": WEDNESDAY.isoformat(), "date_to": WEDNESDAY.isoformat()}


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), TZ)


def event(action: str, when: datetime.datetime, *, user=None, username: str = "", **fields) -> AuditEvent:
    """An event as the trail holds it, at a chosen time (audit() always writes now)."""
    return AuditEvent.objects.create(
        action=str(action),
        occurred_at=when,
        actor=user,
        actor_username=username or (user.username if user else ""),
        **fields,
    )


@pytest.fixture
def auditor(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_audit", "password": demo_password})
    return demo_users["demo_audit"]


def cells(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


# --- the trail as a reader sees it -----------------------------------------------------------


@pytest.mark.django_db
class TestTheTrailReads:
    def test_actions_show_their_labels_not_their_codes(self, client, auditor, demo_users):
        cm1 = demo_users["demo_cm1"]
        event(Action.LOGIN, at(WEDNESDAY, 9), user=cm1)
        event(MarketingAction.TASK_ACCEPTED, at(WEDNESDAY, 10), user=cm1, details={"allocation": 7})
        shown = cells(client.get("/accounts/audit/", ON_WEDNESDAY).content.decode())
        assert "Login" in shown and "Marketing task accepted" in shown
        assert "login" not in shown and "task_accepted" not in shown

    def test_every_action_any_app_writes_has_a_label_in_the_select(self, client, auditor):
        html = client.get("/accounts/audit/").content.decode()
        options = dict(re.findall(r'<option value="([a-z_]+)">([^<]+)</option>', html))
        for code in (
            Action.LOGIN,
            Action.CUSTOMER_ACCESS_REFUSED,
            MarketingAction.TASK_ACCEPTED,
            "scheme_created",
        ):
            assert code in options and options[code] != code

    def test_the_user_shows_by_name_and_employee_number(self, client, auditor, demo_users):
        event(Action.LOGIN, at(WEDNESDAY, 9), user=demo_users["demo_cm1"])
        row = " | ".join(cells(client.get("/accounts/audit/", ON_WEDNESDAY).content.decode()))
        assert "王经理 E1101" in row and "demo_cm1" in row

    def test_a_change_reads_old_to_new_with_labels(self, client, auditor, demo_users):
        event(
            Action.TIER_CHANGED,
            at(WEDNESDAY, 9),
            user=demo_users["demo_bm"],
            details={"from": "gold", "to": "platinum", "reason": "annual review"},
        )
        html = client.get("/accounts/audit/", ON_WEDNESDAY).content.decode()
        shown = " | ".join(cells(html))
        assert "Tier: gold → platinum" in shown and "Reason: annual review" in shown
        assert "{'from'" not in html and "&#x27;from&#x27;" not in html

    def test_the_target_links_to_its_page(self, client, auditor, demo_users, new_customer):  # noqa: F811
        customer = new_customer(branch="11101", manager=demo_users["demo_cm1"])
        audit(
            Action.CUSTOMER_UPDATED,
            actor=demo_users["demo_cm1"],
            target=customer,
            details={"fields": ["name"]},
        )
        audit(Action.USER_DISABLED, actor=demo_users["demo_admin"], target=demo_users["demo_cm2"])
        html = client.get("/accounts/audit/").content.decode()
        assert f'href="/customers/{customer.customer_no}/"' in html
        assert f'href="/accounts/users/{demo_users["demo_cm2"].pk}/"' in html


def test_every_action_of_every_app_has_a_label():
    from accounts.audit_display import action_choices, action_label
    from performance.scheme_choices import SchemeAction

    labelled = dict(action_choices())
    for choices in (Action, MarketingAction, SchemeAction):
        for code in choices.values:
            assert code in labelled and action_label(code) == str(choices(code).label) != code


class TestDetailLines:
    def test_parameter_changes_against_before(self):
        lines = detail_lines(
            Action.PARAMETER_CHANGED,
            {
                "status": "proposed",
                "changes": {"policy": {"grace_days": 45}},
                "before": {"policy": {"grace_days": 30}},
            },
        )
        assert [(line.label, line.text) for line in lines] == [
            ("policy · grace days", "30 → 45"),
            ("Status", "proposed"),
        ]

    def test_a_from_to_value_roles_and_decisions(self):
        lines = detail_lines(
            Action.USER_APPROVED,
            {
                "vip_status": {"from": "none", "to": "vip"},
                "roles": ["client_manager"],
                "decision": "approved",
            },
        )
        assert [(line.label, line.text) for line in lines] == [
            ("VIP status", "none → vip"),
            ("Roles", "Client manager"),
            ("Decision", "Approved"),
        ]

    def test_home_layout_before_and_after_and_empty_values(self):
        text = detail_text(
            Action.HOME_LAYOUT_CHANGED, {"widgets": ["a", "b"], "before": ["a"], "reset": None}
        )
        assert text == "Widgets: a → a, b\nreset: —"


# --- filters and paging -----------------------------------------------------------------------


@pytest.mark.django_db
class TestFilters:
    @pytest.fixture
    def trail(self, demo_users):
        u = demo_users
        event(Action.LOGIN, at(WEDNESDAY, 9), user=u["demo_cm1"])  # 11101, under 11100
        event(Action.EXPORT, at(WEDNESDAY, 10), user=u["demo_cm2"], target_repr="客户名单")  # 11102
        event(Action.LOGIN, at(SATURDAY, 10), user=u["demo_cm3"])  # 12101, Shanghai
        event(Action.LOGIN_FAILED, at(WEDNESDAY, 11), username="nobody")

    def ids(self, client, **query) -> list[tuple[str, str]]:
        days = {"date_from": WEDNESDAY.isoformat(), "date_to": SATURDAY.isoformat()}
        response = client.get("/accounts/audit/", {**days, **query})
        assert response.status_code == 200
        return [(e.action, e.actor_username) for e in response.context["events"]]

    def test_by_action(self, client, auditor, trail):
        assert self.ids(client, action=Action.LOGIN) == [("login", "demo_cm3"), ("login", "demo_cm1")]

    def test_by_user_name_or_employee_number(self, client, auditor, trail):
        assert self.ids(client, actor="E1102") == [("export", "demo_cm2")]
        assert self.ids(client, actor="陈经理") == [("login", "demo_cm3")]
        assert self.ids(client, actor="nobody") == [("login_failed", "nobody")]

    def test_by_branch_and_everything_below_it(self, client, auditor, trail):
        assert self.ids(client, branch="11100") == [("export", "demo_cm2"), ("login", "demo_cm1")]

    def test_by_dates_and_target(self, client, auditor, trail):
        days = {"date_from": SATURDAY.isoformat(), "date_to": SATURDAY.isoformat()}
        assert self.ids(client, **days) == [("login", "demo_cm3")]
        assert self.ids(client, target="名单") == [("export", "demo_cm2")]

    def test_a_bad_filter_is_refused_with_its_reason(self, client, auditor):
        bad = client.get("/accounts/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
        assert bad.status_code == 400
        assert "The start date is after the end date." in bad.content.decode()
        assert client.get("/accounts/audit/", {"action": "no_such_action"}).status_code == 400


@pytest.mark.django_db
def test_pages_by_key_with_their_position(client, auditor, demo_users):
    cm1 = demo_users["demo_cm1"]
    same_second = at(WEDNESDAY, 9)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(action=Action.LOGIN, actor=cm1, actor_username="demo_cm1", occurred_at=same_second)
            for _ in range(30)
        ]
        + [
            AuditEvent(
                action=Action.LOGOUT, actor=cm1, actor_username="demo_cm1", occurred_at=at(WEDNESDAY, 10, m)
            )
            for m in range(30)
        ]
    )
    first = client.get("/accounts/audit/", {"actor": "demo_cm1"})
    html = first.content.decode()
    assert "Events 1–50, newest first" in html and "Newer" not in html
    older = re.search(r'href="\?([^"]*after=[^"]*)">Older', html).group(1).replace("&amp;", "&")
    second = client.get(f"/accounts/audit/?{older}")
    assert (
        "Events 51–60, newest first" in second.content.decode() and ">Older<" not in second.content.decode()
    )
    seen = [e.pk for e in first.context["events"]] + [e.pk for e in second.context["events"]]
    assert len(seen) == len(set(seen)) == 60  # none twice, none lost among equal times
    newer = (
        re.search(r'href="\?([^"]*before=[^"]*)">Newer', second.content.decode())
        .group(1)
        .replace("&amp;", "&")
    )
    back = client.get(f"/accounts/audit/?{newer}")
    assert [e.pk for e in back.context["events"]] == [e.pk for e in first.context["events"]]
    assert "Events 1–50" in back.content.decode()


@pytest.mark.django_db
def test_the_trail_page_reads_a_bounded_number_of_queries(
    client,
    auditor,
    demo_users,
    new_customer,  # noqa: F811
    django_assert_max_num_queries,
):
    customers = [new_customer(branch="11101", manager=demo_users["demo_cm1"]) for _ in range(5)]
    for n in range(40):
        audit(
            Action.CUSTOMER_UPDATED,
            actor=demo_users[f"demo_cm{n % 3 + 1}"],
            target=customers[n % 5],
            details={"fields": ["name"]},
        )
        audit(Action.USER_DISABLED, actor=demo_users["demo_admin"], target=demo_users["demo_cm2"])
    # the request's own (session, user, permissions, roles, branch, session save: 9), the
    # page, the customers' links, the branches of the filter
    with django_assert_max_num_queries(12):
        response = client.get("/accounts/audit/")
    assert len(response.context["rows"]) == 50


# --- the export ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_streams_the_filtered_trail_and_is_audited(client, auditor, demo_users):
    cm1 = demo_users["demo_cm1"]
    event(
        Action.TIER_CHANGED,
        at(WEDNESDAY, 9),
        user=cm1,
        target_repr="=HYPERLINK(1)",
        details={"from": "a", "to": "b"},
    )
    event(Action.LOGIN, at(WEDNESDAY, 8), user=cm1)
    event(Action.LOGIN, at(WEDNESDAY, 8), user=demo_users["demo_cm2"])
    response = client.get("/accounts/audit/export/", {"actor": "demo_cm1"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["Time", "Username", "Name", "Employee number", "Branch", "Action"]
    assert [row[5] for row in rows[1:]] == ["Tier changed", "Login"]
    assert rows[1][7] == "'=HYPERLINK(1)"  # a spreadsheet does not run it
    assert rows[1][9] == "Tier: a → b" and rows[1][2] == "王经理"
    export = AuditEvent.objects.get(action=Action.EXPORT, actor=auditor)
    assert export.details == {"export": "audit_trail", "filters": {"actor": "demo_cm1"}, "rows": 2}


@pytest.mark.django_db
def test_a_refused_export_filter_exports_nothing(client, auditor):
    response = client.get("/accounts/audit/export/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


# --- the suspicious-operation report ------------------------------------------------------------


def findings(client, day=WEDNESDAY, until=None, **query):
    response = client.get(
        "/accounts/audit/findings/",
        {"date_from": day.isoformat(), "date_to": (until or day).isoformat(), **query},
    )
    assert response.status_code == 200
    return {(f.rule, f.username): f for f in response.context["findings"]}


@pytest.mark.django_db
class TestSuspiciousRules:
    def test_bulk_exports(self, client, auditor, demo_users):
        u = demo_users
        event(Action.EXPORT, at(WEDNESDAY, 10), user=u["demo_cm1"], details={"rows": 6000})
        event(Action.EXPORT, at(WEDNESDAY, 10), user=u["demo_cm2"], details={"rows": 5000})  # at the limit
        for minute in range(11):
            event(Action.EXPORT, at(WEDNESDAY, 11, minute), user=u["demo_cm3"], details={"rows": 1})
        for minute in range(10):
            event(Action.EXPORT, at(WEDNESDAY, 11, minute), user=u["demo_bh"], details={"rows": 1})
        found = findings(client)
        assert set(found) == {("bulk_export", "demo_cm1"), ("bulk_export", "demo_cm3")}
        many = found[("bulk_export", "demo_cm3")]
        assert (many.count, many.first, many.last) == (11, at(WEDNESDAY, 11), at(WEDNESDAY, 11, 10))

    def test_off_hours_and_weekends(self, client, auditor, demo_users):
        u = demo_users
        event(Action.LOGIN, at(WEDNESDAY, 21, 30), user=u["demo_cm1"])
        event(Action.LOGIN, at(WEDNESDAY, 7, 59), user=u["demo_cm2"])
        event(Action.LOGIN, at(WEDNESDAY, 8), user=u["demo_cm3"])  # working hours
        event(Action.LOGIN, at(WEDNESDAY, 19, 59), user=u["demo_cm3"])
        event(Action.LOGIN, at(SATURDAY, 10), user=u["demo_bh"])
        event(Action.ALERTS_EVALUATED, at(WEDNESDAY, 2), username="")  # the nightly job
        found = findings(client, until=SATURDAY)
        assert set(found) == {("off_hours", "demo_cm1"), ("off_hours", "demo_cm2"), ("off_hours", "demo_bh")}
        assert found[("off_hours", "demo_bh")].day == SATURDAY

    def test_customers_outside_the_scope(self, client, demo_users, demo_password, new_customer):  # noqa: F811
        foreign = [new_customer(branch="11101", manager=demo_users["demo_cm1"]) for _ in range(3)]
        own = new_customer(branch="12101", manager=demo_users["demo_cm3"])
        client.post("/accounts/login/", {"username": "demo_cm3", "password": demo_password})
        for customer in foreign:
            assert client.get(f"/customers/{customer.customer_no}/").status_code == 404
        assert client.get("/customers/99999999999/").status_code == 404  # nobody: not recorded
        assert client.get(f"/customers/{own.customer_no}/").status_code == 200  # own: not recorded
        refused = AuditEvent.objects.filter(action=Action.CUSTOMER_ACCESS_REFUSED)
        assert sorted(refused.values_list("target_id", flat=True)) == sorted(str(c.pk) for c in foreign)
        assert set(refused.values_list("actor_username", flat=True)) == {"demo_cm3"}
        # the same two days later, but only twice: below the threshold
        for customer in foreign[:2]:
            event(
                Action.CUSTOMER_ACCESS_REFUSED,
                at(WEDNESDAY, 10),
                user=demo_users["demo_cm2"],
                target_id=customer.pk,
            )
        client.logout()
        client.post("/accounts/login/", {"username": "demo_audit", "password": demo_password})
        today = timezone.localdate()
        found = findings(client, day=WEDNESDAY, until=today, rule="outside_scope")
        assert (
            set(found) == {("outside_scope", "demo_cm3")} and found[("outside_scope", "demo_cm3")].count == 3
        )

    def test_repeated_failed_logins(self, client, auditor):
        for minute in range(2):
            event(Action.LOGIN_FAILED, at(WEDNESDAY, 9, minute), username="ghost")
        event(Action.LOCKED_OUT, at(WEDNESDAY, 9, 5), username="ghost")
        event(Action.LOGIN_FAILED, at(WEDNESDAY, 9), username="demo_cm1")
        event(Action.LOGIN_FAILED, at(WEDNESDAY, 10), username="demo_cm1")
        found = findings(client)
        assert set(found) == {("failed_logins", "ghost")}
        assert found[("failed_logins", "ghost")].user is None  # no such user: the name stays

    def test_personal_data_beyond_the_daily_limit(self, client, auditor, demo_users, settings):
        settings.PII_REVEAL_DAILY_LIMIT = 2
        for minute in range(3):
            event(Action.PII_REVEALED, at(WEDNESDAY, 9, minute), user=demo_users["demo_cm1"])
        for minute in range(2):
            event(Action.PII_REVEALED, at(WEDNESDAY, 9, minute), user=demo_users["demo_cm2"])
        assert set(findings(client)) == {("pii_reveals", "demo_cm1")}

    def test_credit_report_queries_beyond_the_threshold_or_well_above_the_peers(
        self, client, auditor, demo_users
    ):
        u = demo_users
        asked = {"demo_cm1": 11, "demo_cm2": 6, "demo_cm3": 2, "demo_bh": 1}  # one day
        for username, count in asked.items():
            for minute in range(count):
                event(Action.CREDIT_QUERY_REQUESTED, at(WEDNESDAY, 10, minute), user=u[username])
        # the next day, many but close to each other: no one stands out
        thursday = WEDNESDAY + datetime.timedelta(days=1)
        for username, count in {"demo_cm1": 6, "demo_cm2": 5, "demo_cm3": 4}.items():
            for minute in range(count):
                event(Action.CREDIT_QUERY_REQUESTED, at(thursday, 10, minute), user=u[username])
        found = findings(client, until=thursday)
        # cm1: more than 10 in the day; cm2: 6, three times the others' median (2)
        assert set(found) == {("credit_queries", "demo_cm1"), ("credit_queries", "demo_cm2")}
        assert (found[("credit_queries", "demo_cm1")].count, found[("credit_queries", "demo_cm1")].day) == (
            11,
            WEDNESDAY,
        )
        assert found[("credit_queries", "demo_cm2")].rule_label == "Credit-report queries beyond the usual"

    def test_credit_report_queries_refused(self, client, auditor, demo_users):
        u = demo_users
        for minute in range(3):
            event(Action.CREDIT_QUERY_REFUSED, at(WEDNESDAY, 14, minute), user=u["demo_cm3"])
        event(Action.CREDIT_QUERY_REQUESTED, at(WEDNESDAY, 9), user=u["demo_cm3"])
        for minute in range(2):  # below the threshold
            event(Action.CREDIT_QUERY_REFUSED, at(WEDNESDAY, 14, minute), user=u["demo_cm2"])
        found = findings(client)
        assert set(found) == {("credit_refusals", "demo_cm3")}
        refusals = found[("credit_refusals", "demo_cm3")]
        assert (refusals.count, refusals.first, refusals.last) == (3, at(WEDNESDAY, 14), at(WEDNESDAY, 14, 2))
        html = client.get("/accounts/audit/findings/", ON_WEDNESDAY).content.decode()
        assert "Credit-report queries refused" in html
        link = re.search(r'href="([^"]+)">See the events', html).group(1).replace("&amp;", "&")
        assert link.endswith("&action=credit_query_refused")

    def test_a_credit_finding_against_the_peers_is_reviewed_like_any_other(self, client, auditor, demo_users):
        u = demo_users
        for username, count in {"demo_cm1": 5, "demo_cm2": 1, "demo_cm3": 1}.items():
            for minute in range(count):
                event(Action.CREDIT_QUERY_REQUESTED, at(WEDNESDAY, 10, minute), user=u[username])
        assert set(findings(client, rule="credit_queries")) == {("credit_queries", "demo_cm1")}
        response = client.post(
            "/accounts/audit/findings/review/",
            {
                "rule": "credit_queries",
                "username": "demo_cm1",
                "day": "2026-11-18",
                "outcome": "explanation_accepted",
                "note": "月末集中审批贷款",
            },
        )
        assert response.status_code == 302
        assert FindingReview.objects.get().rule == "credit_queries"
        assert findings(client) == {}

    def test_innocent_days_make_no_finding(self, client, auditor, demo_users):
        u = demo_users
        event(Action.LOGIN, at(WEDNESDAY, 9), user=u["demo_cm1"])
        event(Action.EXPORT, at(WEDNESDAY, 10), user=u["demo_cm1"], details={"rows": 20})
        event(Action.PII_REVEALED, at(WEDNESDAY, 11), user=u["demo_cm1"])
        event(Action.LOGIN_FAILED, at(WEDNESDAY, 12), username="demo_cm2")
        response = client.get(
            "/accounts/audit/findings/", {"date_from": "2026-11-18", "date_to": "2026-11-18"}
        )
        assert response.context["findings"] == []
        assert "No finding in these days." in response.content.decode()

    def test_a_finding_shows_the_user_and_links_to_its_events(self, client, auditor, demo_users):
        event(Action.EXPORT, at(WEDNESDAY, 10), user=demo_users["demo_cm1"], details={"rows": 9000})
        html = client.get("/accounts/audit/findings/", {"date_from": "2026-11-18", "date_to": "2026-11-18"})
        html = html.content.decode()
        assert "王经理" in html and "E1101" in html and "Bulk export" in html
        link = re.search(r'href="([^"]+)">See the events', html).group(1).replace("&amp;", "&")
        assert link == "/accounts/audit/?actor=demo_cm1&date_from=2026-11-18&date_to=2026-11-18&action=export"
        listed = client.get(link).context["events"]
        assert [e.details["rows"] for e in listed] == [9000]

    def test_the_report_reads_a_bounded_number_of_queries(
        self, client, auditor, demo_users, django_assert_max_num_queries
    ):
        for day in range(14, 21):
            for username in ("demo_cm1", "demo_cm2", "demo_cm3", "demo_bh"):
                event(Action.LOGIN, at(datetime.date(2026, 11, day), 22), user=demo_users[username])
                event(
                    Action.EXPORT,
                    at(datetime.date(2026, 11, day), 10),
                    user=demo_users[username],
                    details={"rows": 8000},
                )
        # the request's own (9), five rules and one for both credit rules, the users, the reviews
        with django_assert_max_num_queries(17):
            response = client.get(
                "/accounts/audit/findings/", {"date_from": "2026-11-14", "date_to": "2026-11-20"}
            )
        assert len(response.context["findings"]) == 7 * 4 * 2

    def test_a_range_longer_than_a_quarter_is_refused(self, client, auditor):
        response = client.get(
            "/accounts/audit/findings/", {"date_from": "2026-01-01", "date_to": "2026-11-01"}
        )
        assert response.status_code == 400 and "at most 92 days" in response.content.decode()


# --- the review queue -----------------------------------------------------------------------


@pytest.mark.django_db
class TestReviewQueue:
    @pytest.fixture
    def finding(self, demo_users):
        for minute in range(3):
            event(Action.LOGIN_FAILED, at(WEDNESDAY, 9, minute), username="demo_cm1")
        return {"rule": "failed_logins", "username": "demo_cm1", "day": "2026-11-18"}

    def review(self, client, data, follow=False, **extra):
        return client.post(
            "/accounts/audit/findings/review/",
            {**data, "outcome": "explanation_accepted", "note": "forgot", **extra},
            follow=follow,
        )

    def test_a_reviewed_finding_leaves_the_queue_and_shows_on_asking(self, client, auditor, finding):
        assert set(findings(client)) == {("failed_logins", "demo_cm1")}
        response = self.review(client, finding, next="/accounts/audit/findings/?date_from=2026-11-18")
        assert (
            response.status_code == 302
            and response["Location"] == "/accounts/audit/findings/?date_from=2026-11-18"
        )
        review = FindingReview.objects.get()
        assert (review.reviewed_by, review.outcome, review.note) == (
            auditor,
            "explanation_accepted",
            "forgot",
        )
        event_ = AuditEvent.objects.get(action=Action.FINDING_REVIEWED)
        assert event_.actor == auditor and event_.details["outcome"] == "explanation_accepted"
        assert findings(client) == {}
        shown = findings(client, show_reviewed="on")[("failed_logins", "demo_cm1")]
        assert shown.review == review
        html = client.get(
            "/accounts/audit/findings/",
            {"date_from": "2026-11-18", "date_to": "2026-11-18", "show_reviewed": "on"},
        ).content.decode()
        assert "Explanation accepted" in html and "审计员" in html and "forgot" in html

    def test_a_finding_is_reviewed_once(self, client, auditor, finding):
        self.review(client, finding)
        response = self.review(client, finding, outcome="escalated", follow=True)
        assert "This finding has been reviewed already." in response.content.decode()
        assert FindingReview.objects.get().outcome == "explanation_accepted"

    def test_no_review_of_what_the_report_does_not_hold(self, client, auditor, finding):
        response = client.post(
            "/accounts/audit/findings/review/",
            {**finding, "rule": "bulk_export", "outcome": "false_alarm", "note": "x"},
            follow=True,
        )
        assert "The report holds no such finding." in response.content.decode()
        assert not FindingReview.objects.exists()

    def test_a_review_says_what_came_of_it(self, client, auditor, finding):
        response = client.post(
            "/accounts/audit/findings/review/", {**finding, "outcome": "explanation_accepted"}, follow=True
        )
        assert "Note: This field is required." in response.content.decode()
        response = client.post(
            "/accounts/audit/findings/review/", {**finding, "outcome": "maybe", "note": "x"}, follow=True
        )
        assert "Outcome: Select a valid choice." in response.content.decode()
        assert not FindingReview.objects.exists()

    def test_the_administrator_reads_the_report_but_does_not_review(
        self, client, demo_users, demo_password, finding
    ):
        client.post("/accounts/login/", {"username": "demo_admin", "password": demo_password})
        html = client.get("/accounts/audit/findings/", {"date_from": "2026-11-18", "date_to": "2026-11-18"})
        assert html.status_code == 200 and "Mark reviewed" not in html.content.decode()
        assert self.review(client, finding).status_code == 403
        assert not FindingReview.objects.exists()

    def test_an_outside_next_address_is_not_followed(self, client, auditor, finding):
        response = self.review(client, finding, next="https://evil.example/")
        assert response["Location"] == "/accounts/audit/findings/"


# --- usage by branch -------------------------------------------------------------------------


@pytest.mark.django_db
class TestUsage:
    @pytest.fixture
    def november(self, demo_users):
        u = demo_users
        for day in (3, 4):
            event(Action.LOGIN, at(datetime.date(2026, 11, day), 9), user=u["demo_cm1"])
        event(Action.EXPORT, at(datetime.date(2026, 11, 4), 10), user=u["demo_cm1"])
        event(Action.LOGIN, at(datetime.date(2026, 11, 5), 9), user=u["demo_cm2"])
        event(Action.LOGIN, at(datetime.date(2026, 11, 5), 9), user=u["demo_cm3"])
        event(Action.PII_REVEALED, at(datetime.date(2026, 11, 5), 10), user=u["demo_cm3"])
        event(Action.LOGIN, at(datetime.date(2026, 10, 31), 23, 59), user=u["demo_cm2"])  # October
        event(Action.LOGIN, at(datetime.date(2026, 12, 1), 0), user=u["demo_cm2"])  # December

    def rows(self, client, **query):
        response = client.get("/accounts/audit/usage/", query)
        assert response.status_code == 200
        return {
            row.branch.code: (row.active_users, row.logins, row.events, row.functions)
            for row in response.context["rows"]
        }

    def test_counts_per_branch_and_month(self, client, auditor, november):
        assert self.rows(client, month="2026-11") == {
            "11101": (1, 2, 3, [("Login", 2), ("Export", 1)]),
            "11102": (1, 1, 1, [("Login", 1)]),
            "12101": (1, 1, 2, [("Login", 1), ("Personal data revealed", 1)]),
        }

    def test_head_office_sees_every_branch_or_one_subtree(self, client, auditor, november):
        assert set(self.rows(client, month="2026-11", branch="11100")) == {"11101", "11102"}
        html = client.get("/accounts/audit/usage/", {"month": "2026-11"}).content.decode()
        assert html.count('<option value="') >= 10  # every branch of the bank to choose from

    def test_a_month_defaults_to_this_one_and_a_bad_one_is_refused(self, client, auditor, demo_users):
        audit(Action.LOGIN, actor=demo_users["demo_cm1"])
        this_month = self.rows(client)
        assert this_month["11101"] == (1, 1, 1, [("Login", 1)])
        assert this_month["10000"] == (1, 1, 1, [("Login", 1)])  # the auditor's own login
        bad = client.get("/accounts/audit/usage/", {"month": "2026-13"})
        assert bad.status_code == 400 and "Enter a month as YYYY-MM." in bad.content.decode()

    def test_usage_reads_a_bounded_number_of_queries(
        self, client, auditor, november, django_assert_max_num_queries
    ):
        # the request's own (9), two aggregates, the branches shown, the branches of the filter
        with django_assert_max_num_queries(13):
            client.get("/accounts/audit/usage/", {"month": "2026-11"})


# --- who may see them ---------------------------------------------------------------------------

PAGES = ["/accounts/audit/", "/accounts/audit/export/", "/accounts/audit/findings/", "/accounts/audit/usage/"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["demo_cm1", "demo_bh", "demo_bm", "demo_pm"])
def test_other_roles_are_refused(client, demo_users, demo_password, username):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    assert client.post("/accounts/audit/findings/review/", {}).status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["demo_audit", "demo_admin"])
def test_the_auditor_and_the_administrator_may_read(client, demo_users, demo_password, username):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    for page in PAGES:
        assert client.get(page).status_code == 200, page

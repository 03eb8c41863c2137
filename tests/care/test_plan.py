"""The work plan: recurring items expanded for the days a page shows, the week and
month calendar with China's public holidays and working weekends, "plan a visit"
from an alert or a customer, done and cancel, and the manager's own reminders."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from care.choices import AlertKind, PlanKind, PlanRecurrence, PlanStatus
from care.holidays import day_mark, is_working_day
from care.models import Alert, PlanItem
from care.selectors.plan import occurrence_dates, plan_for_day, week_value
from care.services.plan import plan_item_cancel, plan_item_complete, plan_item_create, plan_item_update
from tests.care.world_plan import small_world
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

D = datetime.date


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def world(demo_users, new_customer):  # noqa: F811
    return small_world(demo_users, new_customer)


def _cell(html: str, day: datetime.date) -> str:
    """The calendar cell of one day."""
    match = re.search(rf'data-testid="day-{day.isoformat()}">(.*?)</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def _alert(customer, assignee, *, due: datetime.date, kind: str = AlertKind.MATURITY) -> Alert:
    return Alert.objects.create(
        kind=kind,
        customer=customer,
        event_key=f"test:{customer.pk}:{due}",
        event_date=due,
        due_date=due,
        assignee=assignee,
        branch=customer.home_branch,
        figures={"maturity_date": due.isoformat(), "amount": "100000.00"},
    )


# --- recurrence ---------------------------------------------------------------------------


def test_a_weekly_item_repeats_across_a_month_end_until_its_last_day():
    item = PlanItem(start_date=D(2026, 1, 26), recurrence=PlanRecurrence.WEEKLY, recur_until=D(2026, 2, 16))
    assert occurrence_dates(item, D(2026, 1, 1), D(2026, 3, 31)) == [
        D(2026, 1, 26),
        D(2026, 2, 2),
        D(2026, 2, 9),
        D(2026, 2, 16),
    ]
    # a page that starts in the middle of the series sees only its own days
    assert occurrence_dates(item, D(2026, 2, 3), D(2026, 2, 10)) == [D(2026, 2, 9)]
    # the until date ends it, whatever the page asks for
    item.recur_until = D(2026, 2, 8)
    assert occurrence_dates(item, D(2026, 1, 1), D(2026, 3, 31)) == [D(2026, 1, 26), D(2026, 2, 2)]


def test_a_monthly_item_on_the_31st_falls_on_the_last_day_of_shorter_months():
    item = PlanItem(start_date=D(2026, 1, 31), recurrence=PlanRecurrence.MONTHLY, recur_until=D(2026, 5, 31))
    assert occurrence_dates(item, D(2026, 1, 1), D(2026, 12, 31)) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]
    assert occurrence_dates(item, D(2026, 4, 1), D(2026, 4, 30)) == [D(2026, 4, 30)]


def test_a_one_off_item_falls_on_its_day_only():
    item = PlanItem(start_date=D(2026, 3, 3))
    assert occurrence_dates(item, D(2026, 3, 1), D(2026, 3, 7)) == [D(2026, 3, 3)]
    assert occurrence_dates(item, D(2026, 3, 4), D(2026, 3, 7)) == []


# --- holidays --------------------------------------------------------------------------------


def test_public_holidays_and_working_weekends_of_2026():
    national_day = day_mark(D(2026, 10, 1))
    assert national_day and national_day.holiday and national_day.name == "National Day"
    spring_saturday = day_mark(D(2026, 2, 21))  # a Saturday inside the Spring Festival
    assert spring_saturday and spring_saturday.holiday
    worked = day_mark(D(2026, 2, 14))  # a Saturday worked for the Spring Festival
    assert worked and worked.working_weekend and not worked.holiday
    assert worked.name == "Spring Festival"
    assert day_mark(D(2026, 3, 3)) is None  # an ordinary Tuesday
    assert day_mark(D(2026, 3, 7)) is None  # an ordinary Saturday
    assert is_working_day(D(2026, 2, 14)) and not is_working_day(D(2026, 10, 1))
    assert is_working_day(D(2026, 3, 3)) and not is_working_day(D(2026, 3, 7))


def test_the_calendar_marks_holidays_and_working_weekends(client, world):
    client.force_login(world["users"]["cm1"])
    html = client.get("/care/plan/", {"month": "2026-10"}).content.decode()
    assert 'data-testid="holiday"' in _cell(html, D(2026, 10, 1))
    assert "National Day" in _cell(html, D(2026, 10, 1))
    assert 'data-testid="working-weekend"' in _cell(html, D(2026, 10, 10))
    assert "data-testid" not in _cell(html, D(2026, 10, 14))  # an ordinary Wednesday
    html = client.get("/care/plan/", {"week": "2026-W07"}).content.decode()
    assert 'data-testid="working-weekend"' in _cell(html, D(2026, 2, 14))
    assert 'data-testid="holiday"' in _cell(html, D(2026, 2, 15))


# --- the calendar pages ---------------------------------------------------------------------


def test_the_week_shows_the_managers_own_plan_with_its_occurrences(
    client, world, django_assert_max_num_queries
):
    cm1, cm2 = world["users"]["cm1"], world["users"]["cm2"]
    start = today() + datetime.timedelta(days=1)
    plan_item_create(
        owner=cm1,
        customer=world["own"],
        title="Weekly call",
        kind=PlanKind.CALL,
        start_date=start,
        start_time=datetime.time(9, 30),
        recurrence=PlanRecurrence.WEEKLY,
        recur_until=start + datetime.timedelta(days=60),
    )
    for n in range(5):
        plan_item_create(owner=cm1, title=f"To-do {n}", kind=PlanKind.TODO, start_date=start)
    plan_item_create(owner=cm2, customer=world["colleague"], title="Colleague's visit", start_date=start)
    client.force_login(cm1)
    week = start + datetime.timedelta(days=7)
    with django_assert_max_num_queries(12):
        response = client.get("/care/plan/", {"week": week_value(week)})
    html = response.content.decode()
    assert response.status_code == 200
    cell = _cell(html, week)
    assert "Weekly call" in cell and "09:30" in cell and "Phone call" in cell  # the label, not "call"
    assert world["own"].customer_no in cell and "王小明" in cell
    assert "Colleague&#x27;s visit" not in html and "Colleague's visit" not in html
    # the month shows the weekly call on every week it falls on
    with django_assert_max_num_queries(12):
        month = client.get("/care/plan/", {"month": week.strftime("%Y-%m")}).content.decode()
    assert month.count("Weekly call") >= 4


def test_previous_next_and_a_bad_week(client, world):
    client.force_login(world["users"]["cm1"])
    response = client.get("/care/plan/", {"week": "2026-W01"})
    assert response.context["page"].start == D(2025, 12, 29)
    assert (response.context["page"].previous, response.context["page"].next) == ("2025-W52", "2026-W02")
    response = client.get("/care/plan/", {"month": "2026-01"})
    assert (response.context["page"].previous, response.context["page"].next) == ("2025-12", "2026-02")
    assert response.context["page"].start == D(2025, 12, 29)  # the Monday before 1 January
    for bad in ({"week": "2026-W60"}, {"week": "next"}, {"month": "2026-13"}):
        response = client.get("/care/plan/", bad)
        assert response.status_code == 400, bad
        assert b"Not a week or a month" in response.content


def test_a_branch_head_reads_a_team_members_calendar_a_manager_does_not(client, world):
    cm1 = world["users"]["cm1"]
    plan_item_create(owner=cm1, customer=world["own"], title="Visit Wang", start_date=today())
    client.force_login(world["users"]["bh"])
    response = client.get("/care/plan/", {"manager": cm1.employee_no})
    assert response.status_code == 200 and b"Visit Wang" in response.content
    assert b'action="/care/plan/' not in response.content  # no done/cancel on someone else's plan
    assert client.get("/care/plan/", {"manager": world["users"]["cm3"].employee_no}).status_code == 404
    client.force_login(world["users"]["cm2"])
    assert client.get("/care/plan/", {"manager": cm1.employee_no}).status_code == 404


def test_plan_for_day_is_the_users_own_day(world):
    cm1, cm2 = world["users"]["cm1"], world["users"]["cm2"]
    mine = plan_item_create(owner=cm1, title="Mine", start_date=today(), start_time=datetime.time(14))
    early = plan_item_create(owner=cm1, title="Early", start_date=today(), start_time=datetime.time(8))
    plan_item_create(owner=cm2, title="Theirs", start_date=today())
    plan_item_create(owner=cm1, title="Tomorrow", start_date=today() + datetime.timedelta(days=1))
    assert [o.item for o in plan_for_day(cm1, today())] == [early, mine]


# --- plan a visit ---------------------------------------------------------------------------


def test_plan_a_visit_from_an_alert_comes_filled_in(client, world):
    cm1, own = world["users"]["cm1"], world["own"]
    due = today() + datetime.timedelta(days=5)
    alert = _alert(own, cm1, due=due)
    client.force_login(cm1)
    response = client.get("/care/plan/new/", {"customer": own.customer_no, "alert": alert.pk})
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["customer_no"] == own.customer_no
    assert initial["alert"] == alert.pk and initial["start_date"] == due
    assert initial["title"] == "Maturity"
    assert b"From the alert" in response.content
    # the alert alone brings its customer
    response = client.get("/care/plan/new/", {"alert": alert.pk})
    assert response.context["form"].initial["customer_no"] == own.customer_no
    # saving it links the item to the alert
    response = client.post(
        "/care/plan/new/",
        {
            "kind": "visit",
            "customer_no": own.customer_no,
            "title": "Maturity visit",
            "start_date": due.isoformat(),
            "start_time": "10:00",
            "end_time": "11:30",
            "recurrence": "none",
            "alert": alert.pk,
        },
    )
    assert response.status_code == 302
    item = PlanItem.objects.get()
    assert (item.owner, item.customer, item.alert, item.start_date) == (cm1, own, alert, due)
    assert AuditEvent.objects.filter(action="plan_item_created", actor=cm1, target_id=str(item.pk)).exists()


def test_plan_a_visit_refuses_a_customer_or_alert_outside_the_scope(client, world):
    cm1, foreign = world["users"]["cm1"], world["foreign"]
    their_alert = _alert(foreign, world["users"]["cm3"], due=today())
    client.force_login(cm1)
    assert client.get("/care/plan/new/", {"customer": foreign.customer_no}).status_code == 404
    assert client.get("/care/plan/new/", {"alert": their_alert.pk}).status_code == 404
    assert client.get("/care/plan/new/", {"alert": "x"}).status_code == 404
    # an alert and its own customer together: fine
    mine = _alert(world["own"], cm1, due=today())
    response = client.get("/care/plan/new/", {"alert": mine.pk, "customer": world["own"].customer_no})
    assert response.status_code == 200
    # typed into the form: an error, nothing written
    response = client.post(
        "/care/plan/new/",
        {"kind": "visit", "customer_no": foreign.customer_no, "title": "x", "start_date": today().isoformat(),
         "recurrence": "none"},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"No customer with this number in your scope." in response.content
    response = client.post(
        "/care/plan/new/",
        {"kind": "todo", "title": "x", "start_date": today().isoformat(), "recurrence": "none",
         "alert": their_alert.pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert not PlanItem.objects.exists()
    # the service refuses them whatever its caller checked
    with pytest.raises(PermissionDenied):
        plan_item_create(owner=cm1, customer=foreign, title="x", start_date=today())
    with pytest.raises(PermissionDenied):
        plan_item_create(owner=cm1, alert=their_alert, title="x", start_date=today())
    # and an auditor may not plan at all
    client.force_login(world["users"]["audit"])
    assert client.get("/care/plan/new/").status_code == 403


def test_dates_that_make_no_sense_are_refused(client, world):
    cm1 = world["users"]["cm1"]
    client.force_login(cm1)
    base = {"kind": "todo", "title": "x", "start_date": today().isoformat(), "recurrence": "none"}
    cases = [
        ({"start_time": "11:00", "end_time": "10:00"}, "The end must be after the start."),
        ({"end_time": "10:00"}, "Give the start time of a plan with an end time."),
        ({"recurrence": "weekly"}, "Say until when it repeats."),
        (
            {"recurrence": "weekly", "recur_until": (today() - datetime.timedelta(days=1)).isoformat()},
            "It cannot repeat until a day before it starts.",
        ),
        (
            {"start_date": (today() - datetime.timedelta(days=1)).isoformat()},
            "A plan cannot start in the past.",
        ),
        (
            {"recurrence": "monthly", "recur_until": (today() + datetime.timedelta(days=800)).isoformat()},
            "A plan may repeat for one year at most.",
        ),
    ]
    for change, message in cases:
        response = client.post("/care/plan/new/", {**base, **change})
        assert response.status_code == 400, change
        assert message in response.content.decode(), change
    assert not PlanItem.objects.exists()
    with pytest.raises(ValidationError) as refused:
        plan_item_create(
            owner=cm1, title="x", start_date=today(), start_time=datetime.time(11), end_time=datetime.time(10)
        )
    assert "end_time" in refused.value.error_dict


def test_editing_a_plan_item_is_its_owners(client, world):
    cm1 = world["users"]["cm1"]
    item = plan_item_create(owner=cm1, customer=world["own"], title="Visit", start_date=today())
    client.force_login(cm1)
    assert client.get(f"/care/plan/{item.pk}/edit/").status_code == 200
    moved = (today() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        f"/care/plan/{item.pk}/edit/",
        {"kind": "call", "customer_no": world["own"].customer_no, "title": "Call instead", "start_date": moved,
         "recurrence": "none"},
    )  # fmt: skip
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.kind, item.title, item.start_date.isoformat()) == ("call", "Call instead", moved)
    event = AuditEvent.objects.get(action="plan_item_changed")
    assert event.details["changed"] == ["kind", "start_date", "title"]
    for name in ("bh", "cm2"):  # the branch head reads it, but only its owner changes it
        client.force_login(world["users"][name])
        assert client.get(f"/care/plan/{item.pk}/edit/").status_code == 404, name
    with pytest.raises(PermissionDenied):
        plan_item_update(item=item, by=world["users"]["bh"], title="mine now")


def test_done_and_cancel(client, world):
    cm1 = world["users"]["cm1"]
    start = today() + datetime.timedelta(days=1)
    once = plan_item_create(owner=cm1, title="Once", start_date=start)
    weekly = plan_item_create(
        owner=cm1,
        title="Weekly",
        start_date=start,
        recurrence=PlanRecurrence.WEEKLY,
        recur_until=start + datetime.timedelta(days=28),
    )
    client.force_login(world["users"]["cm2"])
    assert client.post(f"/care/plan/{once.pk}/done/").status_code == 404
    client.force_login(cm1)
    assert client.post(f"/care/plan/{once.pk}/done/").status_code == 302
    once.refresh_from_db()
    assert once.status == PlanStatus.DONE
    # a recurring item: one occurrence at a time, on a day it falls on
    second = start + datetime.timedelta(days=7)
    client.post(f"/care/plan/{weekly.pk}/done/", {"on": second.isoformat()})
    weekly.refresh_from_db()
    assert weekly.status == PlanStatus.PLANNED and weekly.done_dates == [second.isoformat()]
    response = client.post(
        f"/care/plan/{weekly.pk}/done/", {"on": (second + datetime.timedelta(days=1)).isoformat()}
    )
    assert response.status_code == 302
    weekly.refresh_from_db()
    assert weekly.done_dates == [second.isoformat()]
    html = client.get(response["Location"]).content.decode()
    assert "Choose a day on which this plan falls." in html
    week = client.get("/care/plan/", {"week": week_value(second)}).content.decode()
    assert "text-decoration-line-through" in _cell(week, second)
    # cancelling ends the series: the calendar no longer shows it
    assert client.post(f"/care/plan/{weekly.pk}/cancel/").status_code == 302
    weekly.refresh_from_db()
    assert weekly.status == PlanStatus.CANCELLED
    week = client.get("/care/plan/", {"week": week_value(second)}).content.decode()
    assert "Weekly" not in _cell(week, second)
    assert AuditEvent.objects.filter(action="plan_item_done", actor=cm1).count() == 2
    assert AuditEvent.objects.filter(action="plan_item_cancelled", actor=cm1).count() == 1
    # done or cancelled stays so: no change, no second event
    plan_item_cancel(item=weekly, by=cm1)
    plan_item_complete(item=once, by=cm1)
    assert AuditEvent.objects.filter(action__in=["plan_item_done", "plan_item_cancelled"]).count() == 3
    with pytest.raises(ValidationError):
        plan_item_update(item=once, by=cm1, title="again")


# --- own reminders --------------------------------------------------------------------------


def test_an_own_reminder_is_an_alert_of_kind_own(client, world):
    cm1, own = world["users"]["cm1"], world["own"]
    client.force_login(cm1)
    response = client.get("/care/reminders/new/", {"customer": own.customer_no})
    assert response.status_code == 200 and response.context["form"].initial["customer_no"] == own.customer_no
    on = today() + datetime.timedelta(days=3)
    response = client.post(
        "/care/reminders/new/",
        {"customer_no": own.customer_no, "on": on.isoformat(), "text": "Ask about the CD"},
    )
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.OWN and alert.event_key.startswith("own:")
    assert (alert.customer, alert.assignee, alert.branch, alert.due_date) == (own, cm1, own.home_branch, on)
    assert alert.figures == {"text": "Ask about the CD"}
    assert AuditEvent.objects.filter(action="own_reminder_set", actor=cm1).exists()
    # without a customer: the manager's own branch
    client.post("/care/reminders/new/", {"on": on.isoformat(), "text": "Branch training"})
    assert Alert.objects.get(figures__text="Branch training").branch == cm1.branch
    # refused: a day past, a customer outside the scope
    response = client.post(
        "/care/reminders/new/", {"on": (today() - datetime.timedelta(days=1)).isoformat(), "text": "late"}
    )
    assert (
        response.status_code == 400 and b"A reminder cannot be set for a day in the past." in response.content
    )
    response = client.post(
        "/care/reminders/new/",
        {"customer_no": world["foreign"].customer_no, "on": on.isoformat(), "text": "not mine"},
    )
    assert response.status_code == 400
    assert client.get("/care/reminders/new/", {"customer": world["foreign"].customer_no}).status_code == 404
    assert Alert.objects.count() == 2


# --- the API ---------------------------------------------------------------------------------


def test_the_api_gives_the_callers_occurrences(api, world):
    cm1, cm2 = world["users"]["cm1"], world["users"]["cm2"]
    start = today() + datetime.timedelta(days=1)
    weekly = plan_item_create(
        owner=cm1,
        customer=world["own"],
        title="Weekly",
        kind=PlanKind.CALL,
        start_date=start,
        start_time=datetime.time(9),
        recurrence=PlanRecurrence.WEEKLY,
        recur_until=start + datetime.timedelta(days=14),
    )
    plan_item_create(owner=cm2, title="Theirs", start_date=start)
    to = start + datetime.timedelta(days=30)
    response = api(cm1).get("/api/v1/plan/", {"from": start.isoformat(), "to": to.isoformat()})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["date"] for row in rows] == [
        (start + datetime.timedelta(days=7 * k)).isoformat() for k in range(3)
    ]
    assert rows[0] == {
        "id": weekly.pk,
        "date": start.isoformat(),
        "kind": "call",
        "kind_label": "Phone call",
        "title": "Weekly",
        "start_time": "09:00",
        "end_time": None,
        "customer_no": world["own"].customer_no,
        "recurrence": "weekly",
        "status": "planned",
        "done": False,
    }
    assert [
        row["title"] for row in api(cm2).get("/api/v1/plan/", {"from": start, "to": to}).json()["results"]
    ] == ["Theirs"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-01-01"},
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"from": "yesterday", "to": "2026-03-01"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ],
)
def test_the_api_refuses_bad_dates(api, world, query):
    response = api(world["users"]["cm1"]).get("/api/v1/plan/", query)
    assert response.status_code == 400, response.content


def test_the_api_is_for_those_who_plan(api, client, world):
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    assert api(world["users"]["audit"]).get("/api/v1/plan/", query).status_code == 403
    assert client.get("/api/v1/plan/", query).status_code == 401


def test_a_plan_item_is_its_owners_and_the_branch_heads_above(world):
    users = world["users"]
    mine = plan_item_create(owner=users["cm1"], customer=world["own"], title="Mine", start_date=today())
    todo = plan_item_create(owner=users["cm1"], title="No customer", start_date=today())
    theirs = plan_item_create(owner=users["cm2"], title="Theirs", start_date=today())
    far = plan_item_create(
        owner=users["cm3"], customer=world["foreign"], title="Shanghai", start_date=today()
    )

    def sees(name: str) -> set[PlanItem]:
        return set(PlanItem.objects.visible_to(users[name]))

    assert sees("cm1") == {mine, todo}
    assert sees("cm2") == {theirs}  # the customer is shared with demo_cm2, the plan is not
    assert sees("bh") == {mine, todo, theirs}  # 11101 and 11102 are under 11100
    assert sees("bm") == {mine, todo, theirs, far}
    assert sees("cm3") == {far}


def test_an_edit_keeps_the_customer_in_scope_and_the_alerts(client, world, new_customer):  # noqa: F811
    cm1 = world["users"]["cm1"]
    alert = _alert(world["own"], cm1, due=today())
    item = plan_item_create(owner=cm1, customer=world["own"], title="Visit", start_date=today(), alert=alert)
    with pytest.raises(PermissionDenied):  # a customer outside the manager's scope
        plan_item_update(item=item, by=cm1, customer=world["foreign"])
    another = new_customer(manager=cm1)
    with pytest.raises(ValidationError, match="another customer"):  # not the alert's customer
        plan_item_update(item=item, by=cm1, customer=another)
    item.refresh_from_db()
    assert item.customer == world["own"]

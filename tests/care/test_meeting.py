"""The branch's morning meeting (晨会): yesterday's contacts, visits, sales and new
customers per manager, today's maturities and alerts, overdue alerts and who lags
(rule shown in words), on a small known data set; the branch head's subtree only;
the date chooser; the page's queries pinned whatever the number of managers."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Branch
from care.choices import AlertKind
from care.selectors.meeting import morning_meeting
from customers.choices import AccountCategory, InteractionKind
from customers.models import Interaction
from customers.services import assignment_set_primary
from marketing.choices import SaleSource
from marketing.models import Sale
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), timezone.get_current_timezone())


def _contact(customer, manager, when, kind=InteractionKind.CALL):
    return Interaction.objects.create(
        customer=customer, manager=manager, kind=kind, occurred_at=when, subject="x"
    )


def _sale(customer, manager, day, amount):
    return Sale.objects.create(
        customer=customer,
        category=AccountCategory.DEP_TIME,
        amount=Decimal(amount),
        sale_date=day,
        manager=manager,
        branch=manager.branch,
        source=SaleSource.CORE_BANKING,
    )


@pytest.fixture
def team(demo_users, new_customer):  # noqa: F811
    """Haidian (11100): cm1 at 11101 and cm2 at 11102. Yesterday cm1 visited one
    customer and called another, sold 50,000; cm2 made no contact, sold twice
    (15,000) and got a new customer. Today cm1 has a maturity and a birthday due and
    an alert three days overdue. Things of other days do not count."""
    cm1, cm2 = demo_users["demo_cm1"], demo_users["demo_cm2"]
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    a, b = new_customer(manager=cm1), new_customer(manager=cm1)
    c = new_customer(branch="11102", manager=cm2)
    _contact(a, cm1, _at(yesterday, 10), InteractionKind.VISIT)
    _contact(b, cm1, _at(yesterday, 15))
    _contact(a, cm1, _at(today, 9))  # today: not yesterday's
    _contact(b, cm1, _at(today - datetime.timedelta(days=2), 9))
    _sale(a, cm1, yesterday, "50000")
    _sale(c, cm2, yesterday, "10000")
    _sale(c, cm2, yesterday, "5000")
    _sale(c, cm2, today, "999")
    newcomer = new_customer(branch="11102")
    assignment_set_primary(customer=newcomer, manager=cm2, by=None, reason="new", on=yesterday)
    make_alert(
        assignee=cm1,
        customer=a,
        kind=AlertKind.MATURITY,
        event_key="m",
        due_date=today,
        figures={
            "account_tail": "1234",
            "category": "DEP_TIME",
            "maturity_date": today.isoformat(),
            "amount": "1.00",
        },
    )
    make_alert(
        assignee=cm1,
        customer=b,
        kind=AlertKind.BIRTHDAY,
        event_key="b",
        due_date=today,
        figures={"birthday": today.isoformat(), "age": 50, "calendar": "solar"},
    )
    make_alert(
        assignee=cm1,
        customer=b,
        kind=AlertKind.DORMANCY,
        event_key="o",
        due_date=today - datetime.timedelta(days=3),
        figures={"reason": "status", "last_transaction": None, "days": 200},
    )
    return cm1, cm2


def _row(html: str, employee_no: str, figure: str) -> str:
    import re

    row = re.search(rf'data-employee="{employee_no}"(.*?)</tr>', html, re.S)
    assert row, employee_no
    cell = re.search(rf'data-figure="{figure}">(.*?)</td>', row.group(1), re.S)
    assert cell, figure
    return cell.group(1).strip()


@pytest.mark.django_db
def test_figures_per_manager(client, team, demo_password):
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    response = client.get("/care/meeting/")
    assert response.status_code == 200
    html = response.content.decode()
    expected = {
        "E1101": {
            "contacts": "2",
            "visits": "1",
            "sales": "1",
            "sales_amount": "50,000.00",
            "new_customers": "0",
            "maturities_today": "1",
            "alerts_today": "2",
            "overdue": "1",
        },
        "E1102": {
            "contacts": "0",
            "visits": "0",
            "sales": "2",
            "sales_amount": "15,000.00",
            "new_customers": "1",
            "maturities_today": "0",
            "alerts_today": "0",
            "overdue": "0",
        },
    }
    for employee_no, figures in expected.items():
        for figure, value in figures.items():
            assert _row(html, employee_no, figure) == value, (employee_no, figure)
    # the rule in words, with the team's medians; who lags and why
    assert "below the team&#x27;s median (1)" in html and "above the team&#x27;s median (0.5)" in html
    assert _row(html, "E1101", "lagging") == "many overdue alerts"
    assert _row(html, "E1102", "lagging") == "few contacts"
    assert "@media print" in html


@pytest.mark.django_db
def test_another_day_is_chosen_by_date(client, team, demo_password):
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    html = client.get("/care/meeting/", {"date": day}).content.decode()
    # the meeting of yesterday looks at the day before: cm1's call two days ago
    assert _row(html, "E1101", "contacts") == "1"
    assert _row(html, "E1101", "sales") == "0"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [("2026-02-30", "YYYY-MM-DD"), ("yesterday", "YYYY-MM-DD"), ("2999-01-01", "still to come")],
)
def test_a_bad_date_is_refused_with_a_clear_error(client, team, demo_password, value, message):
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    response = client.get("/care/meeting/", {"date": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert b"meeting-table" not in response.content


@pytest.mark.django_db
def test_a_head_of_another_branch_sees_nothing_of_this_one(client, team, make_user):
    from tests.conftest import PASSWORD

    pudong = make_user("branch_head", "12100", username="bh_pudong")
    client.post("/accounts/login/", {"username": "bh_pudong", "password": PASSWORD})
    response = client.get("/care/meeting/")
    assert response.status_code == 200
    assert b"E1101" not in response.content and b"E1102" not in response.content
    assert b"E1201" in response.content  # demo_cm3, Lujiazui, under Pudong
    assert client.get("/care/meeting/", {"branch": "11100"}).status_code == 404
    assert client.get("/care/meeting/", {"branch": "11101"}).status_code == 404
    assert pudong.branch.code == "12100"


@pytest.mark.django_db
def test_a_branch_within_the_subtree_narrows_the_meeting(client, team, demo_password):
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    html = client.get("/care/meeting/", {"branch": "11102"}).content.decode()
    assert "E1102" in html and 'data-employee="E1101"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["demo_cm1", "demo_bm", "demo_audit"])
def test_others_are_refused(client, demo_users, demo_password, username):
    client.post("/accounts/login/", {"username": username, "password": demo_password})
    assert client.get("/care/meeting/").status_code == 403


@pytest.mark.django_db
def test_the_meeting_costs_the_same_queries_for_more_managers(
    client,
    team,
    demo_password,
    make_user,
    new_customer,  # noqa: F811
    django_assert_max_num_queries,
):
    client.post("/accounts/login/", {"username": "demo_bh", "password": demo_password})
    client.get("/care/meeting/")
    with django_assert_max_num_queries(16) as few:
        client.get("/care/meeting/")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for _n in range(6):
        manager = make_user("client_manager", "11101")
        customer = new_customer(manager=manager)
        _contact(customer, manager, _at(yesterday, 11))
        _sale(customer, manager, yesterday, "100")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/care/meeting/")
    assert len(response.context["meeting"].rows) == 8


@pytest.mark.django_db
def test_selector_lists_every_manager_even_without_figures(team, demo_users):
    meeting = morning_meeting(demo_users["demo_bh"], timezone.localdate(), demo_users["demo_bh"].branch)
    assert [r.manager.employee_no for r in meeting.rows] == ["E1101", "E1102"]
    assert meeting.totals["sales_amount"] == Decimal("65000")
    assert [r.manager.employee_no for r in meeting.lagging] == ["E1101", "E1102"]


@pytest.mark.django_db
def test_alerts_outside_the_meetings_team_count_for_no_one(team, demo_users, new_customer):  # noqa: F811
    head = demo_users["demo_bh"]
    today = timezone.localdate()
    # the head's own alert, due today: in the head's scope, on no manager's row
    make_alert(
        assignee=head,
        customer=new_customer(manager=demo_users["demo_cm1"]),
        kind=AlertKind.BIRTHDAY,
        event_key="head",
        due_date=today,
        figures={"birthday": today.isoformat(), "age": 40, "calendar": "solar"},
    )
    whole = morning_meeting(head, today, head.branch)
    assert whole.totals["alerts_today"] == 2 and whole.totals["overdue"] == 1  # cm1's only
    # a meeting of 11102: cm1's alerts (11101) are the head's to see, not this team's
    narrowed = morning_meeting(head, today, Branch.objects.get(code="11102"))
    assert [r.manager.employee_no for r in narrowed.rows] == ["E1102"]
    assert narrowed.totals["alerts_today"] == 0 and narrowed.totals["overdue"] == 0

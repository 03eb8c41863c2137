"""GET /api/v1/alerts/: the caller's alerts (a client manager their own, a branch
head their subtree's, head office all) with the spec's fields and the reason,
filtered by kind and status; an unknown kind or status is a 400 that says why."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from care.choices import AlertKind
from tests.care.world_alerts import make_alert
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(demo_users, new_customer):  # noqa: F811
    cm1, cm2 = demo_users["demo_cm1"], demo_users["demo_cm2"]
    mine = new_customer(manager=cm1, name="张三丰")
    today = timezone.localdate()
    return {
        "maturity": make_alert(
            assignee=cm1,
            customer=mine,
            kind=AlertKind.MATURITY,
            figures={
                "account_tail": "6222021234561496",  # a writer's slip: only the tail shows
                "category": "DEP_TIME",
                "maturity_date": "2026-12-20",
                "amount": "500000",
            },
            priority=1,
        ),
        "closed": make_alert(assignee=cm1, customer=mine, kind=AlertKind.TIER_CHANGE, status="done"),
        "snoozed_over": make_alert(
            assignee=cm1,
            customer=mine,
            kind=AlertKind.BIRTHDAY,
            status="snoozed",
            snoozed_until=today,
            figures={"birthday": today.isoformat(), "age": 46, "calendar": "lunar"},
        ),
        "theirs": make_alert(
            assignee=cm2, customer=new_customer(manager=cm2, branch="11102"), kind=AlertKind.TIER_CHANGE
        ),
    }


def test_a_client_manager_gets_their_own_open_alerts_with_reasons(api, demo_users, alerts):
    response = api(demo_users["demo_cm1"]).get("/api/v1/alerts/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "results"} and body["count"] == 2 and body["next"] is None
    first = body["results"][0]
    maturity = alerts["maturity"]
    assert first == {
        "id": maturity.pk,
        "kind": "maturity",
        "customer_no": maturity.customer.customer_no,
        "event_date": maturity.event_date.isoformat(),
        "due_date": maturity.due_date.isoformat(),
        "status": "open",
        "priority": "high",
        "reason": "Time deposit account ending 1496 matures on 2026-12-20, 500,000.00 CNY",
    }
    # a snooze whose day has come is open again
    assert body["results"][1]["id"] == alerts["snoozed_over"].pk and body["results"][1]["status"] == "open"
    raw = response.content.decode()
    assert "张三丰" not in raw and "6222021234561496" not in raw


def test_kind_and_status_filters(api, demo_users, alerts):
    client = api(demo_users["demo_cm1"])
    births = client.get("/api/v1/alerts/", {"kind": "birthday"}).json()
    assert [r["id"] for r in births["results"]] == [alerts["snoozed_over"].pk]
    closed = client.get("/api/v1/alerts/", {"status": "closed"}).json()
    assert [r["id"] for r in closed["results"]] == [alerts["closed"].pk] and closed["results"][0][
        "status"
    ] == "done"
    assert client.get("/api/v1/alerts/", {"status": "all"}).json()["count"] == 3


def test_bad_kind_or_status_is_a_clear_400(api, demo_users, alerts):
    client = api(demo_users["demo_cm1"])
    bad_kind = client.get("/api/v1/alerts/", {"kind": "lottery"})
    assert bad_kind.status_code == 400
    assert "Unknown kind lottery" in bad_kind.json()["kind"][0] and "maturity" in bad_kind.json()["kind"][0]
    bad_status = client.get("/api/v1/alerts/", {"status": "pending"})
    assert bad_status.status_code == 400
    assert bad_status.json() == {"status": ["Unknown status pending: use open, closed or all."]}


def test_scope_on_the_api(api, demo_users, alerts):
    assert (
        api(demo_users["demo_cm2"]).get("/api/v1/alerts/").json()["results"][0]["id"] == alerts["theirs"].pk
    )
    assert api(demo_users["demo_cm2"]).get("/api/v1/alerts/").json()["count"] == 1
    assert api(demo_users["demo_bh"]).get("/api/v1/alerts/").json()["count"] == 3  # the subtree's
    assert api(demo_users["demo_cm3"]).get("/api/v1/alerts/").json()["count"] == 0
    assert api(demo_users["demo_pm"]).get("/api/v1/alerts/").status_code == 403


def test_pages_are_followed_by_next(api, demo_users, new_customer):  # noqa: F811
    cm1 = demo_users["demo_cm1"]
    for i in range(55):
        make_alert(
            assignee=cm1,
            customer=new_customer(manager=cm1),
            kind=AlertKind.TIER_CHANGE,
            due_date=timezone.localdate() + datetime.timedelta(days=i % 3),
        )
    client = api(cm1)
    first = client.get("/api/v1/alerts/").json()
    assert first["count"] == 55 and len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}

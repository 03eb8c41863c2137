"""The URL harness's objects of keep close (alerts): what its pages need in the world
of tests/url_world.py, and `make_alert`, the tests' way to make one alert.

For every client manager's "main" customer an alert assigned to that manager (a
client manager works their own; the branch head 11100 sees cm1's and cm2's, not
cm3's in Shanghai), and for every manager's branch a team alert about no customer
assigned to the branch head, which the head may hand over."""

from __future__ import annotations

import datetime
from typing import Any

from care.choices import AlertKind
from care.models import Alert


def make_alert(
    *,
    assignee,
    customer=None,
    kind: str = AlertKind.TIER_CHANGE,
    day: datetime.date | None = None,
    figures: dict[str, Any] | None = None,
    event_key: str = "",
    branch=None,
    **fields: Any,
) -> Alert:
    """One alert as the rules or the VIP area's announcements write it."""
    from django.utils import timezone

    day = day or timezone.localdate()
    if figures is None:
        figures = {"from": "", "to": "gold"} if kind == AlertKind.TIER_CHANGE else {}
    return Alert.objects.create(
        kind=kind,
        customer=customer,
        event_key=event_key or f"{day.isoformat()}:{assignee.pk if assignee else 0}:{Alert.objects.count()}",
        event_date=fields.pop("event_date", day),
        due_date=fields.pop("due_date", day),
        assignee=assignee,
        branch=branch
        or (customer.home_branch if customer is not None else getattr(assignee, "branch", None)),
        figures=figures,
        **fields,
    )


def build(world, today: datetime.date) -> None:
    from tests.url_world import WHO, WHO_BRANCH, WHO_MANAGER

    alerts, team = {}, {}
    for who in WHO:
        manager = world.users[WHO_MANAGER[who]]
        alerts[who] = make_alert(
            assignee=manager,
            customer=world.customer("main", who),
            kind=AlertKind.LARGE_OUTFLOW,
            day=today,
            event_key=today.isoformat(),
            figures={
                "aum_before": "1900000.00",
                "aum_now": "1080000.00",
                "change": "-820000.00",
                "percent": "-43.2",
                "since": (today - datetime.timedelta(days=7)).isoformat(),
            },
        )
        team[who] = make_alert(
            assignee=world.users["demo_bh"] if who != "cm3" else None,
            kind=AlertKind.TEAM_OVERDUE,
            day=today,
            event_key=f"{manager.employee_no}:{today.isoformat()}",
            branch=world.org[WHO_BRANCH[who]],
            figures={"manager": manager.employee_no, "count": 3},
        )
    world.objects["alert"] = alerts
    world.objects["team_alert"] = team

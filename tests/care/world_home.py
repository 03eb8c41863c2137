"""The URL harness's objects of keep close (home): for every client manager's
"main" customer an overdue contact (the "my day" widget's rows), so the home page
and the morning meeting render rows, not only their empty states."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from care.choices import AlertKind
    from tests.care.world_alerts import make_alert
    from tests.url_world import WHO, WHO_MANAGER

    overdue = {}
    for who in WHO:
        since = today - datetime.timedelta(days=12)
        overdue[who] = make_alert(
            assignee=world.users[WHO_MANAGER[who]],
            customer=world.customer("main", who),
            kind=AlertKind.CONTACT_OVERDUE,
            day=since,
            event_key=since.isoformat(),
            figures={
                "tier": "gold",
                "last_contact": None,
                "standard_days": 30,
                "overdue_since": since.isoformat(),
            },
        )
    world.objects["overdue_contact"] = overdue

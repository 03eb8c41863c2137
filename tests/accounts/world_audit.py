"""The URL harness's objects of the audit pages: what their pages need in the world
of tests/url_world.py. Three failed logins of an unknown username yesterday, a
finding of the suspicious-operation report that the auditor can review."""

from __future__ import annotations

import datetime

GHOST = "harness_ghost"


def build(world, today: datetime.date) -> None:
    from django.utils import timezone

    from accounts.audit import Action
    from accounts.models import AuditEvent

    yesterday = today - datetime.timedelta(days=1)
    noon = datetime.datetime.combine(yesterday, datetime.time(12), timezone.get_current_timezone())
    for minute in range(3):
        AuditEvent.objects.create(
            action=Action.LOGIN_FAILED,
            actor_username=GHOST,
            ip="10.9.0.1",
            occurred_at=noon + datetime.timedelta(minutes=minute),
        )
    world.objects["audit_finding"] = {
        "rule": "failed_logins",
        "username": GHOST,
        "day": yesterday.isoformat(),
    }

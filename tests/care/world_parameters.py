"""The URL harness's objects of the alert parameters (maker-checker in the admin):
the values in force, written by pm2's proposal that demo_pm approved, and pm2's
second proposal waiting for a decision."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from care import parameters

    pm2, pm = world.users["pm2"], world.users["demo_pm"]
    approved = parameters.alert_parameters_propose(
        by=pm2, values={"birthday_days": 10}, reason="longer notice"
    )
    parameters.alert_parameters_approve(proposal=approved, by=pm)
    world.objects["alert_parameters_pending"] = parameters.alert_parameters_propose(
        by=pm2, values={"escalation_days": 5}, reason="more time before escalation"
    )

"""The URL harness's objects of keep close (outbox): what its pages need in the world
of tests/url_world.py (e.g. one object of every demo user).

For every client manager's "main" customer: an active phone-notice subscription
(the one the cancel page cancels) and a queued birthday greeting (a row for the
outbox page)."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from care.services.outbox import message_queue, templates_ensure
    from care.services.subscriptions import subscription_add
    from tests.url_world import WHO, WHO_MANAGER

    templates_ensure()
    for who in WHO:
        customer = world.customer("main", who)
        world.objects.setdefault("subscription", {})[who] = subscription_add(
            customer=customer,
            service="phone_notice",
            channel="phone",
            consent_date=today,
            user=world.users[WHO_MANAGER[who]],
        )
        world.objects.setdefault("message", {})[who] = message_queue(
            template="birthday_sms",
            customer=customer,
            variables={"date": today},
            dedupe_key=f"harness:birthday:{who}",
        )

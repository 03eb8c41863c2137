"""The URL harness's objects of the openings pages: for each client manager a
customer of their own kept for account-opening requests (so no other part's
request of the same product gets in the way), and an open request each made of
their "main" customer at their outlet, with an appointment tomorrow."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from marketing.models import Channel
from marketing.services.openings import opening_request


def build(world, today: datetime.date) -> None:
    from tests.url_world import WHO, WHO_BRANCH, WHO_MANAGER, _customer

    world.customers["opening"] = {who: _customer(world, who) for who in WHO}
    tomorrow = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(10))
    )
    counter = Channel.objects.get(code="counter")
    world.objects["opening"] = {
        who: opening_request(
            user=world.users[WHO_MANAGER[who]],
            customer=world.customer("main", who),
            product=world.objects["product"]["deposit"],
            channel=counter,
            branch=world.org[WHO_BRANCH[who]],
            appointment_at=tomorrow,
            expected_amount=Decimal("20000"),
        )
        for who in WHO
    }

"""The URL harness's objects of the approvals page's bulk decision (vip.bulk): besides
the world's pending transfer of each client manager's "transferring" customer
(tests/url_world.py), a second one of another customer, so that a bulk decision
ticks two transfers; the parameter proposal waiting for demo_pm or demo_admin is
the world's ("proposal_other")."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from tests.url_world import WHO, WHO_COLLEAGUE, WHO_MANAGER, _customer
    from vip import services as vip

    world.customers["bulk_transferring"] = {}
    for who in WHO:
        customer = _customer(world, who)
        world.customers["bulk_transferring"][who] = customer
        world.objects.setdefault("bulk_transfers", {})[who] = [
            world.objects["transfer"][who],
            vip.transfer_request(
                customer=customer,
                to_manager=world.users[WHO_COLLEAGUE[who]],
                by=world.users[WHO_MANAGER[who]],
                reason="closer to home",
            ),
        ]

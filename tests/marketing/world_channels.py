"""The URL harness's objects of the channels pages: besides the starting channels
(marketing 0006), one a business manager added, in use, and one switched off."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from marketing.channels import channel_create, channel_switch

    bm = world.users["demo_bm"]
    world.objects["channel"] = {
        "in_use": channel_create(
            by=bm, code="onsite", name="驻场营销", contact_channel="visit", position=200
        ),
        "off": channel_switch(
            channel_create(by=bm, code="kiosk", name="社区自助点", transaction_channel="ATM", position=210),
            by=bm,
            active=False,
        ),
    }

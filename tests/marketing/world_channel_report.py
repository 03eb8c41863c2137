"""The URL harness's objects of the channel report pages."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    return None

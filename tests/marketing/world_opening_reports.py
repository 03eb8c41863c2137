"""The URL harness's objects of the opening reports pages."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    return None

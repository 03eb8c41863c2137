"""The URL harness's objects of the segment editor: nothing beyond the world's own
segments and the default tier levels (tests/url_world.py builds both); a part of
its own so the editor's cases (tests/marketing/urls_segments.py) are listed."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    return None

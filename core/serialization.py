"""Values made safe for JSON (audit details, snapshots)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """Dates and times as ISO text, decimals as exact text, anything else as is."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value

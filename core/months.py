"""Month arithmetic on first-of-month dates."""

from __future__ import annotations

import calendar
import datetime


def month_back(month: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` before `month`'s (negative: after)."""
    index = month.year * 12 + month.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_starts(end: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the `count` months up to `end`'s month, oldest first."""
    last = end.replace(day=1)
    return [month_back(last, k) for k in range(count - 1, -1, -1)]


def month_end(month: datetime.date) -> datetime.date:
    """The last day of `month`'s month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])

"""Chinese public holidays (法定节假日) and the weekends worked in exchange (调休上班日),
as the State Council publishes them each year, from the `chinesecalendar` package
(pinned in requirements.txt; a new year's holidays come with a new release of it).

The package ships its tables: nothing is fetched at run time. A year it does not
know yet is shown as plain weekdays and weekends, never an error."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from chinese_calendar import constants as _calendar  # type: ignore[import-untyped]
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The package's English holiday names (its `Holiday` enum values), as our labels.
HOLIDAY_NAMES: dict[str, Promise] = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Qingming Festival"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-Autumn Festival"),
    "Anti-Fascist 70th Day": _("Victory Day"),
}


@dataclass(frozen=True)
class DayMark:
    """What the calendar shows on a day that is not an ordinary one."""

    holiday: bool  # a public holiday (a day off)
    working_weekend: bool  # a Saturday or Sunday worked in exchange
    name: str  # the holiday's name (for a working weekend: the holiday it makes up for)


def _label(name: str | None) -> str:
    if not name:
        return ""
    return str(HOLIDAY_NAMES.get(name, name))


def day_mark(day: datetime.date) -> DayMark | None:
    """The day's mark, or None for an ordinary weekday or weekend."""
    if day in _calendar.holidays:
        return DayMark(holiday=True, working_weekend=False, name=_label(_calendar.holidays[day]))
    if day in _calendar.workdays and day.weekday() >= 5:
        return DayMark(holiday=False, working_weekend=True, name=_label(_calendar.workdays[day]))
    return None


def day_marks(start: datetime.date, end: datetime.date) -> dict[datetime.date, DayMark]:
    """The marks of the days from `start` to `end` (both included)."""
    marks: dict[datetime.date, DayMark] = {}
    day = start
    while day <= end:
        mark = day_mark(day)
        if mark is not None:
            marks[day] = mark
        day += datetime.timedelta(days=1)
    return marks


def is_working_day(day: datetime.date) -> bool:
    """A weekday that is not a holiday, or a weekend worked in exchange."""
    mark = day_mark(day)
    if mark is not None:
        return mark.working_weekend
    return day.weekday() < 5

"""Periods by their codes: a calendar month (`YYYY-MM`), quarter (`YYYY-Qn`) or year
(`YYYY`), and the counted days of a period (docs/performance.md, "Periods")."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.months import month_end

from .choices import PeriodKind

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class PeriodSpan:
    code: str
    kind: str
    start: datetime.date
    end: datetime.date

    def counted_through(self, last_loaded: datetime.date | None) -> datetime.date | None:
        """The last counted day: the period's last day or the last loaded business
        date, whichever comes first; None before the period has a loaded day."""
        if last_loaded is None or last_loaded < self.start:
            return None
        return min(self.end, last_loaded)


def parse_period(code: str) -> PeriodSpan:
    """The span of a period code; ValidationError for anything else."""
    code = (code or "").strip().upper()
    if match := MONTH_RE.match(code):
        start = datetime.date(int(match[1]), int(match[2]), 1)
        return PeriodSpan(code, PeriodKind.MONTH, start, month_end(start))
    if match := QUARTER_RE.match(code):
        first_month = 3 * (int(match[2]) - 1) + 1
        start = datetime.date(int(match[1]), first_month, 1)
        return PeriodSpan(code, PeriodKind.QUARTER, start, month_end(start.replace(month=first_month + 2)))
    if match := YEAR_RE.match(code):
        year = int(match[1])
        return PeriodSpan(code, PeriodKind.YEAR, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    raise ValidationError(
        _("%(code)s is not a period: write a month (2026-11), a quarter (2026-Q4) or a year (2026).")
        % {"code": code or "—"},
        code="bad_period",
    )


def periods_of(day: datetime.date) -> list[PeriodSpan]:
    """The month, quarter and year a day belongs to."""
    quarter = (day.month - 1) // 3 + 1
    return [parse_period(f"{day:%Y-%m}"), parse_period(f"{day.year}-Q{quarter}"), parse_period(str(day.year))]

"""The indicator kinds computed from the performance figures, registered with the
library (`marketing.indicators.register`) when the app is ready:

- `balance_avg` (`figure`: deposit / loan / aum): the daily average of the period;
- `contribution` (`figure`: liability / asset / intermediary / total): the FTP
  contribution of the period.

Both read the managers' figures (`ManagerResult`, managers and branch pools) of the
period whose days are exactly [start, end]: a calendar month, quarter or year. Any
other range is refused with a ValidationError, because these figures exist for whole
periods only. The figures are those of the version the period shows (an open
period's provisional figures, a closed one's latest published), unless scoring pins
the version it scores (`figures_of`): a recalculation is scored on its own figures.
The library's `increment` works over these two as it does over any kind.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ManagerResult, Period, ResultVersion
from .periods import PeriodSpan, parse_period

# The figure each kind's `figure` parameter names.
FIGURES: dict[str, dict[str, str]] = {
    "balance_avg": {"deposit": "deposit_avg", "loan": "loan_avg", "aum": "aum_avg"},
    "contribution": {
        "liability": "liability",
        "asset": "asset",
        "intermediary": "intermediary",
        "total": "total",
    },
}

_pinned: contextvars.ContextVar[dict[int, ResultVersion] | None] = contextvars.ContextVar(
    "performance_pinned_versions", default=None
)


@contextlib.contextmanager
def figures_of(version: ResultVersion) -> Iterator[None]:
    """Within the block, the figures of the version's period are this version's."""
    pinned = dict(_pinned.get() or {})
    pinned[version.period_id] = version
    token = _pinned.set(pinned)
    try:
        yield
    finally:
        _pinned.reset(token)


def period_span(start: datetime.date, end: datetime.date) -> PeriodSpan:
    """The month, quarter or year whose days are exactly [start, end]."""
    quarter = (start.month - 1) // 3 + 1
    for code in (f"{start:%Y-%m}", f"{start.year}-Q{quarter}", str(start.year)):
        span = parse_period(code)
        if span.start == start and span.end == end:
            return span
    raise ValidationError(
        _(
            "The performance figures exist for whole periods only: %(start)s to %(end)s is not a calendar "
            "month, quarter or year."
        )
        % {"start": start.isoformat(), "end": end.isoformat()},
        code="not_a_period",
    )


def version_for(span: PeriodSpan) -> ResultVersion | None:
    """The version whose figures count for the period: the pinned one, else the one
    the period shows; None before it is computed."""
    from .selectors import shown_version

    period = Period.objects.filter(code=span.code).first()
    if period is None:
        return None
    pinned = (_pinned.get() or {}).get(period.pk)
    return pinned if pinned is not None else shown_version(period)


def version_actuals(
    kind: str, params: dict[str, Any], version: ResultVersion
) -> list[tuple[int | None, int, Decimal]]:
    """(manager id or None for a branch pool, branch id, value) of a version's rows."""
    try:
        figure = FIGURES[kind][params.get("figure", "")]
    except KeyError:
        raise ValidationError(
            _("%(figure)s is not a figure of this kind.") % {"figure": params.get("figure") or "—"},
            code="figure",
        ) from None
    return list(ManagerResult.objects.filter(version=version).values_list("manager_id", "branch_id", figure))


def _computation(kind: str):
    def compute(indicator, start: datetime.date, end: datetime.date) -> list[tuple[int | None, int, Decimal]]:
        version = version_for(period_span(start, end))
        if version is None:
            return []
        return version_actuals(kind, indicator.params or {}, version)

    compute.__name__ = f"performance_{kind}"
    return compute


def register_kinds() -> None:
    from marketing.indicators import register

    for kind in FIGURES:
        register(kind, _computation(kind))

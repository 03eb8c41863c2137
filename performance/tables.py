"""The rows of the figures pages as they are shown, on screen and in their Excel
downloads alike: labels, never codes (a branch by its code and name, a manager by
name and employee number, a branch's pool as its unassigned customers)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Branch

from .models import IndicatorScore, ManagerResult, ManagerScore
from .selectors import FIGURES


def branch_label(branch: Branch) -> str:
    return f"{branch.code} {branch.name}"


def manager_label(result: ManagerResult) -> str:
    """ "王经理 (E1101)", or the pool of a branch: "Unassigned customers of 11101 中关村网点"."""
    if result.manager is None:
        return _("Unassigned customers of %(branch)s") % {"branch": branch_label(result.branch)}
    return f"{result.manager.display_name} ({result.manager.employee_no})"


@dataclass(frozen=True)
class BoardRow:
    label: str
    employee_no: str  # "" on a pool's row
    branch: str
    figures: dict[str, Decimal]
    score: ScoreSummary | None = None  # under the period's approved scheme
    branch_code: str = ""  # a pool's page is its branch's

    @property
    def is_pool(self) -> bool:
        return not self.employee_no

    @property
    def values(self) -> list[Decimal]:
        """The figures in the order of the columns (`FIGURES`)."""
        return [self.figures[name] for name in FIGURES]


def board_row(result: ManagerResult, parts: dict[int, list[IndicatorScore]] | None = None) -> BoardRow:
    """A row of the board; with its score where the row carries one
    (`selectors.with_scores`) and its indicators where `parts` has them."""
    score_id = getattr(result, "score_id", None)
    score = None
    if score_id is not None:
        score = ScoreSummary(
            result.score_value,  # type: ignore[attr-defined]
            result.score_rank,  # type: ignore[attr-defined]
            result.score_peers,  # type: ignore[attr-defined]
            result.score_grade,  # type: ignore[attr-defined]
            [score_part(part) for part in (parts or {}).get(score_id, [])],
        )
    return BoardRow(
        label=manager_label(result),
        employee_no=result.manager.employee_no if result.manager is not None else "",
        branch=branch_label(result.branch),
        figures={name: getattr(result, name) for name in FIGURES},
        score=score,
        branch_code=result.branch.code,
    )


def in_order(figures: dict[str, Decimal]) -> list[Decimal]:
    return [figures[name] for name in FIGURES]


def sum_figures(rows: Iterable[dict[str, Decimal]]) -> dict[str, Decimal]:
    totals = dict.fromkeys(FIGURES, Decimal("0"))
    for figures in rows:
        for name in FIGURES:
            totals[name] += figures[name]
    return totals


# --- scores: each indicator's part, and the completion heat map ---------------------------


@dataclass(frozen=True)
class ScorePart:
    """One indicator of a score as the scorecard shows it."""

    code: str
    name: str
    actual: Decimal
    target: Decimal | None
    weight: Decimal
    points: Decimal
    score: Decimal

    @property
    def completion(self) -> Decimal | None:
        """Actual against target, in percent (None without a target)."""
        if self.target is None or self.target <= 0:
            return None
        return (self.actual / self.target * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def heat(self) -> str:
        """The heat map's shade: met (100% or more), near (80% or more), behind."""
        rate = self.completion
        if rate is None:
            return "none"
        return "met" if rate >= 100 else "near" if rate >= 80 else "behind"

    @property
    def heat_class(self) -> str:
        return HEAT_CLASSES[self.heat]


# Bootstrap's subtle backgrounds, so that the heat map needs no style of its own.
HEAT_CLASSES = {
    "met": "bg-success-subtle",
    "near": "bg-warning-subtle",
    "behind": "bg-danger-subtle",
    "none": "",
}


def score_part(part: IndicatorScore) -> ScorePart:
    return ScorePart(
        part.code,
        part.scheme_indicator.indicator.name,
        part.actual,
        part.target,
        part.weight,
        part.points,
        part.score,
    )


def score_parts(score: ManagerScore | None) -> list[ScorePart]:
    """The indicators of a score (prefetched with their library indicator)."""
    if score is None:
        return []
    return [score_part(part) for part in score.indicators.all()]


@dataclass(frozen=True)
class ScoreSummary:
    """A score as the board shows it."""

    score: Decimal
    rank: int
    peers: int
    grade: str
    parts: list[ScorePart]


@dataclass(frozen=True)
class HeatMap:
    indicators: list[tuple[str, str]]  # (code, name), in the scheme's order
    rows: list[tuple[BoardRow, list[ScorePart | None]]]


def heat_map(rows: Iterable[BoardRow]) -> HeatMap | None:
    """Each scored manager of the board's page by each indicator's completion."""
    scored = [(row, {p.code: p for p in row.score.parts}) for row in rows if row.score is not None]
    if not scored:
        return None
    indicators: dict[str, str] = {}
    for _row, parts in scored:
        for code, part in parts.items():
            indicators.setdefault(code, part.name)
    order = list(indicators.items())
    return HeatMap(order, [(row, [parts.get(code) for code, _name in order]) for row, parts in scored])


def any_score(rows: Iterable[Any]) -> bool:
    return any(getattr(row, "score", None) is not None for row in rows)

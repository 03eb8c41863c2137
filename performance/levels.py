"""Client-manager levels (客户经理等级), moved by grades over consecutive published
months.

The rule (`PERFORMANCE_LEVEL_RULE` in the settings, else `DEFAULT_RULE`): a manager
whose grade under the client-manager scheme was one of `promote` in each of the last
`periods` published months moves up one level; one of `demote` in each of them, down
one (never past the first or last level, `ManagerLevelCode`). Only months after the
manager's last move count towards the next one, so one streak moves a level once. A
manager without a level yet is at the first.

`levels_update(period)` applies the rule for the managers scored in a published
month, once (a second run finds the move recorded and changes nothing); every move is
audited. It runs when a month's figures are published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit

from .choices import PeriodKind, VersionStatus
from .models import ManagerLevel, ManagerScore, Period, ResultVersion
from .periods import parse_period
from .scheme_choices import ManagerLevelCode, SchemeAction, SchemeRole

DEFAULT_RULE: dict[str, Any] = {"periods": 2, "promote": ["A"], "demote": ["D"]}
LEVELS: tuple[str, ...] = tuple(ManagerLevelCode.values)


@dataclass(frozen=True)
class Rule:
    periods: int
    promote: frozenset[str]
    demote: frozenset[str]


def rule() -> Rule:
    raw = {**DEFAULT_RULE, **getattr(settings, "PERFORMANCE_LEVEL_RULE", {})}
    return Rule(int(raw["periods"]), frozenset(raw["promote"]), frozenset(raw["demote"]))


def next_level(current: str, grades: Iterable[str | None], the_rule: Rule) -> str:
    """The level after a streak of grades (oldest first, exactly `periods` of them)."""
    grades = list(grades)
    position = LEVELS.index(current)
    if len(grades) < the_rule.periods:
        return current
    if all(grade in the_rule.promote for grade in grades):
        return LEVELS[min(position + 1, len(LEVELS) - 1)]
    if all(grade in the_rule.demote for grade in grades):
        return LEVELS[max(position - 1, 0)]
    return current


def _previous_months(period: Period, count: int) -> list[str]:
    """The month codes ending with the period's, oldest first."""
    year, month = period.start.year, period.start.month
    codes = []
    for back in range(count):
        index = year * 12 + month - 1 - back
        codes.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return list(reversed(codes))


def current_levels(manager_ids: Iterable[int]) -> dict[int, ManagerLevel]:
    """Each manager's latest level row (managers without one are absent)."""
    found: dict[int, ManagerLevel] = {}
    for row in ManagerLevel.objects.filter(manager_id__in=list(manager_ids)).select_related("since"):
        kept = found.get(row.manager_id)
        if kept is None or (row.since.start, row.pk) > (kept.since.start, kept.pk):
            found[row.manager_id] = row
    return found


def level_of(manager_id: int) -> str:
    row = current_levels([manager_id]).get(manager_id)
    return row.level if row else LEVELS[0]


@transaction.atomic
def levels_update(*, period: str, by=None) -> list[ManagerLevel]:
    """Apply the rule to the managers scored in a published month; the moves made."""
    span = parse_period(period)
    if span.kind != PeriodKind.MONTH:
        raise ValidationError(_("Levels move on months only."), code="not_a_month")
    month = Period.objects.filter(code=span.code).first()
    the_rule = rule()
    codes = _previous_months(month, the_rule.periods) if month else []
    published = {
        v.period.code: v
        for v in ResultVersion.objects.filter(
            period__code__in=codes, status=VersionStatus.PUBLISHED
        ).select_related("period")
    }
    if month is None or span.code not in published:
        raise ValidationError(
            _("%(period)s has no published figures: levels move on published months.")
            % {"period": span.code},
            code="not_published",
        )
    grades: dict[int, dict[str, str]] = {}
    for manager_id, code, grade in ManagerScore.objects.filter(
        version__in=published.values(), role=SchemeRole.CLIENT_MANAGER, manager__isnull=False
    ).values_list("manager_id", "version__period__code", "grade"):
        grades.setdefault(manager_id, {})[code] = grade
    this_month = {m for m, by_code in grades.items() if span.code in by_code}
    levels = current_levels(this_month)
    moves = []
    for manager_id in sorted(this_month):
        last = levels.get(manager_id)
        if last is not None and last.since_id == month.pk:
            continue  # moved on this month already: the rule ran
        # the streak counts the months after the last move only
        streak = [code for code in codes if last is None or code > last.since.code]
        current = last.level if last else LEVELS[0]
        streak_grades = [grades[manager_id].get(code) or None for code in streak]
        if len(streak) < the_rule.periods or any(code not in published for code in streak):
            continue
        moved = next_level(current, streak_grades, the_rule)
        if moved == current:
            continue
        row = ManagerLevel.objects.create(
            manager_id=manager_id,
            level=moved,
            previous=current,
            since=month,
            grades=[[code, grade] for code, grade in zip(streak, streak_grades, strict=True)],
        )
        audit(
            SchemeAction.LEVEL_CHANGED,
            actor=by,
            target=row,
            details={
                "manager": manager_id,
                "from": current,
                "to": moved,
                "period": span.code,
                "grades": row.grades,
            },
        )
        moves.append(row)
    return moves

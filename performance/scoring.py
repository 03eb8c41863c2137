"""Scores, ranks and grades of a version (docs/performance.md, "Scores, ranks,
grades"), under the approved scheme of each role of its period.

1. Units: a client-manager scheme assesses every manager with figures in the
   version or a target in the scheme; a branch scheme every active branch of its
   level. A unit's peer group is its scheme and its branch level (a manager's:
   the level of the manager's branch).
2. Actuals: each indicator's figures over the period (`marketing.indicators.actuals`,
   with this version's own figures for the performance kinds), summed per manager,
   or per branch over its subtree (managers and pools), rounded half-up to 2
   decimals.
3. Targets: the fixed one, the unit's own, or the unit's allocation of the issued
   marketing tasks that measure the same indicator over the same period.
4. Points per indicator by its formula (performance/formulas.py), weighted; the
   score is their sum rounded half-up to 2 decimals once. Rank 1 is the highest
   score of the peer group, equal scores share a rank (1, 2, 2, 4); the grade comes
   from the scheme's bands.

`evaluate` does 4 in memory for any scheme (`SchemeSpec`), so the what-if
(performance/whatif.py) scores changed copies exactly as the approved scheme is
scored, writing nothing; `score_version` writes the approved schemes' results.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Branch, User

from . import formulas
from .formulas import Band, Inputs
from .indicators import figures_of
from .models import IndicatorScore, ManagerScore, ResultVersion, Scheme
from .scheme_choices import ROLE_LEVELS, SchemeRole, SchemeStatus, TargetSource

ZERO = Decimal("0")
logger = logging.getLogger(__name__)

# A unit: (manager id, branch id) of a client manager, (None, branch id) of a branch.
UnitKey = tuple[int | None, int]


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    indicator: Any  # marketing.models.Indicator
    weight: Decimal
    formula: str
    params: Mapping[str, Any]
    target_source: str
    target: Decimal | None = None  # the fixed one
    targets: Mapping[UnitKey, Decimal] = field(default_factory=dict)  # per unit or from the tasks
    lower_is_better: bool = False
    scheme_indicator_id: int | None = None

    def target_of(self, key: UnitKey) -> Decimal | None:
        if self.target_source == TargetSource.FIXED:
            return self.target
        if self.target_source in (TargetSource.PER_UNIT, TargetSource.TASK):
            # a manager's target holds wherever they work (see _target_key)
            return self.targets.get((key[0], 0) if key[0] is not None else key)
        return None


@dataclass(frozen=True)
class SchemeSpec:
    scheme_id: int | None
    role: str
    name: str
    indicators: tuple[IndicatorSpec, ...]
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Unit:
    key: UnitKey
    level: int  # the peer group's branch level

    @property
    def manager_id(self) -> int | None:
        return self.key[0]

    @property
    def branch_id(self) -> int:
        return self.key[1]


@dataclass(frozen=True)
class IndicatorResult:
    spec: IndicatorSpec
    actual: Decimal
    target: Decimal | None
    points: Decimal  # out of 100 (negative: a deduction), unrounded
    score: Decimal  # what it adds to the score, unrounded


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    score: Decimal  # rounded half-up to 2 decimals once
    rank: int
    peers: int
    grade: str | None
    indicators: tuple[IndicatorResult, ...]


# --- 4: in memory -----------------------------------------------------------------------


def evaluate(
    spec: SchemeSpec, units: Sequence[Unit], actuals: Sequence[Mapping[UnitKey, Decimal]]
) -> list[UnitResult]:
    """Every unit's score, rank and grade under `spec`; `actuals[i]` holds the i-th
    indicator's actual of each unit (a unit without one has 0)."""
    groups: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        groups[unit.level].append(unit)
    results: list[UnitResult] = []
    for level in sorted(groups):
        members = groups[level]
        # places on each rank-scored indicator, within the peer group
        places: list[dict[UnitKey, int]] = [
            formulas.competition_ranks(
                {unit.key: by_unit.get(unit.key, ZERO) for unit in members},
                lower_is_better=item.lower_is_better,
            )
            if formulas.formula(item.formula).needs_rank
            else {}
            for item, by_unit in zip(spec.indicators, actuals, strict=True)
        ]
        scored: dict[UnitKey, tuple[Decimal, tuple[IndicatorResult, ...]]] = {}
        for unit in members:
            parts: list[IndicatorResult] = []
            for item, by_unit, place in zip(spec.indicators, actuals, places, strict=True):
                actual = by_unit.get(unit.key, ZERO)
                target = item.target_of(unit.key)
                inputs = Inputs(
                    actual=actual,
                    target=target,
                    lower_is_better=item.lower_is_better,
                    rank=place.get(unit.key),
                    peers=len(members),
                )
                points = formulas.points(item.formula, item.params, inputs)
                parts.append(
                    IndicatorResult(
                        item, actual, target, points, formulas.weighted(item.formula, points, item.weight)
                    )
                )
            total = formulas.round_points(sum((part.score for part in parts), ZERO))
            scored[unit.key] = (total, tuple(parts))
        ranks = formulas.competition_ranks({key: total for key, (total, _parts) in scored.items()})
        for unit in members:
            total, kept = scored[unit.key]
            rank = ranks[unit.key]
            grade = formulas.grade_for(list(spec.bands), score=total, rank=rank, peers=len(members))
            results.append(UnitResult(unit, total, rank, len(members), grade, kept))
    return results


# --- 1 to 3: from the database ------------------------------------------------------------


def scheme_spec(scheme: Scheme) -> SchemeSpec:
    """A scheme as `evaluate` reads it, with its per-unit and task targets."""
    from marketing.choices import IndicatorDirection

    rows = list(
        scheme.indicators.select_related("indicator").prefetch_related("targets").order_by("position", "pk")
    )
    specs = []
    for row in rows:
        targets: dict[UnitKey, Decimal] = {}
        if row.target_source == TargetSource.PER_UNIT:
            for target in row.targets.all():
                targets[_target_key(target.manager_id, target.branch_id)] = target.target
        elif row.target_source == TargetSource.TASK:
            targets = task_targets(row.indicator, scheme.period)
        specs.append(
            IndicatorSpec(
                code=row.indicator.code,
                name=row.indicator.name,
                indicator=row.indicator,
                weight=row.weight,
                formula=row.formula,
                params=formulas.check_params(row.formula, row.params),
                target_source=row.target_source,
                target=row.target,
                targets=targets,
                lower_is_better=row.indicator.direction == IndicatorDirection.DEDUCTION,
                scheme_indicator_id=row.pk,
            )
        )
    bands = tuple(Band(b.label, b.min_score, b.share) for b in scheme.bands.order_by("position", "pk"))
    return SchemeSpec(scheme.pk, scheme.role, scheme.name, tuple(specs), bands)


def _target_key(manager_id: int | None, branch_id: int | None) -> UnitKey:
    # a manager's target holds wherever they work: branch 0 stands for "any"
    return (manager_id, 0) if manager_id is not None else (None, int(branch_id or 0))


def task_targets(indicator, period) -> dict[UnitKey, Decimal]:
    """Each manager's and branch's allocation of the issued marketing tasks that
    measure the indicator over exactly the period (summed over such tasks; a
    returned allocation does not count)."""
    from marketing.choices import AllocationStatus, TaskStatus
    from marketing.models import TaskAllocation

    allocations = (
        TaskAllocation.objects.filter(
            task__indicator=indicator,
            task__period_start=period.start,
            task__period_end=period.end,
            task__status__in=[TaskStatus.ISSUED, TaskStatus.CLOSED],
        )
        .exclude(status=AllocationStatus.RETURNED)
        .values_list("manager_id", "branch_id", "target")
    )
    targets: dict[UnitKey, Decimal] = defaultdict(Decimal)
    for manager_id, branch_id, target in allocations:
        targets[_target_key(manager_id, branch_id)] += target
    return dict(targets)


@dataclass
class _Org:
    """The branches, by id: their path and level (one small query)."""

    paths: dict[int, str]
    levels: dict[int, int]

    @classmethod
    def load(cls) -> _Org:
        rows = list(Branch.objects.values_list("pk", "path", "level"))
        return cls({pk: path for pk, path, _level in rows}, {pk: level for pk, _path, level in rows})

    def ancestor_at(self, branch_id: int | None, level: int) -> int | None:
        """The branch of `level` above (or equal to) the branch."""
        path = self.paths.get(branch_id or 0)
        if path is None:
            return None
        codes = path.strip("/").split("/")
        if len(codes) <= level:
            return None
        return self._by_path().get("/".join(codes[: level + 1]) + "/")

    def _by_path(self) -> dict[str, int]:
        if not hasattr(self, "_paths_inverse"):
            self._paths_inverse = {path: pk for pk, path in self.paths.items()}
        return self._paths_inverse


def scheme_units(spec: SchemeSpec, version: ResultVersion, org: _Org) -> list[Unit]:
    if spec.role == SchemeRole.CLIENT_MANAGER:
        managers = set(version.managers.filter(manager__isnull=False).values_list("manager_id", flat=True))
        for item in spec.indicators:
            managers.update(key[0] for key in item.targets if key[0] is not None)
        rows = User.objects.filter(pk__in=managers, branch__isnull=False).values_list("pk", "branch_id")
        return [Unit((pk, branch_id), org.levels[branch_id]) for pk, branch_id in rows]
    level = ROLE_LEVELS[spec.role]
    branches = Branch.objects.filter(level=level, is_active=True).values_list("pk", flat=True)
    return [Unit((None, pk), level) for pk in branches]


def unit_actuals(
    spec: SchemeSpec, units: Sequence[Unit], version: ResultVersion, org: _Org
) -> list[dict[UnitKey, Decimal]]:
    """Each indicator's actual per unit, rounded half-up to 2 decimals."""
    from marketing.indicators import actuals

    period = version.period
    found: list[dict[UnitKey, Decimal]] = []
    by_manager = {unit.manager_id: unit.key for unit in units if unit.manager_id is not None}
    level = ROLE_LEVELS.get(spec.role)
    with figures_of(version):
        for item in spec.indicators:
            sums: dict[UnitKey, Decimal] = defaultdict(Decimal)
            for row in actuals(item.indicator, period.start, period.end):
                if spec.role == SchemeRole.CLIENT_MANAGER:
                    key = by_manager.get(row.manager_id) if row.manager_id is not None else None
                else:
                    assert level is not None
                    branch = org.ancestor_at(row.branch_id, level)
                    key = (None, branch) if branch is not None else None
                if key is not None:
                    sums[key] += Decimal(row.value)
            found.append({key: formulas.round_points(value) for key, value in sums.items()})
    return found


def score_scheme(spec: SchemeSpec, version: ResultVersion) -> list[UnitResult]:
    """Every unit's result under the scheme on the version's figures; writes nothing."""
    org = _Org.load()
    units = scheme_units(spec, version, org)
    return evaluate(spec, units, unit_actuals(spec, units, version, org))


def approved_schemes(version: ResultVersion) -> list[Scheme]:
    return list(
        Scheme.objects.filter(period_id=version.period_id, status=SchemeStatus.APPROVED).order_by("role")
    )


@transaction.atomic
def score_version(version: ResultVersion) -> int:
    """Replace the version's scores with those of the approved schemes of its period
    (idempotent); the number of units scored."""
    ManagerScore.objects.filter(version=version).delete()
    written = 0
    for scheme in approved_schemes(version):
        spec = scheme_spec(scheme)
        try:
            with transaction.atomic():
                results = score_scheme(spec, version)
        except ValidationError as exc:
            # A scheme whose indicator cannot be computed (its task was deleted, its
            # kind is no longer registered) leaves its units unscored; the figures
            # and the other schemes' scores stand.
            logger.error("scheme %s cannot score %s: %s", scheme.pk, version, "; ".join(exc.messages))
            continue
        written += write_results(version, scheme, spec, results)
    return written


def write_results(
    version: ResultVersion, scheme: Scheme, spec: SchemeSpec, results: Iterable[UnitResult]
) -> int:
    results = list(results)
    scores = ManagerScore.objects.bulk_create(
        ManagerScore(
            version=version,
            scheme=scheme,
            role=spec.role,
            manager_id=result.unit.manager_id,
            branch_id=result.unit.branch_id,
            peer_level=result.unit.level,
            peers=result.peers,
            score=result.score,
            rank=result.rank,
            grade=result.grade or "",
        )
        for result in results
    )
    IndicatorScore.objects.bulk_create(
        IndicatorScore(
            manager_score=score,
            scheme_indicator_id=part.spec.scheme_indicator_id or 0,  # a stored scheme's: never 0
            code=part.spec.code,
            actual=part.actual,
            target=part.target,
            weight=part.spec.weight,
            points=formulas.round_points(part.points),
            score=formulas.round_points(part.score),
        )
        for score, result in zip(scores, results, strict=True)
        for part in result.indicators
    )
    return len(results)


def with_changes(
    spec: SchemeSpec,
    *,
    weights: Mapping[str, Decimal] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    targets: Mapping[str, Decimal] | None = None,
    bands: Sequence[Band] | None = None,
) -> SchemeSpec:
    """A copy of the scheme with changed weights, formula parameters or fixed
    targets (by indicator code) or bands; parameters are checked."""
    changed = []
    for item in spec.indicators:
        updates: dict[str, Any] = {}
        if weights and item.code in weights:
            updates["weight"] = formulas.to_decimal(weights[item.code], name=item.name)
        if params and item.code in params:
            updates["params"] = formulas.check_params(item.formula, params[item.code])
        if targets and item.code in targets:
            updates["target_source"] = TargetSource.FIXED
            updates["target"] = formulas.to_decimal(targets[item.code], name=item.name)
        changed.append(dataclasses.replace(item, **updates))
    return dataclasses.replace(
        spec, indicators=tuple(changed), bands=tuple(bands) if bands is not None else spec.bands
    )

"""What-if: a scheme with changed weights, formula parameters, fixed targets or grade
bands, scored in memory on the figures the scheme's period shows, side by side with
the scheme as it is. Nothing is written: the comparison is read, and the change goes
through a copy of the scheme and its approval like any other.

Both sides are scored by `scoring.evaluate` on the same units and actuals, so the
only differences are those of the change. Rows are those of the units the user may
see (a branch head their subtree's), ranked within the whole peer group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Branch, User
from accounts.scope import ScopeKind, data_scope

from . import formulas
from .formulas import Band
from .models import ResultVersion, Scheme
from .scoring import (
    SchemeSpec,
    UnitResult,
    _Org,
    evaluate,
    scheme_spec,
    scheme_units,
    unit_actuals,
    with_changes,
)
from .selectors import shown_version

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Comparison:
    before: UnitResult
    after: UnitResult
    manager: User | None
    branch: Branch

    @property
    def score_change(self) -> Decimal:
        return self.after.score - self.before.score

    @property
    def rank_change(self) -> int:
        """Places gained (positive) or lost."""
        return self.before.rank - self.after.rank

    @property
    def grade_changed(self) -> bool:
        return self.before.grade != self.after.grade


@dataclass(frozen=True)
class WhatIf:
    version: ResultVersion
    before: SchemeSpec
    after: SchemeSpec
    rows: list[Comparison]


def _check_weights(spec: SchemeSpec) -> None:
    total = sum((i.weight for i in spec.indicators if formulas.formula(i.formula).weighted), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The weights add up to %(sum)s, not 100.") % {"sum": formulas.plain(total)}, code="weights"
        )


def _visible(user: User, manager_id: int | None, branch: Branch) -> bool:
    scope = data_scope(user)
    if scope.kind is ScopeKind.ALL:
        return True
    if scope.kind is ScopeKind.SUBTREE and scope.branch is not None:
        return branch.path.startswith(scope.branch.path)
    if scope.kind is ScopeKind.OWN:
        return manager_id is not None and manager_id == user.pk
    return False


def what_if(
    *,
    scheme: Scheme,
    user: User,
    weights: Mapping[str, Any] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    targets: Mapping[str, Any] | None = None,
    bands: Sequence[Band] | None = None,
    version: ResultVersion | None = None,
) -> WhatIf:
    """Every unit's score, rank and grade under the scheme and under the changed copy
    (changes keyed by indicator code), on the version the period shows (or the one
    given). Writes nothing."""
    version = version or shown_version(scheme.period)
    if version is None:
        raise ValidationError(
            _("%(period)s has no figures yet: compute it first.") % {"period": scheme.period.code},
            code="no_figures",
        )
    before = scheme_spec(scheme)
    after = with_changes(before, weights=weights, params=params, targets=targets, bands=bands)
    _check_weights(after)
    org = _Org.load()
    units = scheme_units(before, version, org)
    actuals = unit_actuals(before, units, version, org)
    old = {result.unit.key: result for result in evaluate(before, units, actuals)}
    new = {result.unit.key: result for result in evaluate(after, units, actuals)}
    managers = User.objects.in_bulk([key[0] for key in old if key[0] is not None])
    branches = Branch.objects.in_bulk([key[1] for key in old])
    rows = [
        Comparison(old[key], new[key], managers.get(key[0]) if key[0] else None, branches[key[1]])
        for key in old
        if _visible(user, key[0], branches[key[1]])
    ]
    rows.sort(
        key=lambda row: (
            row.after.unit.level,
            row.after.rank,
            row.branch.path,
            row.manager.employee_no if row.manager else "",
        )
    )
    return WhatIf(version, before, after, rows)

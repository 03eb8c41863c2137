"""Writes of assessment schemes (考核方案): a business manager drafts a scheme of a
period for a role, adds indicators of the library with a weight, a formula and a
target source, sets or imports per-unit targets and the grade bands, and submits
it; another business manager approves or rejects it (`accounts.approvals.decide`).

- A scheme is checked before it goes for approval (`scheme_problems`): at least one
  indicator, the weights of the weighted indicators add up to exactly 100, a
  deduction weighs 0, each target source has its targets, the grade bands are all by
  score or all by share.
- Only a draft or a rejected scheme changes. An approved scheme is copied instead
  (`scheme_copy`); approving the copy supersedes the scheme it copies, so one
  approved scheme of a period and role scores at a time.
- Approval scores the open period's provisional figures at once; a published
  version keeps its scores until a recalculation is approved.
- Every write is audited in its transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide
from accounts.audit import audit
from accounts.models import Branch, User
from core.approvals import ApprovalStatus
from marketing.indicators import registered
from marketing.models import Indicator

from . import formulas
from .choices import PeriodStatus
from .models import GradeBand, ResultVersion, Scheme, SchemeIndicator, SchemeTarget
from .periods import parse_period
from .scheme_choices import (
    EDITABLE_STATUSES,
    ROLE_LEVELS,
    SchemeAction,
    SchemeRole,
    SchemeStatus,
    TargetSource,
)
from .services import period_for

HUNDRED = Decimal("100")


def _require(user: User, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(_("You may not change assessment schemes."))


def _lock_editable(scheme: Scheme) -> Scheme:
    locked = Scheme.objects.select_for_update().select_related("period").get(pk=scheme.pk)
    if locked.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _(
                "This scheme is %(status)s and cannot be changed: copy it, change the copy and submit "
                "the copy for approval."
            )
            % {"status": locked.get_status_display()},
            code="not_editable",
        )
    return locked


def _back_to_draft(scheme: Scheme) -> None:
    """A change to a rejected scheme makes it a draft again, to be submitted anew."""
    if scheme.status == SchemeStatus.REJECTED:
        scheme.status = SchemeStatus.DRAFT
        scheme.save(update_fields=["status"])


@transaction.atomic
def scheme_create(*, by: User, period: str, role: str, name: str) -> Scheme:
    _require(by, "performance.add_scheme")
    scheme = Scheme(
        period=period_for(parse_period(period)), role=role, name=(name or "").strip(), created_by=by
    )
    scheme.full_clean()
    scheme.save()
    audit(
        SchemeAction.SCHEME_CREATED,
        actor=by,
        target=scheme,
        details={"period": scheme.period.code, "role": role},
    )
    return scheme


@transaction.atomic
def scheme_rename(*, scheme: Scheme, by: User, name: str) -> Scheme:
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme)
    scheme.name = (name or "").strip()
    scheme.full_clean()
    scheme.save(update_fields=["name"])
    _back_to_draft(scheme)
    audit(SchemeAction.SCHEME_CHANGED, actor=by, target=scheme, details={"name": scheme.name})
    return scheme


def _clean_indicator(
    *,
    indicator: Indicator,
    weight: Decimal,
    formula: str,
    params: Any,
    target_source: str,
    target: Decimal | None,
) -> dict[str, Any]:
    kind = formulas.formula(formula)
    checked = formulas.check_params(formula, params)
    weight = formulas.to_decimal(weight, name=_("weight"))
    if not kind.weighted and weight != 0:
        raise ValidationError(
            _("A deduction is subtracted as it is: give it a weight of 0."), code="deduction_weight"
        )
    if kind.weighted and not Decimal("0") < weight <= HUNDRED:
        raise ValidationError(_("A weight is above 0 and at most 100."), code="weight")
    if not kind.needs_target:
        target_source, target = TargetSource.NONE, None
    elif target_source == TargetSource.NONE:
        raise ValidationError(_("This formula needs a target: choose where it comes from."), code="no_target")
    if target_source == TargetSource.FIXED:
        if target is None:
            raise ValidationError(_("Give the fixed target."), code="no_target")
        target = formulas.to_decimal(target, name=_("target"))
        if target <= 0:
            raise ValidationError(_("A target is above 0."), code="target")
    else:
        target = None
    return {
        "weight": weight,
        "formula": formula,
        "params": checked,
        "target_source": target_source,
        "target": target,
    }


@transaction.atomic
def scheme_indicator_set(
    *,
    scheme: Scheme,
    by: User,
    indicator: Indicator,
    weight: Decimal | int | str,
    formula: str,
    params: dict[str, Any] | None = None,
    target_source: str = TargetSource.FIXED,
    target: Decimal | int | str | None = None,
) -> SchemeIndicator:
    """Add an indicator of the library to a scheme, or change how it counts there."""
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme)
    row = SchemeIndicator.objects.filter(scheme=scheme, indicator=indicator).first()
    if row is None and not indicator.active:
        raise ValidationError(
            _("%(indicator)s is switched off and cannot be chosen.") % {"indicator": indicator.name},
            code="inactive_indicator",
        )
    values = _clean_indicator(
        indicator=indicator,
        weight=Decimal(str(weight)),
        formula=formula,
        params=params,
        target_source=target_source,
        target=None if target is None else Decimal(str(target)),
    )
    if row is None:
        position = (scheme.indicators.aggregate(n=Max("position"))["n"] or 0) + 1
        row = SchemeIndicator(scheme=scheme, indicator=indicator, position=position)
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    _back_to_draft(scheme)
    audit(
        SchemeAction.SCHEME_CHANGED,
        actor=by,
        target=scheme,
        details={
            "indicator": indicator.code,
            "weight": str(row.weight),
            "formula": row.formula,
            "params": row.params,
            "target_source": row.target_source,
            "target": None if row.target is None else str(row.target),
        },
    )
    return row


@transaction.atomic
def scheme_indicator_remove(*, scheme_indicator: SchemeIndicator, by: User) -> None:
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme_indicator.scheme)
    code = scheme_indicator.indicator.code
    scheme_indicator.delete()
    _back_to_draft(scheme)
    audit(SchemeAction.SCHEME_CHANGED, actor=by, target=scheme, details={"removed": code})


@dataclass(frozen=True)
class BandInput:
    label: str
    min_score: Decimal | None = None
    share: Decimal | None = None


@transaction.atomic
def scheme_bands_set(*, scheme: Scheme, by: User, bands: Sequence[BandInput]) -> list[GradeBand]:
    """Replace the scheme's grade bands, best first: all by a minimum score (each
    lower than the one before) or all by a cumulative top share (each larger)."""
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme)
    labels = [(band.label or "").strip() for band in bands]
    if not bands or any(not label for label in labels):
        raise ValidationError(_("Give each grade a label."), code="band_label")
    if len(set(labels)) != len(labels):
        raise ValidationError(_("Two grades have the same label."), code="band_twice")
    by_score = [band.min_score is not None for band in bands]
    by_share = [band.share is not None for band in bands]
    if not (all(by_score) and not any(by_share)) and not (all(by_share) and not any(by_score)):
        raise ValidationError(
            _("Grade every band by a minimum score, or every band by a top share of the peer group."),
            code="band_method",
        )
    values = [band.min_score if band.min_score is not None else band.share for band in bands]
    if all(by_score) and any(later >= earlier for earlier, later in zip(values, values[1:], strict=False)):  # type: ignore[operator]
        raise ValidationError(_("List the grades best first: each minimum score below the one before."))
    if all(by_share) and any(later <= earlier for earlier, later in zip(values, values[1:], strict=False)):  # type: ignore[operator]
        raise ValidationError(_("List the grades best first: each top share larger than the one before."))
    scheme.bands.all().delete()
    rows = []
    for position, (band, label) in enumerate(zip(bands, labels, strict=True), start=1):
        row = GradeBand(
            scheme=scheme, label=label, position=position, min_score=band.min_score, share=band.share
        )
        row.full_clean()
        rows.append(row)
    GradeBand.objects.bulk_create(rows)
    _back_to_draft(scheme)
    audit(
        SchemeAction.SCHEME_CHANGED,
        actor=by,
        target=scheme,
        details={
            "bands": [
                [
                    b.label,
                    str(b.min_score) if b.min_score is not None else None,
                    str(b.share) if b.share is not None else None,
                ]
                for b in rows
            ]
        },
    )
    return rows


# --- per-unit targets: set one, or import a workbook whole or not at all ----------------


def _unit_of(scheme: Scheme, code: str) -> dict[str, Any] | None:
    """The assessed unit a code names: a client manager's employee number, or the code
    of a branch of the scheme's level."""
    code = (code or "").strip()
    if scheme.role == SchemeRole.CLIENT_MANAGER:
        manager = User.objects.filter(employee_no=code).first()
        return {"manager": manager, "branch": None} if manager else None
    branch = Branch.objects.filter(code=code, level=ROLE_LEVELS[scheme.role]).first()
    return {"manager": None, "branch": branch} if branch else None


@transaction.atomic
def scheme_target_set(
    *, scheme_indicator: SchemeIndicator, by: User, unit: str, target: Decimal
) -> SchemeTarget:
    """The target of one unit (an employee number or a branch code)."""
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme_indicator.scheme)
    found = _unit_of(scheme, unit)
    if found is None:
        raise ValidationError(_("%(unit)s is not a unit this scheme assesses.") % {"unit": unit}, code="unit")
    target = formulas.to_decimal(target, name=_("target"))
    if target < 0:
        raise ValidationError(_("A target is 0 or more."), code="target")
    row, _created = SchemeTarget.objects.update_or_create(
        scheme_indicator=scheme_indicator, **found, defaults={"target": target}
    )
    _back_to_draft(scheme)
    audit(
        SchemeAction.SCHEME_CHANGED,
        actor=by,
        target=scheme,
        details={"indicator": scheme_indicator.indicator.code, "unit": unit, "target": str(target)},
    )
    return row


TARGET_HEADER = ("indicator", "unit", "target")


@dataclass(frozen=True)
class TargetImport:
    applied: int
    errors: list[str]  # "line N: why"; any error and nothing is applied


def scheme_targets_import(*, scheme: Scheme, by: User, workbook: bytes | io.BytesIO) -> TargetImport:
    """Targets per unit from an Excel workbook, first sheet, header `indicator, unit,
    target` (indicator code, employee number or branch code, amount). Every row is
    checked first; one bad row (reported with its line) and none is applied."""
    from openpyxl import load_workbook

    _require(by, "performance.change_scheme")
    try:
        book = load_workbook(
            io.BytesIO(workbook) if isinstance(workbook, bytes) else workbook, read_only=True, data_only=True
        )
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError(_("This file is not an Excel workbook (.xlsx)."), code="not_xlsx") from exc
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header = tuple(str(cell or "").strip().lower() for cell in (rows[0] if rows else ())[:3])
    if header != TARGET_HEADER:
        raise ValidationError(
            _("The first row must be the header: %(header)s.") % {"header": ", ".join(TARGET_HEADER)},
            code="header",
        )
    with transaction.atomic():
        scheme = _lock_editable(scheme)
        per_unit = {
            row.indicator.code: row
            for row in scheme.indicators.select_related("indicator").filter(
                target_source=TargetSource.PER_UNIT
            )
        }
        errors: list[str] = []
        found: dict[tuple[int, str], tuple[SchemeIndicator, dict[str, Any], Decimal]] = {}
        for line, cells in enumerate(rows[1:], start=2):
            cells = tuple(cells[:3]) + (None,) * (3 - len(cells[:3]))
            if all(cell in (None, "") for cell in cells):
                continue
            code, unit, amount = (str(cell).strip() if cell is not None else "" for cell in cells)
            indicator = per_unit.get(code)
            if indicator is None:
                errors.append(
                    _("line %(line)s: %(code)s is not an indicator of this scheme with targets per unit.")
                    % {"line": line, "code": code or "—"}
                )
                continue
            target_unit = _unit_of(scheme, unit)
            if target_unit is None:
                errors.append(
                    _("line %(line)s: %(unit)s is not a unit this scheme assesses.")
                    % {"line": line, "unit": unit or "—"}
                )
                continue
            try:
                target = formulas.to_decimal(amount, name=_("target"))
            except ValidationError:
                target = Decimal("-1")
            if target < 0:
                errors.append(_("line %(line)s: the target must be a number, 0 or more.") % {"line": line})
                continue
            if (indicator.pk, unit) in found:
                errors.append(
                    _("line %(line)s: %(unit)s has a target for this indicator already.")
                    % {"line": line, "unit": unit}
                )
                continue
            found[(indicator.pk, unit)] = (indicator, target_unit, target)
        if errors:
            return TargetImport(0, errors)
        for indicator, target_unit, target in found.values():
            SchemeTarget.objects.update_or_create(
                scheme_indicator=indicator, **target_unit, defaults={"target": target}
            )
        _back_to_draft(scheme)
        audit(SchemeAction.TARGETS_IMPORTED, actor=by, target=scheme, details={"rows": len(found)})
    return TargetImport(len(found), [])


# --- checking, submitting, deciding, copying --------------------------------------------


def scheme_problems(scheme: Scheme) -> list[str]:
    """What stops the scheme from going for approval (nothing: it may)."""
    problems = []
    indicators = list(scheme.indicators.select_related("indicator").prefetch_related("targets"))
    if not indicators:
        problems.append(_("Add at least one indicator."))
    weights = sum((row.weight for row in indicators if formulas.formula(row.formula).weighted), Decimal("0"))
    if indicators and weights != HUNDRED:
        problems.append(_("The weights add up to %(sum)s, not 100.") % {"sum": formulas.plain(weights)})
    for row in indicators:
        if not registered(row.indicator.kind):
            problems.append(
                _("%(indicator)s: nothing computes indicators of its kind.")
                % {"indicator": row.indicator.name}
            )
        try:
            formulas.check_params(row.formula, row.params)
        except ValidationError as exc:
            problems.append(f"{row.indicator.name}: {' '.join(exc.messages)}")
        if row.target_source == TargetSource.PER_UNIT and not row.targets.all():
            problems.append(
                _("%(indicator)s has no target of any unit yet.") % {"indicator": row.indicator.name}
            )
    if not scheme.bands.exists():
        problems.append(_("Add the grade bands."))
    return problems


@transaction.atomic
def scheme_submit(*, scheme: Scheme, by: User) -> Scheme:
    _require(by, "performance.change_scheme")
    scheme = _lock_editable(scheme)
    problems = scheme_problems(scheme)
    if problems:
        raise ValidationError(problems, code="incomplete")
    scheme.status = SchemeStatus.PENDING
    scheme.proposed_by, scheme.proposed_at = by, timezone.now()
    scheme.decided_by, scheme.decided_at, scheme.decision_note = None, None, ""
    scheme.save(
        update_fields=["status", "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_note"]
    )
    audit(SchemeAction.SCHEME_SUBMITTED, actor=by, target=scheme, details={"period": scheme.period.code})
    return scheme


def _approve(scheme: Scheme, by: User) -> dict[str, Any]:
    # the scheme it replaces (the one copied, or another of the period and role) steps
    # aside before this one becomes the approved one
    replaced = list(
        Scheme.objects.filter(period=scheme.period, role=scheme.role, status=SchemeStatus.APPROVED)
        .exclude(pk=scheme.pk)
        .values_list("pk", flat=True)
    )
    Scheme.objects.filter(pk__in=replaced).update(status=SchemeStatus.SUPERSEDED)
    scheme.save(update_fields=["status"])  # before scoring, which reads the approved schemes
    _score_open_period(scheme.period_id)
    return {"superseded": replaced}


def _score_open_period(period_id: int) -> None:
    """Score the open period's provisional figures under the approved schemes now,
    rather than after the next load (in the approval's transaction: a scoring that
    fails leaves the scheme undecided)."""
    from .scoring import score_version

    version = ResultVersion.objects.filter(
        period_id=period_id, period__status=PeriodStatus.OPEN, number=0
    ).first()
    if version is not None:
        score_version(version)


def _details(scheme: Scheme, decision: str) -> dict[str, Any]:
    return {"period": scheme.period.code, "role": scheme.role, "name": scheme.name}


SCHEME_FLOW: ApprovalFlow[Scheme] = ApprovalFlow(
    model=Scheme,
    item=gettext_lazy("assessment scheme"),
    permission="performance.approve_scheme",
    action={
        ApprovalStatus.APPROVED: SchemeAction.SCHEME_APPROVED,
        ApprovalStatus.REJECTED: SchemeAction.SCHEME_REJECTED,
    },
    on_approve=_approve,
    details=_details,
    related=("period",),
)


def scheme_decide(*, scheme: Scheme, by: User, approve: bool, note: str = "") -> Scheme:
    """Approve or reject a submitted scheme: another person than its proposer, with
    the permission; a rejection says why."""
    return decide(SCHEME_FLOW, scheme, by=by, approve=approve, note=note)


@transaction.atomic
def scheme_copy(*, scheme: Scheme, by: User, name: str = "", period: str | None = None) -> Scheme:
    """A draft copy of a scheme (its indicators, targets and bands), for the same
    period or another: the way to change an approved scheme."""
    _require(by, "performance.add_scheme")
    target_period = period_for(parse_period(period)) if period else scheme.period
    copy = Scheme(
        period=target_period,
        role=scheme.role,
        name=(name or "").strip() or scheme.name,
        created_by=by,
        copy_of=scheme,
    )
    copy.full_clean()
    copy.save()
    _copy_content(scheme, copy)
    audit(
        SchemeAction.SCHEME_COPIED,
        actor=by,
        target=copy,
        details={"copy_of": scheme.pk, "period": target_period.code},
    )
    return copy


def _copy_content(source: Scheme, copy: Scheme) -> None:
    for row in source.indicators.prefetch_related("targets"):
        targets = list(row.targets.all())
        row.pk, row.id, row.scheme = None, None, copy
        row.save()
        SchemeTarget.objects.bulk_create(
            SchemeTarget(
                scheme_indicator=row, manager_id=t.manager_id, branch_id=t.branch_id, target=t.target
            )
            for t in targets
        )
    GradeBand.objects.bulk_create(
        GradeBand(scheme=copy, label=b.label, position=b.position, min_score=b.min_score, share=b.share)
        for b in source.bands.all()
    )

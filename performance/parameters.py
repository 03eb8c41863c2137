"""FTP spreads (docs/performance.md, "Contribution"): the net funds-transfer-pricing
spread of each deposit and loan category, which turns a balance into contribution.
They change by maker-checker: a parameter manager proposes values, someone else
(another parameter manager or a system administrator) approves, and only then are
they in force; the next computation of a period uses them.

The spreads of a period are, category by category, the period's own (written by an
approved proposal for that period), else the bank's default (the row without a
period), else the definition's defaults (`DEFAULT_SPREADS`). A row, once written,
holds all six categories: a period's own spreads do not follow later changes of the
default.

A proposal records the spreads it replaces (`base`, as in force for its period when
proposed): it applies only while those are still the spreads in force."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User
from core.approvals import ApprovalStatus
from customers.choices import AccountCategory

from .models import FtpProposal, FtpSpreads, Period

# The categories that carry a spread: deposits (liability business) and loans and
# cards (asset business), in the order the definition lists them.
CATEGORIES: tuple[str, ...] = (
    AccountCategory.DEP_CUR,
    AccountCategory.DEP_TIME,
    AccountCategory.LOAN_MORTGAGE,
    AccountCategory.LOAN_CONSUMER,
    AccountCategory.LOAN_BUSINESS,
    AccountCategory.CREDIT_CARD,
)
DEFAULT_SPREADS: dict[str, Decimal] = {
    AccountCategory.DEP_CUR: Decimal("0.0200"),
    AccountCategory.DEP_TIME: Decimal("0.0080"),
    AccountCategory.LOAN_MORTGAGE: Decimal("0.0100"),
    AccountCategory.LOAN_CONSUMER: Decimal("0.0250"),
    AccountCategory.LOAN_BUSINESS: Decimal("0.0180"),
    AccountCategory.CREDIT_CARD: Decimal("0.0500"),
}
# A spread is a rate with at most 4 decimals, between -1 and 1.
PLACES = Decimal("0.0001")
LIMIT = Decimal(1)

PROPOSE = "performance.add_ftpproposal"
APPROVE = "performance.approve_ftpproposal"
REASON_MIN_LENGTH = 4


def category_label(category: str) -> str:
    return str(AccountCategory(category).label) if category in AccountCategory.values else category


def spread_text(value: Decimal) -> str:
    """A spread as it is stored and shown: exact text with 4 decimals ("0.0200")."""
    return str(value.quantize(PLACES) + 0)  # + 0: no "-0.0000"


def _spreads_of(row_spreads: dict[str, Any] | None) -> dict[str, Decimal]:
    return {c: Decimal(str(v)) for c, v in (row_spreads or {}).items() if c in CATEGORIES}


def _in_force(period: Period | None, rows: list[FtpSpreads]) -> dict[str, Decimal]:
    """The spreads of `period` from its row and the default row among `rows`."""
    default = next((r for r in rows if r.period_id is None), None)
    own = next((r for r in rows if period is not None and r.period_id == period.pk), None)
    return {
        **DEFAULT_SPREADS,
        **_spreads_of(default.spreads if default else None),
        **_spreads_of(own.spreads if own else None),
    }


def _rows(period: Period | None, *, lock: bool = False) -> list[FtpSpreads]:
    wanted = Q(period__isnull=True)
    if period is not None:
        wanted |= Q(period=period)
    query = FtpSpreads.objects.filter(wanted)
    if lock:
        query = query.select_for_update()
    return list(query)


def spreads_for(period: Period | None) -> dict[str, Decimal]:
    """The FTP spread of each category for `period` (None: the bank's default), in
    the order of `CATEGORIES`: the period's own approved spreads, else the bank's
    default row, else the definition's defaults."""
    return _in_force(period, _rows(period))


# --- reads for the parameter page ---------------------------------------------------------


@dataclass(frozen=True)
class SpreadChange:
    category: str
    label: str
    before: str | None
    after: str


@dataclass(frozen=True)
class SpreadTable:
    """The spreads in force: one column for the bank's default and one for each
    period with spreads of its own; one row per category."""

    columns: list[str]
    rows: list[tuple[str, list[str]]]  # (category label, one value per column)


def spread_table() -> SpreadTable:
    rows = list(FtpSpreads.objects.select_related("period").order_by("-period__start", "period__kind"))
    default = next((r for r in rows if r.period_id is None), None)
    periods = [r.period for r in rows if r.period is not None]
    sets = [_in_force(None, [default] if default else [])]
    sets += [_in_force(p, rows) for p in periods]
    return SpreadTable(
        columns=[_("Bank default"), *(p.code for p in periods)],
        rows=[(category_label(c), [spread_text(s[c]) for s in sets]) for c in CATEGORIES],
    )


@dataclass(frozen=True)
class ProposalRow:
    """A proposal as the parameter page lists it, with what the user may do with it
    (the services decide; the page only leaves out buttons the user cannot use)."""

    proposal: FtpProposal
    period: str
    changes: list[SpreadChange]
    can_decide: bool
    can_withdraw: bool


def proposal_rows(*, user: User, pending: bool, limit: int = 50) -> list[ProposalRow]:
    """Every pending proposal (oldest first), or the latest `limit` decided ones."""
    waiting = Q(status=ApprovalStatus.PENDING)
    proposals = (
        FtpProposal.objects.filter(waiting).order_by("proposed_at", "id")
        if pending
        else FtpProposal.objects.exclude(waiting).order_by("-decided_at", "-id")
    )
    may_decide = user.has_perm(APPROVE)
    may_withdraw = user.has_perm(PROPOSE)
    return [
        ProposalRow(
            proposal=p,
            period=proposal_period(p),
            changes=proposal_changes(p),
            can_decide=pending and may_decide and not p.is_proposed_by(user),
            can_withdraw=pending and may_withdraw and p.is_proposed_by(user),
        )
        for p in proposals.select_related("proposed_by", "decided_by")[: None if pending else limit]
    ]


def proposal_period(proposal: FtpProposal) -> str:
    """The period a proposal is for, as the page says it."""
    return (proposal.changes or {}).get("period") or _("Bank default")


def proposal_changes(proposal: FtpProposal) -> list[SpreadChange]:
    """What a proposal changes, category by category, with the value it replaces."""
    after: dict[str, str] = (proposal.changes or {}).get("spreads", {})
    before: dict[str, str] = (proposal.base or {}).get("spreads", {})
    return [
        SpreadChange(category=c, label=category_label(c), before=before.get(c), after=value)
        for c, value in sorted(after.items(), key=lambda item: _order(item[0]))
    ]


def _order(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


# --- the proposal ---------------------------------------------------------------------------


def _require_permission(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError({"reason": _("Give a reason (at least 4 characters).")})
    return reason[:200]


def _parsed(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _validated_spreads(spreads: dict[str, Any]) -> dict[str, Decimal]:
    """The proposed spreads as decimals; every category's errors are reported together."""
    result: dict[str, Decimal] = {}
    errors: list[str] = []
    for category, value in spreads.items():
        if category not in CATEGORIES:
            errors.append(
                _("Unknown category %(c)s: a spread is set for %(all)s.")
                % {"c": category, "all": ", ".join(CATEGORIES)}
            )
            continue
        label = category_label(category)
        number = _parsed(value)
        if number is None:
            errors.append(_("%(label)s: %(v)s is not a decimal number.") % {"label": label, "v": value})
        elif not -LIMIT <= number <= LIMIT:
            errors.append(
                _("%(label)s: a spread is between -1 and 1, not %(v)s.") % {"label": label, "v": value}
            )
        elif number != number.quantize(PLACES):
            errors.append(_("%(label)s: at most 4 decimals, not %(v)s.") % {"label": label, "v": value})
        else:
            result[category] = number
    if errors:
        raise ValidationError(errors)
    return result


@transaction.atomic
def ftp_propose(
    *, by: User, period: Period | None = None, spreads: dict[str, Any], reason: str
) -> FtpProposal:
    """Propose new spreads for some categories, for the bank's default (`period`
    None) or for one period. Nothing changes until another parameter manager or a
    system administrator approves."""
    _require_permission(by, PROPOSE)
    reason = _require_reason(reason)
    if not spreads:
        raise ValidationError(_("Give the new spread of at least one category."))
    proposed = _validated_spreads(spreads)
    current = spreads_for(period)
    changed = {c: v for c, v in proposed.items() if v != current[c]}
    if not changed:
        raise ValidationError(_("Nothing would change: the spreads are the current ones."))
    ordered = sorted(changed, key=_order)
    changes = {
        "period": period.code if period else "",
        "spreads": {c: spread_text(changed[c]) for c in ordered},
    }
    base = {"spreads": {c: spread_text(current[c]) for c in ordered}}
    proposal = FtpProposal.objects.create(changes=changes, base=base, reason=reason, proposed_by=by)
    audit(
        Action.PARAMETER_CHANGED,
        actor=by,
        target=proposal,
        details={
            "parameter": "ftp_spreads",
            "status": "proposed",
            "changes": changes,
            "before": base,
            "reason": reason,
        },
    )
    return proposal


def _apply_proposal(proposal: FtpProposal, by: User) -> dict[str, Any]:
    """The effect of an approval: the period's (or the default) row takes the
    proposed spreads, unless the spreads the proposal replaces moved since."""
    changes = proposal.changes or {}
    code = changes.get("period") or ""
    period = Period.objects.filter(code=code).first() if code else None
    if code and period is None:
        raise ValidationError(_("The period %(p)s no longer exists.") % {"p": code})
    rows = _rows(period, lock=True)
    current = _in_force(period, rows)
    before: dict[str, str] = (proposal.base or {}).get("spreads", {})
    stale = [c for c, value in before.items() if c not in current or current[c] != Decimal(value)]
    if stale:
        raise ValidationError(
            _("These spreads changed since the proposal was made: %(c)s. Reject it and propose again.")
            % {"c": ", ".join(category_label(c) for c in sorted(stale, key=_order))}
        )
    proposed = _validated_spreads(changes.get("spreads", {}))
    spreads = {c: spread_text(proposed.get(c, current[c])) for c in CATEGORIES}
    now = proposal.decided_at or timezone.now()
    row = next((r for r in rows if r.period_id == (period.pk if period else None)), None)
    if row is None:
        FtpSpreads.objects.create(period=period, spreads=spreads, updated_at=now)
    else:
        row.spreads, row.updated_at = spreads, now
        row.save(update_fields=["spreads", "updated_at"])
    return {"spreads": spreads}


def _proposal_details(proposal: FtpProposal, decision: str) -> dict[str, Any]:
    # "status" is the key of the proposal's other events (proposed) in the trail.
    return {
        "parameter": "ftp_spreads",
        "status": decision,
        "changes": proposal.changes,
        "before": proposal.base,
    }


FTP_FLOW: ApprovalFlow[FtpProposal] = ApprovalFlow(
    model=FtpProposal,
    item=gettext_lazy("FTP spread proposal"),
    permission=APPROVE,
    action=Action.PARAMETER_CHANGED,
    on_approve=_apply_proposal,
    details=_proposal_details,
)


def ftp_approve(*, proposal: FtpProposal, by: User, note: str = "") -> FtpProposal:
    """Bring a proposal's spreads into force: only someone other than its proposer,
    and only if the spreads it replaces are still the ones in force."""
    return decide(FTP_FLOW, proposal, by=by, approve=True, note=note)


def ftp_reject(*, proposal: FtpProposal, by: User, note: str) -> FtpProposal:
    return decide(FTP_FLOW, proposal, by=by, approve=False, note=note)


def ftp_withdraw(*, proposal: FtpProposal, by: User) -> FtpProposal:
    return withdraw(FTP_FLOW, proposal, by=by)

"""One maker-checker service for every flow that needs a second person (tier
parameters, customer transfers, campaigns, the contact-frequency policy, product
changes, user accounts).

A flow (`ApprovalFlow`) names its model (an `core.approvals.ApprovalRecord`), the
permission a decider needs, the audit action, and what approval does (its effect).
`decide()` is the only place that refuses a decision: it locks the row, refuses a
user without the permission, an item that is not pending and the proposer's own
item, wants a reason to reject, records who decided when and why, moves the
status, runs the flow's effect and writes one audit event, all in one
transaction: a refused effect (the parameters changed meanwhile, the customer has
another manager now) leaves nothing decided. `withdraw()` is the proposer's way
out of a pending proposal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from core.approvals import ApprovalRecord, ApprovalStatus

from .audit import audit

R = TypeVar("R", bound=ApprovalRecord)

# A rejection says why, in at least this many characters.
REASON_MIN_LENGTH = 4

_FLOWS: dict[str, ApprovalFlow] = {}


@dataclass(frozen=True, eq=False)
class ApprovalFlow(Generic[R]):
    """What is particular to one maker-checker flow; `decide()` does the rest.

    `on_approve(item, by)` is the effect of an approval (apply the parameters, move
    the customer...); it runs after the status moved and before the row is saved,
    may refuse with ValidationError (nothing is then decided), may change the
    row's `row_fields`, and returns what the audit event should add. `on_reject`
    is what a rejection does besides being recorded (tell the requester).
    `check(item, by)` refuses more, after the row is locked (the data scope)."""

    model: type[R]
    # what is decided, as a sentence names it: "campaign", "transfer request"
    item: str | Promise
    permission: str
    # the audit action, or one per decision (ApprovalStatus value)
    action: str | Mapping[str, str]
    on_approve: Callable[[R, Any], dict[str, Any] | None] | None = None
    on_reject: Callable[[R, Any], None] | None = None
    check: Callable[[R, Any], None] | None = None
    # what the audit event says about the item, whatever the decision
    details: Callable[[R, str], dict[str, Any]] | None = None
    # the audit event's target when it is not the item (a transfer: the customer)
    audit_target: Callable[[R], models.Model] | None = None
    # relations read with the locked row, and fields of the row the hooks change
    related: tuple[str, ...] = ()
    row_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _FLOWS[self.model._meta.label_lower] = self

    def action_for(self, decision: str) -> str:
        return str(self.action if isinstance(self.action, str) else self.action[decision])


def flows() -> dict[str, ApprovalFlow]:
    """Every flow defined so far, by the label of its model."""
    return dict(_FLOWS)


def _lock(flow: ApprovalFlow[R], item: R) -> R:
    query = flow.model._default_manager.select_for_update(of=("self",))
    if flow.related:
        query = query.select_related(*flow.related)
    return query.get(pk=item.pk)


def _refuse_unless_pending(flow: ApprovalFlow[R], row: R, decision: str) -> None:
    if row.is_pending:
        return
    raise ValidationError(
        _("This %(item)s can be %(decision)s only when it is %(pending)s; it is %(status)s now.")
        % {
            "item": flow.item,
            "decision": _DECISION_VERBS[decision](),
            "pending": row.status_label(row.status_for(ApprovalStatus.PENDING)),
            "status": row.status_label(),
        },
        code="not_pending",
    )


# The past participle of each decision, as the refusals say it.
_DECISION_VERBS: dict[str, Callable[[], str]] = {
    ApprovalStatus.APPROVED: lambda: _("approved"),
    ApprovalStatus.REJECTED: lambda: _("rejected"),
    ApprovalStatus.WITHDRAWN: lambda: _("withdrawn"),
}


def _record(flow: ApprovalFlow[R], row: R, *, by: Any, decision: str, note: str) -> None:
    row.decided_by = by
    row.decided_at = timezone.now()
    row.decision_note = note[: cast(models.Field, row._meta.get_field("decision_note")).max_length]
    setattr(row, row.APPROVAL_STATUS_FIELD, row.status_for(decision))


def _audit(flow: ApprovalFlow[R], row: R, *, by: Any, decision: str, extra: dict[str, Any] | None) -> None:
    details = {"decision": decision, "note": row.decision_note}
    if flow.details is not None:
        details.update(flow.details(row, decision))
    details.update(extra or {})
    target = flow.audit_target(row) if flow.audit_target is not None else row
    audit(flow.action_for(decision), actor=by, target=target, details=details)


@transaction.atomic
def decide(flow: ApprovalFlow[R], item: R, *, by: Any, approve: bool, note: str = "") -> R:
    """Approve or reject a pending item as `by`, who holds the flow's permission
    and is not its proposer. A rejection needs a reason (`note`). Returns the item
    as decided."""
    decision = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if not (by.is_active and by.has_perm(flow.permission)):
        raise PermissionDenied(_("You may not approve or reject this %(item)s.") % {"item": flow.item})
    row = _lock(flow, item)
    if flow.check is not None:
        flow.check(row, by)
    _refuse_unless_pending(flow, row, decision)
    if row.is_proposed_by(by):
        raise PermissionDenied(
            _("You cannot decide on your own %(item)s: another user must decide on it.") % {"item": flow.item}
        )
    note = (note or "").strip()
    if not approve and len(note) < REASON_MIN_LENGTH:
        raise ValidationError(_("Give a reason (at least 4 characters)."), code="reason_required")
    _record(flow, row, by=by, decision=decision, note=note)
    extra = None
    if approve and flow.on_approve is not None:
        extra = flow.on_approve(row, by)
    elif not approve and flow.on_reject is not None:
        flow.on_reject(row, by)
    row.save(
        update_fields=[
            row.APPROVAL_STATUS_FIELD,
            "decided_by",
            "decided_at",
            "decision_note",
            *flow.row_fields,
        ]
    )
    _audit(flow, row, by=by, decision=decision, extra=extra)
    return row


@transaction.atomic
def withdraw(flow: ApprovalFlow[R], item: R, *, by: Any, note: str = "") -> R:
    """The proposer takes a pending item back; nobody else may."""
    if item.status_for(ApprovalStatus.WITHDRAWN) is None:
        raise ValueError(f"{flow.model._meta.label} cannot be withdrawn")
    row = _lock(flow, item)
    if row.proposed_by_id is None or row.proposed_by_id != by.pk:
        raise PermissionDenied(_("Only its proposer can withdraw this %(item)s.") % {"item": flow.item})
    _refuse_unless_pending(flow, row, ApprovalStatus.WITHDRAWN)
    _record(flow, row, by=by, decision=ApprovalStatus.WITHDRAWN, note=(note or "").strip())
    row.save(update_fields=[row.APPROVAL_STATUS_FIELD, "decided_by", "decided_at", "decision_note"])
    _audit(flow, row, by=by, decision=ApprovalStatus.WITHDRAWN, extra=None)
    return row

"""Transfers: a customer who has a manager of record moves to another only when a
branch head or business manager other than the requester approves the request
(the maker-checker flow of `accounts.approvals`); the new manager becomes the
manager of record on the day of the approval (a running split of the credit ends
the day before: `split_credit.splits_end_with_primary`)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide, withdraw
from accounts.audit import Action, audit
from accounts.models import User
from customers.models import Customer
from customers.permissions import require_in_scope
from customers.services import assignment_set_primary, ensure_not_merged

from .. import events
from ..choices import TransferStatus
from ..models import AssignmentBatch, TransferRequest
from ._common import check_manager, lock_customer, open_primary, require_permission, require_reason
from .figures import figures_follow
from .reminders import remind
from .split_credit import splits_end_with_primary


@transaction.atomic
def transfer_request(
    *, customer: Customer, to_manager: User, by: User, reason: str, batch: AssignmentBatch | None = None
) -> TransferRequest:
    """Ask for a customer to move to another manager; it takes effect when a branch
    head or business manager other than the requester approves."""
    require_permission(by, "vip.add_transferrequest")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    check_manager(to_manager)
    customer = lock_customer(customer)
    current = open_primary(customer)
    if current is None:
        raise ValidationError(_("This customer is in the branch pool: assign them directly."))
    if current.manager_id == to_manager.pk:
        raise ValidationError(
            _("%(name)s already looks after this customer.") % {"name": to_manager.get_full_name()}
        )
    if TransferRequest.objects.filter(customer=customer, status=TransferStatus.PENDING).exists():
        raise ValidationError(_("A transfer of this customer is already waiting for approval."))
    try:
        with transaction.atomic():
            transfer = TransferRequest.objects.create(
                customer=customer,
                from_manager=current.manager,
                to_manager=to_manager,
                reason=reason,
                proposed_by=by,
                batch=batch,
            )
    except IntegrityError:
        raise ValidationError(_("A transfer of this customer is already waiting for approval.")) from None
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=customer,
        details={
            "transfer": transfer.pk,
            "status": "requested",
            "from": current.manager.employee_no,
            "to": to_manager.employee_no,
            "reason": reason,
        },
    )
    return transfer


def _check_transfer_scope(transfer: TransferRequest, by: User) -> None:
    require_in_scope(by, transfer.customer)


def _move_customer(transfer: TransferRequest, by: User) -> None:
    """The effect of an approval: the new manager becomes the manager of record today."""
    customer = lock_customer(transfer.customer)
    if customer.primary_manager_id != transfer.from_manager_id:
        raise ValidationError(
            _("The customer's manager changed since the request: reject it and request again.")
        )
    check_manager(transfer.to_manager)
    # the new manager's first day is today: the split agreed with the old one ends yesterday
    splits_end_with_primary(
        customer_ids=[customer.pk],
        last_day=timezone.localdate() - datetime.timedelta(days=1),
        by=by,
        reason=f"transfer {transfer.pk}",
    )
    with figures_follow([customer.pk]):
        assignment_set_primary(
            customer=customer,
            manager=transfer.to_manager,
            by=by,
            reason=f"transfer {transfer.pk}: {transfer.reason}",
        )
    remind(
        user=transfer.to_manager,
        customer=customer,
        kind=events.CUSTOMER_ASSIGNED,
        figures={"by": by.employee_no},
    )
    if transfer.proposed_by_id not in (by.pk, transfer.to_manager_id):
        remind(
            user=transfer.proposed_by,
            customer=customer,
            kind=events.TRANSFER_DECIDED,
            figures={"decision": "approved"},
        )


def _tell_requester(transfer: TransferRequest, by: User) -> None:
    remind(
        user=transfer.proposed_by,
        customer=transfer.customer,
        kind=events.TRANSFER_DECIDED,
        figures={"decision": "rejected"},
    )


def _transfer_details(transfer: TransferRequest, decision: str) -> dict[str, Any]:
    # "status" is the key of the request's other events (requested) in the trail.
    return {"transfer": transfer.pk, "status": str(transfer.status)}


TRANSFER_FLOW: ApprovalFlow[TransferRequest] = ApprovalFlow(
    model=TransferRequest,
    item=gettext_lazy("transfer request"),
    permission="vip.approve_transferrequest",
    action=Action.ASSIGNMENT_CHANGED,
    on_approve=_move_customer,
    on_reject=_tell_requester,
    check=_check_transfer_scope,
    details=_transfer_details,
    audit_target=lambda transfer: transfer.customer,
    related=("customer",),
)


def transfer_approve(*, transfer: TransferRequest, by: User, note: str = "") -> TransferRequest:
    """Approve a transfer: the new manager becomes the manager of record today."""
    return decide(TRANSFER_FLOW, transfer, by=by, approve=True, note=note)


def transfer_reject(*, transfer: TransferRequest, by: User, note: str) -> TransferRequest:
    return decide(TRANSFER_FLOW, transfer, by=by, approve=False, note=note)


def transfer_cancel(*, transfer: TransferRequest, by: User, note: str = "") -> TransferRequest:
    """The requester takes the request back."""
    return withdraw(TRANSFER_FLOW, transfer, by=by, note=note)

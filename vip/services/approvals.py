"""Several requests decided at once: the transfers and tier parameter proposals an
approver ticked on the approvals page, approved (or rejected) with one note.

Each item goes through its own flow's single decision (`transfer_approve`,
`parameter_reject`...: `accounts.approvals.decide`), with the same checks (the
permission, the data scope, the item still waiting, not the approver's own
request, a reason to reject) and its own audit event, in a transaction of its
own. The decisions are independent, so the batch is not all-or-nothing: an item
refused (the approver's own request, a customer outside their scope, a transfer
decided meanwhile) is reported with the reason and the others are still decided.
An approver who ticked twenty transfers should not find nineteen undone because
the customer of one moved meanwhile; each refusal is said by name, and the
refused item stays waiting for a decision.

What is checked before any item is decided, refusing the whole request: something
ticked, at most `MAX_BULK_ITEMS`, and a reason to reject."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.approvals import REASON_MIN_LENGTH
from accounts.models import User

from ..models import ParameterProposal, TransferRequest
from .parameters import parameter_approve, parameter_reject
from .transfers import transfer_approve, transfer_reject

MAX_BULK_ITEMS = 200

TRANSFER = "transfer"
PROPOSAL = "proposal"


@dataclass(frozen=True)
class Refusal:
    kind: str  # TRANSFER or PROPOSAL
    pk: int
    item: str  # the item as a sentence names it ("the transfer of 钱七 to 王五")
    reasons: tuple[str, ...]


@dataclass
class BulkDecision:
    """What a bulk decision did: the items decided, by kind (each named), and the
    items refused with the reasons."""

    approve: bool
    decided: dict[str, list[str]] = field(default_factory=lambda: {TRANSFER: [], PROPOSAL: []})
    refused: list[Refusal] = field(default_factory=list)

    @property
    def decided_count(self) -> int:
        return sum(len(names) for names in self.decided.values())


def _transfer_name(transfer: TransferRequest) -> str:
    return _("the transfer of %(name)s to %(manager)s") % {
        "name": transfer.customer.name,
        "manager": transfer.to_manager.get_full_name(),
    }


def _proposal_name(proposal: ParameterProposal) -> str:
    return _("tier parameter proposal #%(no)s") % {"no": proposal.pk}


def _reasons(exc: Exception) -> tuple[str, ...]:
    return tuple(getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")])


def approvals_decide(
    *,
    by: User,
    transfer_ids: Sequence[int] = (),
    proposal_ids: Sequence[int] = (),
    approve: bool,
    note: str = "",
) -> BulkDecision:
    """Approve (or reject, `approve=False`, with `note` as the reason) each ticked
    transfer and tier parameter proposal, each through its own flow's decision and
    in its own transaction; an item refused is reported and the others decided.

    A transfer is looked for in the approver's scope
    (`TransferRequest.objects.visible_to`): one outside it is refused as not found,
    without saying whose it is."""
    transfer_ids = sorted(set(transfer_ids))
    proposal_ids = sorted(set(proposal_ids))
    if not transfer_ids and not proposal_ids:
        raise ValidationError(_("Tick at least one request to approve or reject."), code="nothing_ticked")
    if len(transfer_ids) + len(proposal_ids) > MAX_BULK_ITEMS:
        raise ValidationError(
            _("Decide on at most %(n)s requests at once.") % {"n": MAX_BULK_ITEMS}, code="too_many"
        )
    note = (note or "").strip()
    if not approve and len(note) < REASON_MIN_LENGTH:
        raise ValidationError(_("Give a reason (at least 4 characters)."), code="reason_required")
    result = BulkDecision(approve=approve)
    transfers = {
        t.pk: t
        for t in TransferRequest.objects.visible_to(by)
        .select_related("customer", "to_manager")
        .filter(pk__in=transfer_ids)
    }
    for pk in transfer_ids:
        transfer = transfers.get(pk)
        if transfer is None:
            result.refused.append(
                Refusal(
                    TRANSFER,
                    pk,
                    _("transfer request #%(no)s") % {"no": pk},
                    (_("It is not a transfer request of your customers."),),
                )
            )
            continue
        decide = transfer_approve if approve else transfer_reject
        _decide_one(
            result,
            TRANSFER,
            pk,
            _transfer_name(transfer),
            partial(decide, transfer=transfer, by=by, note=note),
        )
    proposals = {p.pk: p for p in ParameterProposal.objects.filter(pk__in=proposal_ids)}
    for pk in proposal_ids:
        proposal = proposals.get(pk)
        if proposal is None:
            result.refused.append(
                Refusal(
                    PROPOSAL,
                    pk,
                    _("tier parameter proposal #%(no)s") % {"no": pk},
                    (_("There is no such proposal."),),
                )
            )
            continue
        call = (
            partial(parameter_approve, proposal=proposal, approved_by=by, note=note)
            if approve
            else partial(parameter_reject, proposal=proposal, rejected_by=by, note=note)
        )
        _decide_one(result, PROPOSAL, pk, _proposal_name(proposal), call)
    return result


def _decide_one(result: BulkDecision, kind: str, pk: int, name: str, call: Callable[[], object]) -> None:
    """One item's decision in a transaction of its own: a refusal undoes only it."""
    try:
        with transaction.atomic():
            call()
    except (ValidationError, PermissionDenied) as exc:
        result.refused.append(Refusal(kind, pk, name, _reasons(exc)))
    else:
        result.decided[kind].append(name)

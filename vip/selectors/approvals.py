"""What waits for a user's decision (transfers in their scope, parameter proposals)
and what they asked for themselves. Nobody decides their own request."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from ..choices import ProposalStatus, TransferStatus
from ..models import ParameterProposal, TransferRequest


def pending_transfers(user: User) -> QuerySet[TransferRequest]:
    """The transfers of the user's scope waiting for their decision (none for a user
    who may not approve transfers), oldest first, with what their rows show; a
    page may order them otherwise (`core.listing.Sorting`)."""
    if not user.has_perm("vip.approve_transferrequest"):
        return TransferRequest.objects.none()
    return (
        TransferRequest.objects.visible_to(user)
        .filter(status=TransferStatus.PENDING)
        .exclude(proposed_by=user)
        .select_related("customer", "customer__home_branch", "from_manager", "to_manager", "proposed_by")
        .order_by("proposed_at", "id")
    )


def transfers_to_approve(user: User, limit: int = 200) -> list[TransferRequest]:
    return list(pending_transfers(user)[:limit])


def my_transfer_requests(user: User, limit: int = 100) -> list[TransferRequest]:
    return list(
        TransferRequest.objects.filter(proposed_by=user)
        .select_related("customer", "from_manager", "to_manager", "decided_by")
        .order_by("-proposed_at", "-id")[:limit]
    )


def pending_proposals(user: User) -> QuerySet[ParameterProposal]:
    """The tier parameter proposals waiting for the user's decision, oldest first."""
    if not user.has_perm("vip.approve_parameterproposal"):
        return ParameterProposal.objects.none()
    return (
        ParameterProposal.objects.filter(status=ProposalStatus.PENDING)
        .exclude(proposed_by=user)
        .select_related("proposed_by")
        .order_by("proposed_at", "id")
    )


def proposals_to_approve(user: User) -> list[ParameterProposal]:
    return list(pending_proposals(user))


def my_proposals(user: User, limit: int = 50) -> list[ParameterProposal]:
    if not user.has_perm("vip.add_parameterproposal"):
        return []
    return list(
        ParameterProposal.objects.filter(proposed_by=user)
        .select_related("decided_by")
        .order_by("-proposed_at")[:limit]
    )

"""What of the VIP area waits for a decision, counted on the home page (core.widgets):
customer transfers for the branch head and head office, tier-parameter proposals
for the parameter managers. Never the user's own request or proposal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import widgets
from core.widgets import DECISION, PARAMETER, PendingSource


def _transfers(user) -> int:
    from .choices import TransferStatus
    from .models import TransferRequest

    return (
        TransferRequest.objects.visible_to(user)
        .filter(status=TransferStatus.PENDING)
        .exclude(proposed_by=user)
        .count()
    )


def _parameter_proposals(user) -> int:
    from .choices import ProposalStatus
    from .models import ParameterProposal

    return ParameterProposal.objects.filter(status=ProposalStatus.PENDING).exclude(proposed_by=user).count()


widgets.register_pending(
    PendingSource(
        key="vip.transfers",
        label=_("Customer transfers"),
        kind=DECISION,
        url_name="vip:approvals",
        count=_transfers,
        permission="vip.approve_transferrequest",
    )
)
widgets.register_pending(
    PendingSource(
        key="vip.parameters",
        label=_("Tier parameters"),
        kind=PARAMETER,
        url_name="vip:approvals",
        count=_parameter_proposals,
        permission="vip.approve_parameterproposal",
    )
)

"""What waits for the user's decision (transfers, tier parameter proposals) and
what they asked for; the decisions themselves."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from core.views import ScopedView

from .. import selectors, services
from ..forms import NoteForm
from ..models import ParameterProposal
from ..permissions import access_transfer
from ._common import next_or, show_errors


class ApprovalsView(View):
    """What waits for the user's decision (transfers, parameter proposals) and what
    the user asked for."""

    def get(self, request):
        user = request.user
        if not (
            user.has_perm("vip.approve_transferrequest")
            or user.has_perm("vip.add_transferrequest")
            or user.has_perm("vip.approve_parameterproposal")
            or user.has_perm("vip.add_parameterproposal")
        ):
            raise PermissionDenied
        return render(
            request,
            "vip/approvals.html",
            {
                "transfers": selectors.transfers_to_approve(user),
                "my_transfers": selectors.my_transfer_requests(user),
                "proposals": selectors.proposals_to_approve(user),
                "my_proposals": selectors.my_proposals(user),
                "names": selectors.tier_names(),
                "note_form": NoteForm(),
            },
        )


class TransferDecisionView(ScopedView):
    access = access_transfer
    action = "approve"

    def post(self, request, pk: int):
        if self.action != "cancel" and not request.user.has_perm("vip.approve_transferrequest"):
            raise PermissionDenied
        transfer = self.get_object(pk, for_change=True)
        form = NoteForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            names = {"name": transfer.customer.name, "manager": transfer.to_manager.get_full_name()}
            if self.action == "approve":
                services.transfer_approve(transfer=transfer, by=request.user, note=note)
                messages.success(
                    request,
                    _("Transfer approved: %(manager)s looks after %(name)s from today.") % names,
                )
            elif self.action == "reject":
                services.transfer_reject(transfer=transfer, by=request.user, note=note)
                messages.success(
                    request, _("Transfer of %(name)s to %(manager)s rejected; nothing changes.") % names
                )
            else:
                services.transfer_cancel(transfer=transfer, by=request.user, note=note)
                messages.success(request, _("Request to transfer %(name)s to %(manager)s cancelled.") % names)
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        return redirect("vip:approvals")


class ProposalDecisionView(View):
    action = "approve"

    def post(self, request, pk: int):
        needed = "vip.add_parameterproposal" if self.action == "withdraw" else "vip.approve_parameterproposal"
        if not request.user.has_perm(needed):
            raise PermissionDenied
        proposal = get_object_or_404(ParameterProposal, pk=pk)
        form = NoteForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            names = {"no": proposal.pk}
            if self.action == "approve":
                services.parameter_approve(proposal=proposal, approved_by=request.user, note=note)
                messages.success(
                    request,
                    _(
                        "Parameter proposal #%(no)s approved: the new parameters apply from the next "
                        "evaluation."
                    )
                    % names,
                )
            elif self.action == "reject":
                services.parameter_reject(proposal=proposal, rejected_by=request.user, note=note)
                messages.success(
                    request,
                    _("Parameter proposal #%(no)s rejected: the parameters stay as they are.") % names,
                )
            else:
                services.parameter_withdraw(proposal=proposal, by=request.user)
                messages.success(request, _("Parameter proposal #%(no)s withdrawn.") % names)
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        return redirect(next_or(request, reverse("vip:approvals")))

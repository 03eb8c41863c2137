"""What waits for the user's decision (transfers, tier parameter proposals) and
what they asked for; the decisions themselves, one at a time or several ticked
rows at once (`BulkDecisionView`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views import View

from core.listing import Sorting, paginate
from core.views import ScopedView

from .. import selectors, services
from ..forms import BulkDecisionForm, NoteForm
from ..models import ParameterProposal
from ..permissions import access_transfer
from ..services.approvals import PROPOSAL, TRANSFER
from ._common import form_errors, next_or, show_errors

TRANSFER_SORTING = Sorting(
    {
        "requested": ("proposed_at",),
        "customer": ("customer__name",),
        "to": ("to_manager__display_name",),
    },
    default="requested",
)


def _may_see_approvals(user) -> bool:
    return (
        user.has_perm("vip.approve_transferrequest")
        or user.has_perm("vip.add_transferrequest")
        or user.has_perm("vip.approve_parameterproposal")
        or user.has_perm("vip.add_parameterproposal")
    )


def _may_decide(user) -> bool:
    return user.has_perm("vip.approve_transferrequest") or user.has_perm("vip.approve_parameterproposal")


def _approvals_page(request, *, bulk_form: BulkDecisionForm | None = None, status: int = 200):
    user = request.user
    transfers = paginate(request, TRANSFER_SORTING.apply(request, selectors.pending_transfers(user)))
    return render(
        request,
        "vip/approvals.html",
        {
            "transfers": transfers.object_list,
            "page_obj": transfers,
            "sort": TRANSFER_SORTING.key(request),
            "my_transfers": selectors.my_transfer_requests(user),
            "proposals": selectors.proposals_to_approve(user),
            "my_proposals": selectors.my_proposals(user),
            "names": selectors.tier_names(),
            "note_form": NoteForm(),
            "bulk_form": bulk_form or BulkDecisionForm(),
        },
        status=status,
    )


class ApprovalsView(View):
    """What waits for the user's decision (transfers, parameter proposals) and what
    the user asked for."""

    def get(self, request):
        if not _may_see_approvals(request.user):
            raise PermissionDenied
        return _approvals_page(request)


def _names(names: list[str]) -> str:
    return pgettext("list separator", ", ").join(names)


def _bulk_messages(request, result: services.BulkDecision) -> None:
    """What a bulk decision did: the items decided, by kind and by name, then each
    item refused with the reason."""
    transfers, proposals = result.decided[TRANSFER], result.decided[PROPOSAL]
    if transfers:
        template = (
            ngettext(
                "%(n)s transfer approved: %(names)s.", "%(n)s transfers approved: %(names)s.", len(transfers)
            )
            if result.approve
            else ngettext(
                "%(n)s transfer rejected: %(names)s.", "%(n)s transfers rejected: %(names)s.", len(transfers)
            )
        )
        messages.success(request, template % {"n": len(transfers), "names": _names(transfers)})
    if proposals:
        template = (
            ngettext(
                "%(n)s tier parameter proposal approved: %(names)s. The new parameters apply from the next "
                "evaluation.",
                "%(n)s tier parameter proposals approved: %(names)s. The new parameters apply from the next "
                "evaluation.",
                len(proposals),
            )
            if result.approve
            else ngettext(
                "%(n)s tier parameter proposal rejected: %(names)s.",
                "%(n)s tier parameter proposals rejected: %(names)s.",
                len(proposals),
            )
        )
        messages.success(request, template % {"n": len(proposals), "names": _names(proposals)})
    if result.refused:
        messages.error(
            request,
            ngettext(
                "%(n)s request not decided: it still waits for a decision.",
                "%(n)s requests not decided: they still wait for a decision.",
                len(result.refused),
            )
            % {"n": len(result.refused)},
        )
    for refusal in result.refused:
        for reason in refusal.reasons:
            messages.error(
                request,
                _("%(item)s was not decided: %(reason)s")
                % {"item": capfirst(refusal.item), "reason": reason},
            )


class BulkDecisionView(View):
    """Approve or reject the ticked transfers and parameter proposals with one note.
    Each goes through its own decision, with its checks and its audit event; one
    refused does not hold back the others (`vip.services.approvals`). Nothing
    ticked, a row that is no id, or a rejection without a reason: 400, back on the
    page with the reason, nothing decided."""

    def get(self, request):
        """The page's own links (sorting, pages) followed from the page shown after a
        refused decision, which is rendered at this address: to the approvals page."""
        query = request.GET.urlencode()
        return redirect(reverse("vip:approvals") + (f"?{query}" if query else ""))

    def post(self, request):
        if not _may_decide(request.user):
            raise PermissionDenied
        form = BulkDecisionForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            return _approvals_page(request, bulk_form=form, status=400)
        data = form.cleaned_data
        try:
            result = services.approvals_decide(
                by=request.user,
                transfer_ids=data["transfer"],
                proposal_ids=data["proposal"],
                approve=data["decision"] == "approve",
                note=data["note"],
            )
        except ValidationError as exc:
            show_errors(request, exc)
            return _approvals_page(request, bulk_form=form, status=400)
        _bulk_messages(request, result)
        return redirect(next_or(request, reverse("vip:approvals")))


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

"""The FTP spreads page: the spreads in force, the proposals waiting for a decision
and their history, the form to propose new spreads, and the decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from . import parameters
from .forms import FtpProposalForm, NoteForm
from .models import FtpProposal


def _show_errors(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")]:
        messages.error(request, message)


class FtpView(PermissionRequiredMixin, View):
    permission_required = "performance.view_ftpspreads"

    def _render(self, request, form: FtpProposalForm, status: int = 200):
        user = request.user
        return render(
            request,
            "performance/ftp.html",
            {
                "table": parameters.spread_table(),
                "pending": parameters.proposal_rows(user=user, pending=True),
                "history": parameters.proposal_rows(user=user, pending=False),
                "form": form if user.has_perm(parameters.PROPOSE) else None,
                "note_form": NoteForm(),
            },
            status=status,
        )

    def get(self, request):
        return self._render(request, FtpProposalForm())

    def post(self, request):
        if not request.user.has_perm(parameters.PROPOSE):
            raise PermissionDenied
        form = FtpProposalForm(request.POST)
        if form.is_valid():
            try:
                proposal = parameters.ftp_propose(
                    by=request.user,
                    period=form.cleaned_data["period"],
                    spreads=form.spreads(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Proposal #%(id)s made: the spreads change when someone else approves it.")
                    % {"id": proposal.pk},
                )
                return redirect("performance:ftp")
        return self._render(request, form, status=400)


class FtpDecisionView(View):
    action = "approve"

    def post(self, request, pk: int):
        needed = parameters.PROPOSE if self.action == "withdraw" else parameters.APPROVE
        if not request.user.has_perm(needed):
            raise PermissionDenied
        proposal = get_object_or_404(FtpProposal, pk=pk)
        form = NoteForm(request.POST)
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            if self.action == "approve":
                parameters.ftp_approve(proposal=proposal, by=request.user, note=note)
                messages.success(
                    request, _("Proposal approved: the next computation of a period uses the new spreads.")
                )
            elif self.action == "reject":
                parameters.ftp_reject(proposal=proposal, by=request.user, note=note)
                messages.success(request, _("Proposal rejected."))
            else:
                parameters.ftp_withdraw(proposal=proposal, by=request.user)
                messages.success(request, _("Proposal withdrawn."))
        except (ValidationError, PermissionDenied) as exc:
            _show_errors(request, exc)
        return redirect("performance:ftp")

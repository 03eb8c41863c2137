"""The account-opening funnel (page and Excel export, from the same filters) and the
match of a request to an account by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts.audit import Action, audit, client_ip
from core.forms import BootstrapFormMixin
from core.replica import replica_reads
from core.views import ScopedView
from customers.masking import mask_account_no, mask_name
from customers.models import Account

from .. import opening_funnel, opening_matches
from ..exports import XLSX
from ._common import show_errors


class FunnelFilterForm(BootstrapFormMixin, forms.Form):
    """The funnel's period: requests recorded from `start` to `end` (this month by
    default)."""

    start = forms.DateField(
        label=gettext_lazy("Recorded from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        data["start"] = data.get("start") or today.replace(day=1)
        data["end"] = data.get("end") or today
        if data["end"] < data["start"]:
            self.add_error("end", _("The end must not be before the start."))
        return data


def _funnel(request) -> tuple[FunnelFilterForm, opening_funnel.Funnel | None]:
    form = FunnelFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, opening_funnel.opening_funnel(request.user, start=data["start"], end=data["end"])


@replica_reads
class OpeningFunnelView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_openingrequest"

    def get(self, request):
        form, funnel = _funnel(request)
        context: dict[str, Any] = {"form": form, "funnel": funnel}
        if funnel is not None:
            context["chart"] = opening_funnel.funnel_chart(funnel)
            context["query"] = f"start={funnel.start.isoformat()}&end={funnel.end.isoformat()}"
            context["can_export"] = request.user.has_perm("marketing.export_marketing")
        return render(request, "marketing/openings/funnel.html", context, status=200 if funnel else 400)


@replica_reads
class OpeningFunnelExportView(PermissionRequiredMixin, View):
    """The same funnel as an Excel workbook, an audited export."""

    permission_required = ("marketing.view_openingrequest", "marketing.export_marketing")

    def get(self, request):
        _form, funnel = _funnel(request)
        if funnel is None:
            return HttpResponse(_("Invalid report filters."), status=400)
        data = opening_funnel.funnel_workbook(funnel)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target_type="marketing.openingrequest",
            details={
                "export": "opening_funnel",
                "start": funnel.start.isoformat(),
                "end": funnel.end.isoformat(),
                "rows": len(funnel.by_branch) + len(funnel.by_manager),
            },
        )
        response = HttpResponse(data, content_type=XLSX)
        filename = f"opening-funnel-{funnel.start:%Y%m%d}-{funnel.end:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class MatchForm(forms.Form):
    account = forms.IntegerField(
        error_messages={
            "required": gettext_lazy("Choose an account."),
            "invalid": gettext_lazy("Choose an account."),
        }
    )


def _access_opening(user, pk: int, *, for_change: bool = True):
    return opening_matches.opening_for_match(user, pk)


class OpeningMatchView(PermissionRequiredMixin, ScopedView):
    """A request's candidate accounts (GET) and its match to one of them (POST):
    branch heads of the request's branch and business managers."""

    permission_required = "marketing.match_openingrequest"
    access = _access_opening

    def _page(self, request, opening, *, status: int = 200):
        candidates = opening_matches.match_candidates(opening) if opening.is_open else []
        context = {
            "o": opening,
            "candidates": candidates,
            "account_no": mask_account_no(opening.account.account_no) if opening.account_id else "",
        }
        return render(request, "marketing/openings/match.html", context, status=status)

    def get(self, request, pk: int):
        return self._page(request, self.get_object(pk, for_change=False))

    def post(self, request, pk: int):
        opening = self.get_object(pk, for_change=True)
        form = MatchForm(request.POST)
        account = None
        if form.is_valid():
            account = Account.objects.filter(pk=form.cleaned_data["account"]).first()
        if account is None:
            messages.error(request, _("Choose an account."))
            return self._page(request, opening, status=400)
        try:
            opening = opening_matches.opening_match(opening=opening, account=account, user=request.user)
        except ValidationError as exc:
            show_errors(request, exc)
            return self._page(request, opening, status=400)
        messages.success(
            request,
            _("%(product)s for %(name)s matched to account %(no)s: the sale is %(manager)s's.")
            % {
                "product": opening.product.name,
                "name": mask_name(opening.customer.name),
                "no": mask_account_no(account.account_no),
                "manager": opening.manager.display_name or opening.manager.username,
            },
        )
        return redirect("marketing:opening_detail", pk=opening.pk)

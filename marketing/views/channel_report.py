"""The channel results page and its Excel copy, both from the same filters
(`marketing.channel_report.ChannelReportForm`): the export is what the page shows.
Who may see which figures is the module docstring of marketing.channel_report."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit
from core.replica import replica_reads
from vip.evaluation import current_business_date

from .. import channel_report as report
from .exports import _xlsx


def _read(request) -> tuple[report.ChannelReportForm, dict[str, Any] | None]:
    """The filters from the query string and, when they are valid, the report's two
    tables: one reading for the page and for its export."""
    form = report.ChannelReportForm(request.GET, user=request.user, today=current_business_date())
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    scope = {
        "user": request.user,
        "start": data["date_from"],
        "end": data["date_to"],
        "branch": data["branch"],
    }
    results = report.channel_results(channels=form.channels, **scope)
    channel = data["channel"]
    adoption = report.channel_adoption(channel=channel, **scope) if channel is not None else None
    return form, {"results": results, "adoption": adoption}


@replica_reads
class ChannelReportView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_channel"

    def get(self, request):
        form, data = _read(request)
        context: dict[str, Any] = {
            "form": form,
            "can_export": request.user.has_perm("marketing.export_marketing"),
        }
        if data is not None:
            context.update(data)
            context["chart"] = report.report_chart(data["results"], data["adoption"])
            context["query"] = request.GET.urlencode()
        return render(
            request, "marketing/channels/report.html", context, status=200 if data is not None else 400
        )


@replica_reads
class ChannelReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (aggregates only; audited)."""

    permission_required = ("marketing.view_channel", "marketing.export_marketing")

    def get(self, request):
        form, data = _read(request)
        if data is None:
            errors = [str(e) for errors in form.errors.values() for e in errors]
            return HttpResponse(
                " ".join([_("Invalid report filters."), *errors]), status=400, content_type="text/plain"
            )
        content, rows = report.channel_report_workbook(data["results"], data["adoption"])
        audit(
            Action.EXPORT,
            request=request,
            target_type="marketing.channel_report",
            details={"export": "channel_report", "filters": form.params, "rows": rows},
        )
        results = data["results"]
        return _xlsx(content, f"channel-results-{results.date_from:%Y%m%d}-{results.date_to:%Y%m%d}.xlsx")

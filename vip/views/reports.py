"""The VIP report and its Excel export, both from the same filters
(`vip.filters.ReportFilterSet`): the export is what the page shows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit
from core.replica import replica_reads

from .. import selectors
from ..filters import ReportFilterSet
from ..reports import build_report_workbook


def _report(request) -> tuple[ReportFilterSet, dict[str, Any] | None]:
    """The report's filters read from the query string and, when they are valid,
    the report's three parts: one reading for the page and for its export."""
    filters = ReportFilterSet(request.GET)
    if not filters.is_valid():
        return filters, None
    params = filters.params
    user = request.user
    by_branch = selectors.vip_by_branch(user, params["level"])
    matrix = selectors.migration_matrix(user, params["month_from"], params["month_to"])
    won_lost = selectors.won_and_lost(user, params["start"], params["end"], in_period=filters.filter_queryset)
    return filters, {"by_branch": by_branch, "matrix": matrix, "won_lost": won_lost, "filters": params}


def _chart(report: selectors.BranchReport) -> dict[str, Any]:
    """The chart's data: VIPs per tier and AUM, per branch."""
    return {
        "labels": [row["branch"].name for row in report.rows],
        "series": [
            {"label": level["name"], "data": [row["cells"][i]["n"] for row in report.rows]}
            for i, level in enumerate(report.levels)
        ],
        "aum": [float(row["aum"]) for row in report.rows],
    }


@replica_reads
class ReportView(PermissionRequiredMixin, View):
    permission_required = "vip.view_vip_report"

    def get(self, request):
        filters, data = _report(request)
        context: dict[str, Any] = {
            "form": filters.form,
            "can_export": request.user.has_perm("vip.export_vip_report"),
        }
        if data is not None:
            context.update(data)
            context["chart"] = _chart(data["by_branch"])
            context["query"] = request.GET.urlencode()
            matrix = data["matrix"]
            context["matrix_rows"] = list(zip(matrix.labels, matrix.cells, matrix.row_totals, strict=True))
        return render(request, "vip/reports.html", context, status=200 if data is not None else 400)


@replica_reads
class ReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (audited, formulas neutralised)."""

    permission_required = ("vip.view_vip_report", "vip.export_vip_report")

    def get(self, request):
        _filters, data = _report(request)
        if data is None:
            return HttpResponse(_("Invalid report filters."), status=400)
        content, rows = build_report_workbook(data)
        filters = {k: str(v) for k, v in data["filters"].items()}
        audit(
            Action.EXPORT,
            request=request,
            target_type="vip.report",
            details={"report": "vip", "filters": filters, "rows": rows},
        )
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="vip-report-{timezone.localdate():%Y%m%d}.xlsx"'
        )
        return response

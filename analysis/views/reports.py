"""The customer analysis report page and its Excel copy, both from the same filter
(`analysis.reports.AnalysisReportForm`): the export is what the page shows. Who may
see which figures is the module docstring of analysis.reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit
from core.replica import replica_reads
from customers.exports import XLSX_CONTENT_TYPE

from .. import reports
from ..report_exports import analysis_report_workbook


def _read(request) -> tuple[reports.AnalysisReportForm, reports.AnalysisReport | None]:
    """The filter from the query string and, when it is valid, the report: one
    reading for the page and for its export."""
    form = reports.AnalysisReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    return form, reports.analysis_report(user=request.user, branch=form.cleaned_data["branch"])


@replica_reads
class AnalysisReportView(PermissionRequiredMixin, View):
    permission_required = "analysis.view_analysis_report"

    def get(self, request):
        form, report = _read(request)
        context: dict[str, Any] = {
            "form": form,
            "report": report,
            "can_export": request.user.has_perm("analysis.export_analysis_report"),
            "bands": reports.band_labels(),
        }
        if report is not None:
            context["chart"] = reports.report_chart(report)
            context["query"] = request.GET.urlencode()
        return render(request, "analysis/reports.html", context, status=200 if report is not None else 400)


def workbook_download(
    request, form, report, workbook: Callable[[Any], tuple[bytes, int]], *, export: str, filename: str
) -> HttpResponse:
    """A report's Excel copy (aggregates only) as a download, audited as an export of
    `export` with its filters and rows; 400 with the filters' errors when the form
    was invalid (`report` None). The credit-risk reports' export answers with it too."""
    if report is None:
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return HttpResponse(
            " ".join([_("Invalid report filters."), *errors]), status=400, content_type="text/plain"
        )
    content, rows = workbook(report)
    audit(
        Action.EXPORT,
        request=request,
        target_type=export.replace("_", ".", 1),
        details={
            "export": export,
            "filters": form.params,
            "as_of": report.as_of.isoformat() if report.as_of else "",
            "rows": rows,
        },
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    stamp = f"{report.as_of:%Y%m%d}" if report.as_of else "none"
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


@replica_reads
class AnalysisReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (aggregates only; audited)."""

    permission_required = ("analysis.view_analysis_report", "analysis.export_analysis_report")

    def get(self, request):
        form, report = _read(request)
        return workbook_download(
            request,
            form,
            report,
            analysis_report_workbook,
            export="analysis_report",
            filename="customer-analysis",
        )

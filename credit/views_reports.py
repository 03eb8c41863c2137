"""The credit-risk report page and its Excel copy, both from the same filter
(`credit.reports.CreditReportForm`): the export is what the page shows. Who may see
which figures is the module docstring of credit.reports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.views import View

from analysis.views.reports import workbook_download
from core.replica import replica_reads

from . import reports
from .report_exports import credit_report_workbook


def _read(request) -> tuple[reports.CreditReportForm, reports.CreditReport | None]:
    """The filter from the query string and, when it is valid, the report: one
    reading for the page and for its export."""
    months = reports.figure_months()
    form = reports.CreditReportForm(request.GET, user=request.user, months=months)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, reports.credit_report(
        user=request.user,
        months=months,
        branch=data["branch"],
        category=data["category"] or "",
        month=data["month"],
    )


@replica_reads
class CreditReportView(PermissionRequiredMixin, View):
    permission_required = "credit.view_credit_report"

    def get(self, request):
        form, report = _read(request)
        context: dict[str, Any] = {
            "form": form,
            "report": report,
            "can_export": request.user.has_perm("credit.export_credit_report"),
            "buckets": reports.BUCKETS,
            "classes": reports.CLASSES,
            "vintage_columns": reports.VINTAGE_COLUMNS,
        }
        if report is not None:
            context["chart"] = reports.report_chart(report)
            context["query"] = request.GET.urlencode()
        return render(request, "credit/reports.html", context, status=200 if report is not None else 400)


@replica_reads
class CreditReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (aggregates only; audited)."""

    permission_required = ("credit.view_credit_report", "credit.export_credit_report")

    def get(self, request):
        form, report = _read(request)
        return workbook_download(
            request, form, report, credit_report_workbook, export="credit_report", filename="credit-risk"
        )

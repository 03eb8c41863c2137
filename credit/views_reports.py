"""The credit-risk report page and its Excel copy, both from the same filter
(`credit.reports.CreditReportForm`): the export is what the page shows. Who may see
which figures is the module docstring of credit.reports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit
from customers.exports import XLSX_CONTENT_TYPE

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


class CreditReportExportView(PermissionRequiredMixin, View):
    """The same report as an Excel workbook (aggregates only; audited)."""

    permission_required = ("credit.view_credit_report", "credit.export_credit_report")

    def get(self, request):
        form, report = _read(request)
        if report is None:
            errors = [str(e) for errors in form.errors.values() for e in errors]
            return HttpResponse(
                " ".join([_("Invalid report filters."), *errors]), status=400, content_type="text/plain"
            )
        content, rows = credit_report_workbook(report)
        audit(
            Action.EXPORT,
            request=request,
            target_type="credit.report",
            details={
                "export": "credit_report",
                "filters": form.params,
                "as_of": report.as_of.isoformat() if report.as_of else "",
                "rows": rows,
            },
        )
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        stamp = f"{report.as_of:%Y%m%d}" if report.as_of else "none"
        response["Content-Disposition"] = f'attachment; filename="credit-risk-{stamp}.xlsx"'
        return response

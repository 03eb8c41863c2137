"""Excel downloads of the dashboards (aggregates only), each an audited export."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect

from accounts.audit import Action, audit, client_ip
from core.views import ScopedView

from .. import exports, selectors
from ..permissions import access_campaign, access_task
from ..progress import task_progress
from ._common import show_errors


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CampaignExportView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.export_marketing"
    access = access_campaign

    def get(self, request, pk):
        campaign = self.get_object(pk, for_change=False)
        data = exports.campaign_workbook(campaign, user=request.user)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=campaign,
            details={"export": "campaign_dashboard", "campaign": campaign.pk},
        )
        return _xlsx(data, f"campaign-{campaign.pk}.xlsx")


class TaskExportView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.export_marketing"
    access = access_task

    def get(self, request, pk):
        task = self.get_object(pk, for_change=False)
        try:
            progress = task_progress(task, allocations=selectors.task_allocations(task, user=request.user))
        except ValidationError as exc:
            # its indicator cannot be computed for the period: nothing to export
            show_errors(request, exc)
            return redirect("marketing:task_detail", pk=task.pk)
        data = exports.task_workbook(task, progress)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=task,
            details={"export": "task_progress"},
        )
        return _xlsx(data, f"task-{task.pk}.xlsx")

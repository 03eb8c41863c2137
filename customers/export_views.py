"""Pages of the customer export: start (POST from the customer list), the job page
with its progress (polled by htmx), the download and the user's own exports.

A job exists only for the user who started it (anyone else gets 404), and every page
needs the export permission: a user who loses it loses their files too."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from accounts.audit import client_ip

from . import exports
from .choices import ExportStatus
from .forms import CustomerSearchForm
from .models import ExportJob
from .search_keys import SearchKeys

RECENT_EXPORTS = 50


def _go(request, url: str) -> HttpResponse:
    # The button posts with htmx: the browser itself has to move to the next page.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _own_jobs(request):
    return ExportJob.objects.filter(user=request.user).defer("content")


def link_state(job: ExportJob) -> str:
    """waiting, ready, expired or failed, as the pages show it (a link is dead from
    its expiry time, before the sweeper has cleared the file)."""
    if job.status in exports.ACTIVE:
        return "waiting"
    if job.status == ExportStatus.DONE:
        return "ready" if job.expires_at and job.expires_at > timezone.now() else "expired"
    return str(job.status)


def _choice_labels(field: forms.Field) -> dict[Any, Any]:
    """A form field's choices as value -> label (none for a field without choices)."""
    return dict(getattr(field, "choices", []) or [])


def filter_summary(query: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of the search an export was made from, with the search form's
    labels; the text is the masked form kept for display."""
    fields = CustomerSearchForm.base_fields
    rows: list[tuple[str, str]] = []
    if query.get("q"):
        rows.append((str(fields["q"].label), query["q"]))
    for name, value in (query.get("filters") or {}).items():
        field = fields.get(name)
        if field is None:
            continue
        rows.append((str(field.label), str(_choice_labels(field).get(value, value))))
    sort = query.get("sort")
    if sort:
        rows.append((str(fields["sort"].label), str(_choice_labels(fields["sort"]).get(sort, sort))))
    return rows


class ExportStartView(PermissionRequiredMixin, View):
    """Export the search posted from the customer list (the fields of its search form:
    a full identifier the box shows masked comes as its session key). Refusals go
    back to the list, with the search kept (an identifier as its key), as a message."""

    permission_required = "customers.export_customer"

    def post(self, request):
        form = CustomerSearchForm(request.POST, keys=SearchKeys(request.session, request.user))
        back = self._list_url(form)
        if not form.is_valid():
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                for error in errors:
                    messages.error(request, f"{label}: {error}" if label else error)
            return _go(request, back)
        try:
            job = exports.export_start(
                user=request.user,
                q=form.cleaned_data["q"],
                filters=form.filters(),
                sort=form.cleaned_data["sort"] or "aum",
                ip=client_ip(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return _go(request, back)
        if job.status == ExportStatus.DONE:
            messages.success(request, _("Your export is ready."))
        return _go(request, reverse("customers:export_detail", args=[job.pk]))

    @staticmethod
    def _list_url(form: CustomerSearchForm) -> str:
        query = form.query_string()
        url = reverse("customers:list")
        return f"{url}?{query}" if query else url


class ExportDetailView(PermissionRequiredMixin, View):
    """One export: its search, then a progress bar that htmx polls every 2 s until
    the file is ready, then the download link."""

    permission_required = "customers.export_customer"

    def get(self, request, pk: int):
        job = get_object_or_404(_own_jobs(request), pk=pk)
        context = {
            "job": job,
            "state": link_state(job),
            "summary": filter_summary(job.query or {}),
            "link_hours": settings.EXPORT_LINK_HOURS,
        }
        if request.htmx:
            return render(request, "customers/exports/_progress.html", context)
        return render(request, "customers/exports/export_detail.html", context)


class ExportDownloadView(PermissionRequiredMixin, View):
    """The file, as an attachment, to the user who made it while its link lives;
    410 Gone afterwards."""

    permission_required = "customers.export_customer"

    def get(self, request, pk: int):
        job = get_object_or_404(_own_jobs(request), pk=pk)
        state = link_state(job)
        if state == "waiting" or state == ExportStatus.FAILED:
            return redirect("customers:export_detail", pk=job.pk)
        # The file is read only once the link is known to be alive.
        content = ExportJob.objects.filter(pk=job.pk).values_list("content", flat=True).first()
        if state != "ready" or content is None:
            return render(
                request,
                "customers/exports/gone.html",
                {"job": job, "link_hours": settings.EXPORT_LINK_HOURS},
                status=410,
            )
        return FileResponse(
            io.BytesIO(bytes(content)),
            as_attachment=True,
            filename=job.filename,
            content_type=exports.XLSX_CONTENT_TYPE,
        )


class ExportListView(PermissionRequiredMixin, View):
    """The user's own recent exports."""

    permission_required = "customers.export_customer"

    def get(self, request):
        jobs = list(_own_jobs(request).order_by("-created_at", "-pk")[:RECENT_EXPORTS])
        rows = [
            {"job": job, "state": link_state(job), "summary": filter_summary(job.query or {})} for job in jobs
        ]
        return render(request, "customers/exports/export_list.html", {"rows": rows})

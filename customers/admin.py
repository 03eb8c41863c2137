"""Administration of the nightly core-banking load: the history of loads (who or
what started each, when, how long, rows loaded and rejected per file, status), a
load's page with a live progress bar per file (htmx polling, no inline script) and
its error report, and the upload of a batch. System administrators only
(customers.view_batchload / customers.add_batchload, granted in customers/roles.py).

Products and tier levels, the other reference tables administrators keep in
spreadsheets, belong to the marketing and VIP apps: their admins add
django-import-export the way accounts/admin.py does for branches and users."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.audit import Action, audit

from .choices import BatchStatus
from .ingest.runner import after_load_again, batch_load_create
from .ingest.spec import FILES
from .ingest.upload import UploadRefused, check_size, unpack_upload
from .models import BatchLoad, LoadError
from .tasks import ingest_load_task

VIEW = "customers.view_batchload"
START = "customers.add_batchload"
ERRORS_SHOWN = 200
ACTIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING)
RESTARTABLE = (BatchStatus.FAILED, BatchStatus.REFUSED)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class BatchUploadForm(forms.Form):
    archive = forms.FileField(
        label=_("Batch (zip)"),
        help_text=_("A zip of the batch folder YYYYMMDD/ (BATCH.ctl, BATCH.ok and the .dat files)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    force = forms.BooleanField(
        label=_("Load even if older than the last loaded business date"), required=False
    )


class LoadAgainForm(forms.Form):
    force = forms.BooleanField(required=False)


def _start(request, *, source, force: bool) -> BatchLoad:
    """Record a load started by this user and queue it once the record is committed."""
    with transaction.atomic():
        load = batch_load_create(source=source, started_via="upload", started_by=request.user, forced=force)
        audit(
            Action.BATCH_LOADED,
            request=request,
            target=load,
            details={"requested": str(source).rsplit("/", 1)[-1], "forced": force},
        )
        transaction.on_commit(lambda: ingest_load_task.delay(load.pk))
    return load


def error_report(load: BatchLoad) -> QuerySet[LoadError]:
    """The load's errors in interface file order, then line."""
    order = Case(
        *(When(file=spec.name, then=Value(i)) for i, spec in enumerate(FILES)),
        default=Value(len(FILES)),
        output_field=IntegerField(),
    )
    return load.errors.annotate(file_order=order).order_by("file_order", "line", "pk")


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin.register(BatchLoad)
class BatchLoadAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "business_date",
        "status_label",
        "started_by_label",
        "started_at",
        "duration",
        "rows_loaded",
        "rows_rejected",
        "attempts",
    )
    list_display_links = ("id", "business_date")
    list_filter = ("status", "started_via")
    list_select_related = ("started_by",)
    ordering = ("-pk",)
    show_full_result_count = False
    change_list_template = "admin/customers/batchload/change_list.html"

    # A load is a record, not something to edit: it is started by an upload, the
    # command or the nightly job, and kept.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: BatchLoad) -> str:
        label = obj.get_status_display()
        return format_html('<span class="load-status load-{}">{}</span>', obj.status, label)

    @admin.display(description=_("started by"))
    def started_by_label(self, obj: BatchLoad) -> str:
        return obj.started_by_label

    @admin.display(description=_("duration"))
    def duration(self, obj: BatchLoad) -> str:
        seconds = obj.duration_seconds
        return "—" if seconds is None else f"{seconds:,.1f} s"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="customers_batchload_upload"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="customers_batchload_progress"),
            path("<int:pk>/errors.csv", wrap(self.errors_view), name="customers_batchload_errors"),
            path("<int:pk>/again/", wrap(self.again_view), name="customers_batchload_again"),
            path("<int:pk>/after-load/", wrap(self.after_load_view), name="customers_batchload_after_load"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload": request.user.has_perm(START)}
        return super().changelist_view(request, extra_context)

    # ------------------------------------------------------------------ one load

    def _load(self, request, pk: int) -> BatchLoad:
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        return get_object_or_404(BatchLoad.objects.select_related("started_by"), pk=pk)

    def _context(self, request, load: BatchLoad) -> dict:
        files = []
        for f in load.files.order_by("pk"):
            rate = f.loaded / f.seconds if f.seconds else None
            files.append({"file": f, "rate": rate})
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "load": load,
            "files": files,
            "active": load.status in ACTIVE,
            "title": _("Batch load %(pk)s") % {"pk": load.pk},
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        load = self._load(request, int(object_id))
        context = self._context(request, load)
        errors = list(error_report(load)[:ERRORS_SHOWN])
        context.update(
            {
                "errors": errors,
                "error_count": load.errors.count(),
                "errors_shown": ERRORS_SHOWN,
                "can_start": request.user.has_perm(START) and load.status in RESTARTABLE,
                "can_after_load": request.user.has_perm(START) and load.status == BatchStatus.LOADED,
            }
        )
        return render(request, "admin/customers/batchload/detail.html", context)

    def progress_view(self, request, pk: int):
        load = self._load(request, pk)
        if not request.htmx:
            return HttpResponseRedirect(reverse("admin:customers_batchload_change", args=[pk]))
        return render(request, "admin/customers/batchload/_progress.html", self._context(request, load))

    def errors_view(self, request, pk: int):
        load = self._load(request, pk)
        rows = error_report(load).values_list("file", "line", "column", "value", "reason")

        def lines() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield "\ufeff" + writer.writerow(["file", "line", "column", "value", "reason"])
            for row in rows.iterator(chunk_size=2000):
                yield writer.writerow([_cell(v) for v in row])

        audit(
            Action.EXPORT,
            request=request,
            target=load,
            details={"what": "batch load error report", "rows": load.errors.count()},
        )
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        date = load.business_date.strftime("%Y%m%d") if load.business_date else "batch"
        response["Content-Disposition"] = f'attachment; filename="load-{load.pk}-{date}-errors.csv"'
        return response

    def again_view(self, request, pk: int):
        load = self._load(request, pk)
        if request.method != "POST" or not request.user.has_perm(START):
            raise PermissionDenied
        form = LoadAgainForm(request.POST)
        force = form.is_valid() and form.cleaned_data["force"]
        new = _start(request, source=load.source, force=force)
        messages.success(request, _("Load %(pk)s started.") % {"pk": new.pk})
        return HttpResponseRedirect(reverse("admin:customers_batchload_change", args=[new.pk]))

    def after_load_view(self, request, pk: int):
        """Run the jobs that follow a load again for this loaded batch's date."""
        load = self._load(request, pk)
        if request.method != "POST" or not request.user.has_perm(START):
            raise PermissionDenied
        if load.status != BatchStatus.LOADED:
            messages.error(request, _("Only a loaded batch has jobs to run after it."))
            return HttpResponseRedirect(reverse("admin:customers_batchload_change", args=[pk]))
        assert load.business_date is not None  # a loaded batch has its business date
        if after_load_again(load.business_date, request=request):
            messages.success(request, _("The jobs after the load of %(date)s were started.") % {
                "date": load.business_date.isoformat()})  # fmt: skip
        else:
            messages.error(request, _("The jobs after the load could not be started; see the log."))
        return HttpResponseRedirect(reverse("admin:customers_batchload_change", args=[pk]))

    # -------------------------------------------------------------------- upload

    def upload_view(self, request):
        if not request.user.has_perm(START):
            raise PermissionDenied
        form = BatchUploadForm()
        if request.method == "POST":
            # refuse an oversized upload before reading it
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            try:
                check_size(max(length - 64 * 1024, 0))
            except UploadRefused as refused:
                messages.error(request, str(refused))
                return HttpResponseRedirect(reverse("admin:customers_batchload_upload"))
            form = BatchUploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    batch = unpack_upload(form.cleaned_data["archive"])
                except UploadRefused as refused:
                    form.add_error("archive", str(refused))
                else:
                    load = _start(request, source=batch, force=form.cleaned_data["force"])
                    messages.success(request, _("Batch %(date)s received; load %(pk)s started.") % {
                        "date": batch.name, "pk": load.pk})  # fmt: skip
                    return HttpResponseRedirect(reverse("admin:customers_batchload_change", args=[load.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("Upload a core-banking batch"),
            "max_mb": settings.INGEST_UPLOAD_MAX_BYTES // (1024 * 1024),
            "max_expanded_mb": settings.INGEST_UPLOAD_MAX_EXPANDED // (1024 * 1024),
        }
        return render(request, "admin/customers/batchload/upload.html", context)

"""Batch assignment: a list from a file or a customer search, its preview, running
it, and the rows that failed as a CSV to correct."""

from __future__ import annotations

import csv
from collections import Counter

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.views import ScopedView
from customers.exports import neutralise
from customers.search import customer_search

from .. import services
from ..choices import BatchRowOutcome, BatchSource, BatchStatus
from ..forms import BatchSearchForm, BatchUploadForm
from ..models import AssignmentBatch
from ..permissions import access_batch
from ._common import show_errors


class BatchStartView(PermissionRequiredMixin, View):
    permission_required = "vip.assign_customer"

    def get(self, request):
        return render(
            request,
            "vip/batch_start.html",
            {"upload_form": BatchUploadForm(), "search_form": BatchSearchForm(user=request.user)},
        )

    def post(self, request):
        upload_form = BatchUploadForm()
        search_form = BatchSearchForm(user=request.user)
        try:
            if request.POST.get("source") == BatchSource.UPLOAD:
                upload_form = BatchUploadForm(request.POST, request.FILES)
                batch = _prepare_from_upload(request, upload_form)
            else:
                search_form = BatchSearchForm(request.POST, user=request.user)
                batch = _prepare_from_search(request, search_form)
            if batch is not None:
                return redirect("vip:batch", pk=batch.pk)
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        return render(
            request,
            "vip/batch_start.html",
            {"upload_form": upload_form, "search_form": search_form},
            status=400,
        )


def _prepare_from_upload(request, form: BatchUploadForm) -> AssignmentBatch | None:
    """The batch of an uploaded list (None: the form says what is wrong)."""
    if not form.is_valid():
        return None
    upload = form.cleaned_data["file"]
    rows = services.parse_assignment_file(upload)
    return services.batch_prepare(
        by=request.user,
        rows=rows,
        source=BatchSource.UPLOAD,
        reason=form.cleaned_data["reason"],
        filename=upload.name,
    )


def _prepare_from_search(request, form: BatchSearchForm) -> AssignmentBatch | None:
    """The batch of a customer search's results, all to one manager (None: the
    form says what is wrong)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    customers = customer_search(user=request.user, q=data["q"], filters=form.filters())
    rows = services.batch_rows_from_search(
        by=request.user, customers=customers, manager_no=data["to_manager"].employee_no
    )
    return services.batch_prepare(
        by=request.user, rows=rows, source=BatchSource.SEARCH, reason=data["reason"]
    )


class BatchView(PermissionRequiredMixin, ScopedView):
    """The preview of a batch (and its confirmation), or what it did."""

    permission_required = "vip.assign_customer"
    access = access_batch

    def get(self, request, pk: int):
        batch = self.get_object(pk, for_change=False)
        counts: dict[str, int] = {}
        for row in batch.rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        labels = dict(BatchRowOutcome.choices)
        return render(
            request,
            "vip/batch_detail.html",
            {
                "batch": batch,
                "rows": batch.rows,
                "counts": [(labels.get(k, k), v, k) for k, v in sorted(counts.items())],
                "labels": labels,
                "draft": batch.status == BatchStatus.DRAFT,
                "errors": counts.get(BatchRowOutcome.ERROR, 0),
            },
        )

    def post(self, request, pk: int):
        batch = self.get_object(pk, for_change=True)
        try:
            if request.POST.get("cancel"):
                services.batch_cancel(batch=batch, by=request.user)
                messages.info(
                    request, _("Batch assignment %(no)s cancelled: nothing was changed.") % {"no": batch.pk}
                )
            else:
                batch = services.batch_execute(batch=batch, by=request.user)
                messages.success(request, _batch_done(batch))
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
        return redirect("vip:batch", pk=batch.pk)


def _batch_done(batch: AssignmentBatch) -> str:
    """What a batch did, in figures: customers assigned, transfers requested (they
    wait for approval), rows left unchanged or in error."""
    counts = Counter(row["outcome"] for row in batch.rows)
    return _(
        "Batch assignment %(no)s done: %(assigned)s assigned, %(requested)s transfers requested (waiting "
        "for approval), %(unchanged)s already with their manager, %(errors)s with errors."
    ) % {
        "no": batch.pk,
        "assigned": counts.get(BatchRowOutcome.ASSIGNED, 0),
        "requested": counts.get(BatchRowOutcome.REQUESTED, 0),
        "unchanged": counts.get(BatchRowOutcome.UNCHANGED, 0),
        "errors": counts.get(BatchRowOutcome.ERROR, 0),
    }


class BatchErrorsView(PermissionRequiredMixin, ScopedView):
    """The rows of a batch that failed, as a CSV to correct and upload again."""

    permission_required = "vip.assign_customer"
    access = access_batch

    def get(self, request, pk: int):
        batch = self.get_object(pk, for_change=False)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-errors.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with a byte-order mark
        writer = csv.writer(response)
        writer.writerow(["line", "customer_no", "manager", "reason", "error"])
        for row in batch.rows:
            if row["outcome"] == BatchRowOutcome.ERROR:
                writer.writerow(
                    [
                        neutralise(str(v))
                        for v in (
                            row["line"],
                            row["customer_no"],
                            row["manager"],
                            row.get("reason", ""),
                            row["message"],
                        )
                    ]
                )
        return response

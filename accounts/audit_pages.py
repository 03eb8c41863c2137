"""The audit pages of the auditor (and the system administrator, who may read the
trail too): the trail with its filters and its export, the suspicious-operation
report with its review queue, and the usage of the portal per branch.

Reading needs `accounts.view_auditevent`; reviewing a finding
`accounts.add_findingreview` (the auditor's)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from core.listing import PAGE_SIZES, page_size

from . import audit_selectors as selectors
from .audit import Action, audit
from .audit_display import detail_text
from .audit_forms import AuditLogFilterForm, FindingFilterForm, FindingReviewForm, MonthForm
from .audit_report import suspicious_findings
from .audit_services import REVIEW_PERMISSION, finding_review
from .models import ReviewOutcome

READ_PERMISSION = "accounts.view_auditevent"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text or default), 1)
    except ValueError:
        return default


def _log_filters(form: AuditLogFilterForm) -> dict[str, Any]:
    return {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}


class AuditLogView(PermissionRequiredMixin, View):
    """The trail, newest first, a page at a time by key; the filters travel in the
    links of the pages and of the export."""

    permission_required = READ_PERMISSION

    def get(self, request):
        form = AuditLogFilterForm(request.GET or None, user=request.user)
        context: dict[str, Any] = {"filter_form": form, "events": [], "rows": [], "page": None}
        if form.is_bound and not form.is_valid():
            return render(request, "accounts/audit/log.html", context, status=400)
        events = selectors.audit_log(**(_log_filters(form) if form.is_bound else {}))
        start = _int(request.GET.get("start"), 1)
        # paged by key, newest first, and not counted: the trail is the largest table
        # and only grows; the size of a page is the user's
        size = page_size(request, default=selectors.PAGE_SIZE)
        page = selectors.log_page(
            events,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            start=start,
            size=size,
        )
        context.update(
            page=page,
            events=page.events,
            rows=selectors.log_rows(page.events),
            size=size,
            sizes=[
                {
                    "size": n,
                    "current": n == size,
                    "query": _with(request.GET, size=n, start=1, after=None, before=None),
                }
                for n in PAGE_SIZES
            ],
            older_start=page.end + 1,
            newer_start=max(page.start - size, 1),
            export_query=_without(request.GET, "after", "before", "start"),
            page_query=_without(request.GET, "after", "before", "start"),
        )
        return render(request, "accounts/audit/log.html", context)


def _with(query, **changes) -> str:
    copy = query.copy()
    for key, value in changes.items():
        if value is None:
            copy.pop(key, None)
        else:
            copy[key] = value
    return copy.urlencode()


def _without(query, *keys: str) -> str:
    copy = query.copy()
    for key in keys:
        copy.pop(key, None)
    return copy.urlencode()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class AuditExportView(PermissionRequiredMixin, View):
    """The filtered trail as a CSV file (UTF-8 with BOM, which Excel opens), streamed
    row by row from one query; the export itself is an audit event."""

    permission_required = READ_PERMISSION

    def get(self, request):
        form = AuditLogFilterForm(request.GET or None, user=request.user)
        if form.is_bound and not form.is_valid():
            return render(
                request,
                "accounts/audit/log.html",
                {"filter_form": form, "events": [], "rows": []},
                status=400,
            )
        filters = _log_filters(form) if form.is_bound else {}
        events = selectors.audit_log(**filters)
        cap = settings.EXPORT_ROW_CAP
        rows = events[:cap].count()
        audit(
            Action.EXPORT,
            request=request,
            details={
                "export": "audit_trail",
                "filters": {key: str(getattr(value, "code", value)) for key, value in filters.items()},
                "rows": rows,
            },
        )
        response = StreamingHttpResponse(self._lines(events, cap), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
        return response

    @staticmethod
    def _lines(events, cap: int) -> Iterator[str]:
        writer = csv.writer(_Echo())
        header = [
            _("Time"),
            _("Username"),
            _("Name"),
            _("Employee number"),
            _("Branch"),
            _("Action"),
            _("Target type"),
            _("Target"),
            _("IP address"),
            _("Details"),
        ]
        yield "\ufeff" + writer.writerow(header)
        for row in selectors.export_rows(events, cap=cap):
            event = row.event
            yield writer.writerow(
                [
                    _cell(value)
                    for value in (
                        timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                        event.actor_username,
                        row.actor_name,
                        row.employee_no,
                        row.branch_name,
                        row.action_label,
                        row.target_type,
                        row.target_name,
                        event.ip or "",
                        detail_text(event.action, event.details),
                    )
                ]
            )


class FindingReportView(PermissionRequiredMixin, View):
    """The suspicious-operation report: findings of a range of days, unreviewed
    ones unless asked, each with a review form for who may review."""

    permission_required = READ_PERMISSION

    def get(self, request):
        form = FindingFilterForm(request.GET or {})
        context: dict[str, Any] = {"filter_form": form, "findings": []}
        if not form.is_valid():
            return render(request, "accounts/audit/report.html", context, status=400)
        data = form.cleaned_data
        context.update(
            findings=suspicious_findings(
                date_from=data["date_from"],
                date_to=data["date_to"],
                rule=data["rule"],
                username=data["user"],
                show_reviewed=data["show_reviewed"],
            ),
            date_from=data["date_from"],
            date_to=data["date_to"],
            can_review=request.user.has_perm(REVIEW_PERMISSION),
            outcomes=ReviewOutcome.choices,
        )
        return render(request, "accounts/audit/report.html", context)


class FindingReviewView(PermissionRequiredMixin, View):
    permission_required = (READ_PERMISSION, REVIEW_PERMISSION)

    def post(self, request):
        form = FindingReviewForm(request.POST)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        back = back or reverse("accounts:audit_report")
        if not form.is_valid():
            for field in form:
                for error in field.errors:
                    messages.error(request, f"{field.label}: {error}")
            return redirect(back)
        data = form.cleaned_data
        try:
            finding_review(
                rule=data["rule"],
                username=data["username"],
                day=data["day"],
                outcome=data["outcome"],
                note=data["note"],
                reviewed_by=request.user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The finding is marked as reviewed."))
        return redirect(back)


class UsageView(PermissionRequiredMixin, View):
    """Usage of the portal per branch and month, as the information centre asks for
    it: who used it, how often they logged in, which functions they used."""

    permission_required = READ_PERMISSION

    def get(self, request):
        form = MonthForm(request.GET or {}, user=request.user)
        context: dict[str, Any] = {"filter_form": form, "rows": []}
        if not form.is_valid():
            return render(request, "accounts/audit/usage.html", context, status=400)
        month = form.cleaned_data["month"]
        branch = form.cleaned_data["branch"]
        branches = form.fields["branch"].queryset
        if branch is not None:
            branches = branches.subtree(branch)
        rows = selectors.usage_by_branch(month=month, branches=branches)
        context.update(rows=rows, month=month, totals=selectors.usage_totals(rows))
        return render(request, "accounts/audit/usage.html", context)

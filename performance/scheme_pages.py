"""The assessment-scheme pages of a business manager: the schemes and a new one, a
scheme with what it lacks before approval and the forms that change it (indicator,
grade bands, targets workbook), its submission and decision, its copy, and the
what-if beside it. Every change goes through `performance.schemes`, which refuses
what it must (a changed approved scheme, one's own approval); a refusal shows its
message. Auditors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from . import schemes
from .forms import BandsForm, NoteForm, SchemeForm, SchemeIndicatorForm, TargetsImportForm, WhatIfForm
from .models import Scheme, SchemeIndicator
from .scheme_choices import SchemeStatus
from .scoring import scheme_spec
from .whatif import what_if

VIEW = "performance.view_scheme"
CHANGE = "performance.change_scheme"


def _refused(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")]:
        messages.error(request, message)


class SchemeListView(PermissionRequiredMixin, View):
    """/performance/schemes/: every scheme, newest period first; a new one."""

    permission_required = VIEW

    def _render(self, request, form: SchemeForm | None, status: int = 200):
        rows = Scheme.objects.select_related("period", "proposed_by", "decided_by", "copy_of").order_by(
            "-period__start", "role", "-pk"
        )
        may_add = request.user.has_perm("performance.add_scheme")
        return render(
            request,
            "performance/schemes.html",
            {"schemes": rows, "form": (form or SchemeForm()) if may_add else None},
            status=status,
        )

    def get(self, request):
        return self._render(request, None)

    def post(self, request):
        if not request.user.has_perm("performance.add_scheme"):
            raise PermissionDenied
        form = SchemeForm(request.POST)
        if form.is_valid():
            try:
                scheme = schemes.scheme_create(by=request.user, **form.cleaned_data)
            except ValidationError as exc:  # no scheme yet: the refusal shows on the form
                form.add_error(None, exc)
            else:
                return redirect("performance:scheme", pk=scheme.pk)
        return self._render(request, form, status=400)


def _keep_on_form(scheme: Scheme, form, exc: ValidationError) -> None:
    """A refusal shows on the form, unless the scheme cannot be changed at all (then
    there is no form to show it on: it goes back to the page as a message)."""
    if not scheme.editable:
        raise exc
    form.add_error(None, exc)


def _indicator_rows(scheme: Scheme) -> list[SchemeIndicator]:
    return list(
        scheme.indicators.select_related("indicator").prefetch_related("targets").order_by("position", "pk")
    )


class SchemeView(PermissionRequiredMixin, View):
    """/performance/schemes/<pk>/: the scheme and, for whom may, the forms that change,
    submit, decide or copy it. POST `action` names which."""

    permission_required = VIEW

    def context(self, request, scheme: Scheme, **forms: Any) -> dict[str, Any]:
        user = request.user
        editable = scheme.editable and user.has_perm(CHANGE)
        bands = list(scheme.bands.order_by("position", "pk"))
        band_text = "\n".join(
            f"{b.label} {b.share.normalize():f}%" if b.share is not None else f"{b.label} {b.min_score}"
            for b in bands
        )
        return {
            "scheme": scheme,
            "indicators": _indicator_rows(scheme),
            "bands": bands,
            "problems": schemes.scheme_problems(scheme) if scheme.editable else [],
            "editable": editable,
            "indicator_form": forms.get("indicator_form") or SchemeIndicatorForm(),
            "bands_form": forms.get("bands_form") or BandsForm(initial={"bands": band_text}),
            "targets_form": forms.get("targets_form") or TargetsImportForm(),
            "import_errors": forms.get("import_errors") or [],
            "note_form": NoteForm(),
            "may_decide": scheme.status == SchemeStatus.PENDING
            and user.has_perm("performance.approve_scheme")
            and not scheme.is_proposed_by(user),
            "may_copy": user.has_perm("performance.add_scheme"),
        }

    def get(self, request, pk: int):
        scheme = get_object_or_404(Scheme.objects.select_related("period", "copy_of"), pk=pk)
        return render(request, "performance/scheme.html", self.context(request, scheme))

    def post(self, request, pk: int):
        scheme = get_object_or_404(Scheme.objects.select_related("period"), pk=pk)
        action = request.POST.get("action", "")
        handler = getattr(self, f"_{action}", None) if action in ACTIONS else None
        if handler is None:
            messages.error(request, _("Unknown action."))
            return redirect("performance:scheme", pk=pk)
        if not request.user.has_perm(ACTIONS[action]):
            raise PermissionDenied
        try:
            return handler(request, scheme)
        except (ValidationError, PermissionDenied) as exc:
            _refused(request, exc)
            return redirect("performance:scheme", pk=pk)

    def _indicator(self, request, scheme: Scheme):
        form = SchemeIndicatorForm(request.POST)
        if form.is_valid():
            try:
                schemes.scheme_indicator_set(scheme=scheme, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _keep_on_form(scheme, form, exc)
            else:
                messages.success(request, _("Indicator saved."))
                return redirect("performance:scheme", pk=scheme.pk)
        return render(
            request, "performance/scheme.html", self.context(request, scheme, indicator_form=form), status=400
        )

    def _remove(self, request, scheme: Scheme):
        row = get_object_or_404(SchemeIndicator, scheme=scheme, pk=request.POST.get("indicator") or 0)
        schemes.scheme_indicator_remove(scheme_indicator=row, by=request.user)
        messages.success(request, _("Indicator removed."))
        return redirect("performance:scheme", pk=scheme.pk)

    def _bands(self, request, scheme: Scheme):
        form = BandsForm(request.POST)
        if form.is_valid():
            try:
                schemes.scheme_bands_set(scheme=scheme, by=request.user, bands=form.cleaned_data["bands"])
            except ValidationError as exc:
                _keep_on_form(scheme, form, exc)
            else:
                messages.success(request, _("Grade bands saved."))
                return redirect("performance:scheme", pk=scheme.pk)
        return render(
            request, "performance/scheme.html", self.context(request, scheme, bands_form=form), status=400
        )

    def _targets(self, request, scheme: Scheme):
        form = TargetsImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = schemes.scheme_targets_import(
                    scheme=scheme, by=request.user, workbook=form.cleaned_data["workbook"].read()
                )
            except ValidationError as exc:
                _keep_on_form(scheme, form, exc)
            else:
                if not report.errors:
                    messages.success(request, _("%(n)s targets imported.") % {"n": report.applied})
                    return redirect("performance:scheme", pk=scheme.pk)
                return render(
                    request,
                    "performance/scheme.html",
                    self.context(request, scheme, targets_form=form, import_errors=report.errors),
                    status=400,
                )
        return render(
            request, "performance/scheme.html", self.context(request, scheme, targets_form=form), status=400
        )

    def _submit(self, request, scheme: Scheme):
        schemes.scheme_submit(scheme=scheme, by=request.user)
        messages.success(
            request, _("Submitted: the scheme applies once another business manager approves it.")
        )
        return redirect("performance:scheme", pk=scheme.pk)

    def _approve(self, request, scheme: Scheme):
        schemes.scheme_decide(scheme=scheme, by=request.user, approve=True, note=request.POST.get("note", ""))
        messages.success(request, _("Approved: the scheme scores the period from now on."))
        return redirect("performance:scheme", pk=scheme.pk)

    def _reject(self, request, scheme: Scheme):
        schemes.scheme_decide(
            scheme=scheme, by=request.user, approve=False, note=request.POST.get("note", "")
        )
        messages.success(request, _("Rejected."))
        return redirect("performance:scheme", pk=scheme.pk)

    def _copy(self, request, scheme: Scheme):
        copy = schemes.scheme_copy(
            scheme=scheme, by=request.user, period=(request.POST.get("period") or "").strip() or None
        )
        messages.success(request, _("Copied: change the copy and submit it."))
        return redirect("performance:scheme", pk=copy.pk)


# Each action and the permission it needs (the service checks again).
ACTIONS = {
    **dict.fromkeys(("indicator", "remove", "bands", "targets", "submit"), CHANGE),
    "approve": "performance.approve_scheme",
    "reject": "performance.approve_scheme",
    "copy": "performance.add_scheme",
}


class WhatIfView(PermissionRequiredMixin, View):
    """/performance/schemes/<pk>/whatif/: the scheme's units scored as it is and with
    changed weights or targets, side by side; nothing is written."""

    permission_required = VIEW

    def get(self, request, pk: int):
        scheme = get_object_or_404(Scheme.objects.select_related("period"), pk=pk)
        spec = scheme_spec(scheme)
        form = WhatIfForm(request.GET or None, indicators=spec.indicators)
        context: dict[str, Any] = {"scheme": scheme, "form": form, "spec": spec}
        status = 200
        if form.is_bound:
            if form.is_valid():
                try:
                    changes = form.changes()
                    context["result"] = what_if(
                        scheme=scheme,
                        user=request.user,
                        weights=changes["weights"],
                        targets=changes["targets"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                    status = 400
            else:
                status = 400
        return render(request, "performance/whatif.html", context, status=status)

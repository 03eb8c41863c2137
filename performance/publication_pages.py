"""Closing periods and recalculating published ones, on the portal: the periods with
their versions, the proposal form, the version waiting for a decision with what it
changes per manager, and the decisions (maker-checker, `performance.publication`).
Head-office figures: the business managers who propose, whoever approves, and the
auditors read it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Branch, User
from core.approvals import ApprovalStatus
from core.listing import Sorting, paginate

from . import publication as publishing
from .choices import VersionStatus
from .exports import figure_labels
from .forms import NoteForm, PeriodListForm, PublicationForm
from .models import Period, Publication, ResultVersion
from .periods import parse_period
from .selectors import FIGURES, reads_publication
from .services import last_loaded_date
from .views import _show_errors

PAGE_SIZE = 25
CHANGES_PAGE_SIZE = 50
PERIOD_SORTING = Sorting(
    {"period": ("start", "-kind"), "kind": ("kind", "-start"), "status": ("status", "-start")},
    default="-period",
)
# What a proposed version changes, per manager or pool: as computed, or by the size
# of the change of the total contribution.
CHANGE_SORTS = ("change", "-change")


class PeriodsView(View):
    """The periods, newest first, each with the version it shows and the one waiting."""

    def get(self, request):
        if not reads_publication(request.user):
            raise PermissionDenied
        form = PeriodListForm(request.GET)
        return self._render(request, form, PublicationForm())

    def post(self, request):
        if not request.user.has_perm("performance.propose_publication"):
            raise PermissionDenied
        proposal = PublicationForm(request.POST)
        if proposal.is_valid():
            try:
                made = publishing.publication_propose(
                    code=proposal.cleaned_data["period"],
                    by=request.user,
                    reason=proposal.cleaned_data["reason"],
                )
            except ValidationError as exc:
                proposal.add_error(None, exc)
            else:
                version = made.version
                messages.success(
                    request,
                    _(
                        "Version %(n)s of %(period)s proposed: its figures are being computed; another "
                        "business manager or a system administrator approves it when they are ready."
                    )
                    % {"n": version.number, "period": version.period.code},
                )
                return redirect("performance:period", code=version.period.code)
        return self._render(request, PeriodListForm(request.GET), proposal, status=400)

    def _render(self, request, form: PeriodListForm, proposal: PublicationForm, status: int = 200):
        context: dict[str, Any] = {
            "form": form,
            "proposal": proposal if request.user.has_perm("performance.propose_publication") else None,
            "last_loaded": last_loaded_date(),
        }
        if not form.is_valid():
            return render(request, "performance/periods.html", context, status=400)
        periods = Period.objects.prefetch_related(
            Prefetch(
                "versions",
                queryset=ResultVersion.objects.select_related("publication", "publication__proposed_by"),
            )
        )
        if form.cleaned_data.get("kind"):
            periods = periods.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data.get("status"):
            periods = periods.filter(status=form.cleaned_data["status"])
        page = paginate(request, PERIOD_SORTING.apply(request, periods), default_size=PAGE_SIZE)
        context.update(
            page_obj=page, rows=[_period_row(period) for period in page], sort=PERIOD_SORTING.key(request)
        )
        return render(request, "performance/periods.html", context, status=status)


def _period_row(period: Period) -> dict[str, Any]:
    versions = sorted(period.versions.all(), key=lambda v: v.number)
    published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
    pending = next((v for v in versions if v.status == VersionStatus.PENDING), None)
    return {
        "period": period,
        "provisional": next((v for v in versions if v.number == 0), None),
        "published": published[-1] if published else None,
        "pending": pending,
        "versions": len(versions),
    }


class PeriodView(View):
    """One period: every version (each stays readable on the figures pages), the one
    waiting for a decision and what it changes per manager and pool."""

    def get(self, request, code: str):
        if not reads_publication(request.user):
            raise PermissionDenied
        try:
            code = parse_period(code).code
        except ValidationError as exc:
            raise Http404 from exc
        period = get_object_or_404(Period, code=code)
        versions = list(
            period.versions.select_related(
                "computed_by", "publication__proposed_by", "publication__decided_by"
            ).order_by("-number")
        )
        pending = next((v for v in versions if v.status == VersionStatus.PENDING), None)
        publication = getattr(pending, "publication", None) if pending is not None else None
        changes_page = None
        change_sort = request.GET.get("sort", "")
        change_sort = change_sort if change_sort in CHANGE_SORTS else ""
        if publication is not None and publication.changes:
            changes = _sorted_changes(publication.changes, change_sort)
            changes_page = paginate(request, changes, default_size=CHANGES_PAGE_SIZE)
        user = request.user
        return render(
            request,
            "performance/period.html",
            {
                "period": period,
                "versions": [(v, getattr(v, "publication", None)) for v in versions],
                "pending": pending,
                "publication": publication,
                "page_obj": changes_page,
                "changes": _change_rows(changes_page) if changes_page is not None else [],
                "may_decide": publication is not None
                and user.has_perm("performance.approve_publication")
                and publication.proposed_by_id != user.pk,
                "may_withdraw": publication is not None and publication.proposed_by_id == user.pk,
                "note_form": NoteForm(),
                "sort": change_sort,
            },
        )


def _total_change(row: dict[str, Any]) -> Decimal:
    name = FIGURES[-1]  # the total contribution, the last figure
    return abs(Decimal(row["after"].get(name, 0)) - Decimal(row["before"].get(name, 0)))


def _sorted_changes(changes: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """The changes in the order asked for (none: as stored); ties keep the stored order."""
    if not sort:
        return changes
    return sorted(changes, key=_total_change, reverse=sort.startswith("-"))


def _change_rows(page) -> list[dict[str, Any]]:
    """A page of changes with the managers' and branches' names (two queries)."""
    rows = list(page)
    labels = figure_labels()
    managers = User.objects.in_bulk({row["manager"] for row in rows if row["manager"] is not None})
    branches = Branch.objects.in_bulk({row["branch"] for row in rows})
    shown = []
    for row in rows:
        before = {name: Decimal(value) for name, value in row["before"].items()}
        after = {name: Decimal(value) for name, value in row["after"].items()}
        shown.append(
            {
                "manager": managers.get(row["manager"]) if row["manager"] is not None else None,
                "branch": branches.get(row["branch"]),
                "figures": [
                    (labels[name], before[name], after[name], after[name] - before[name]) for name in FIGURES
                ],
                "causes": [str(CAUSES.get(cause, cause)) for cause in row["causes"]],
            }
        )
    return shown


CAUSES = {
    "data": _("loaded data"),
    "rule": _("FTP spreads"),
    "ownership": _("customers credited"),
}


class PublicationDecisionView(View):
    action = "approve"

    def post(self, request, pk: int):
        needed = (
            "performance.propose_publication"
            if self.action == "withdraw"
            else "performance.approve_publication"
        )
        if not request.user.has_perm(needed):
            raise PermissionDenied
        publication = get_object_or_404(Publication.objects.select_related("version__period"), pk=pk)
        code = publication.version.period.code
        form = NoteForm(request.POST)
        if not form.is_valid():  # a note too long: said, nothing decided
            for error in form.errors.get("note", []):
                messages.error(request, str(error))
            return redirect("performance:period", code=code)
        note = form.cleaned_data["note"]
        try:
            if self.action == "withdraw":
                publishing.publication_withdraw(publication=publication, by=request.user, note=note)
                messages.success(request, _("The proposal of %(period)s was withdrawn.") % {"period": code})
            else:
                decided = publishing.publication_decide(
                    publication=publication, by=request.user, approve=self.action == "approve", note=note
                )
                if decided.status == ApprovalStatus.APPROVED:
                    messages.success(
                        request,
                        _("Version %(n)s of %(period)s is published: these are now its figures.")
                        % {"n": decided.version.number, "period": code},
                    )
                else:
                    messages.success(
                        request,
                        _("Version %(n)s of %(period)s was rejected; the figures in force stay.")
                        % {"n": decided.version.number, "period": code},
                    )
        except (ValidationError, PermissionDenied) as exc:
            _show_errors(request, exc)
        return redirect("performance:period", code=code)

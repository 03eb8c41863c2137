"""The figures pages: a client manager's own figures or the team board of a branch
head and head office, a manager's customers, the branch ranking, and the Excel
downloads of the board and of a manager's customers (audited).

Every row is read through `performance.selectors`, which start from the user's
scope (`ManagerResult.objects.visible_to`): a manager outside it answers 404. The
parameters (period, filters, order) are validated by `performance.forms`: a bad one
answers 400 with the page and its message. The scores come from the approved
assessment schemes (a client manager's scorecard, the board's score columns and
completion heat map); the scheme pages are performance/scheme_pages.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from accounts.audit import Action, audit, client_ip
from accounts.scope import ScopeKind, data_scope, visible_branches
from core.listing import paginate
from core.replica import replica_reads

from . import exports, selectors, tables
from .forms import BoardForm, FiguresForm, RankingForm
from .levels import level_of
from .models import ManagerResult, Period, ResultVersion
from .scheme_choices import ManagerLevelCode

PAGE_SIZE = 50
TOP = 10
# Who sees a board of other people's figures (and may download it): a branch head
# their subtree, head office the bank.
BOARD_SCOPES = (ScopeKind.SUBTREE, ScopeKind.ALL)


class _FiguresPage(View):
    """A page over one period's shown version, for users whose data scope is one of
    `scopes` (others: 403)."""

    scopes: tuple[ScopeKind, ...] = (ScopeKind.OWN, ScopeKind.SUBTREE, ScopeKind.ALL)
    template_name = ""

    def dispatch(self, request, *args, **kwargs):
        self.scope = data_scope(request.user)
        if self.scope.kind not in self.scopes:
            raise PermissionDenied
        self.periods = selectors.periods_with_figures()
        self.default = selectors.default_period(self.periods)
        return super().dispatch(request, *args, **kwargs)

    def shown(self, form: FiguresForm) -> tuple[Period | None, ResultVersion | None]:
        """The period the valid form asks for and the version it shows."""
        period = form.cleaned_data.get("period")
        if period is None:
            return None, None
        version = selectors.shown_version(period, form.cleaned_data.get("version"))
        if version is not None and not selectors.version_readable(self.request.user, version):
            version = None
        return period, version

    def invalid(self, form: FiguresForm, template_name: str = ""):
        """The page with the form's messages and no figures: 400."""
        context = self.base_context(form, None, None)
        return render(self.request, template_name or self.template_name, context, status=400)

    def base_context(self, form: FiguresForm, period: Period | None, version: ResultVersion | None) -> dict:
        return {
            "form": form,
            "period": period,
            "version": version,
            "computed": bool(self.periods),
            "labels": list(exports.figure_labels().values()),
            "board_scope": self.scope.kind in BOARD_SCOPES,
        }


@replica_reads
class FiguresView(_FiguresPage):
    """/performance/: a client manager's own figures and their trend; for a branch
    head and head office, the team board."""

    def get(self, request):
        if self.scope.kind is ScopeKind.OWN:
            return self._own(request)
        return self._board(request)

    def _own(self, request):
        form = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not form.is_valid():
            return self.invalid(form, "performance/figures.html")
        period, version = self.shown(form)
        context = self.base_context(form, period, version)
        if version is not None:
            assert period is not None  # a shown version has its period
            trend = selectors.contribution_trend(request.user, period)
            mine = selectors.own_figures(request.user, version)
            values = tables.board_row(mine).values if mine is not None else []
            # the scorecard's queries only where a scheme scores the manager
            score_id = getattr(mine, "score_id", None)
            score = selectors.own_score(request.user, version) if score_id is not None else None
            context.update(
                mine=mine,
                cards=list(zip(context["labels"], values, strict=False)),
                chart=exports.trend_chart(trend),
                has_trend=any(point.total is not None for point in trend),
                score=score,
                score_parts=tables.score_parts(score),
                move=selectors.rank_move(score) if score is not None else None,
                level=ManagerLevelCode(level_of(request.user.pk)).label if score is not None else None,
            )
        return render(request, "performance/figures.html", context)

    def _board(self, request):
        form = board_form(request, self.periods, self.default)
        if not form.is_valid():
            return self.invalid(form, "performance/board.html")
        period, version = self.shown(form)
        context: dict[str, Any] = self.base_context(form, period, version)
        if version is not None:
            rows = board_rows(request, form, version)
            # the rank shown is each manager's own (stored with the score), whatever the order
            page = paginate(request, rows, default_size=PAGE_SIZE)
            top = list(rows.order_by("-total", "branch__path", "pk")[:TOP])
            parts = selectors.indicator_scores(getattr(row, "score_id", None) for row in page)
            shown = [tables.board_row(row, parts) for row in page]
            context.update(
                page_obj=page,
                rows=shown,
                scored=tables.any_score(shown),
                heat=tables.heat_map(shown),
                totals=tables.in_order(selectors.figure_totals(rows)),
                chart=exports.top_chart([tables.board_row(row) for row in top]),
                columns=sort_columns(form.cleaned_data["sort"]),
            )
        return render(request, "performance/board.html", context)


def sort_columns(sort: str) -> list[dict[str, Any]]:
    """The board's sortable columns: each with the order a click on it asks for
    (figures largest first, then the other way; names and branches A to Z first)
    and whether the board is sorted by it now ("asc", "desc" or "")."""
    labels = {"manager": _("Manager"), "branch": _("Branch"), **exports.figure_labels(), "score": _("Score")}
    columns = []
    for key, label in labels.items():
        state = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        first = key if key in ("manager", "branch") else f"-{key}"
        columns.append(
            {
                "key": key,
                "label": label,
                "sort": {"asc": f"-{key}", "desc": key}.get(state, first),
                "state": state,
                "figure": key in selectors.FIGURES or key == "score",
            }
        )
    return columns


def board_form(request, periods, default) -> BoardForm:
    """The board's filters: the branches the user may see by name, indented under
    their parent (from the user's top branch), after a worded "all branches"; any
    other branch is refused."""
    branches = list(visible_branches(request.user).order_by("path"))
    form = BoardForm(request.GET, periods=periods, default=default, branches=branches)
    branch = form.fields["branch"]
    assert isinstance(branch, forms.ChoiceField)
    top = min((b.level for b in branches), default=0)
    branch.choices = [
        ("", _("All branches")),
        *[(b.code, f"{'· ' * (b.level - top)}{b.name}") for b in branches],
    ]
    return form


def board_rows(request, form: BoardForm, version: ResultVersion):
    data = form.cleaned_data
    return selectors.board_rows(
        request.user, version, q=data.get("q", ""), branch=data.get("branch"), sort=data["sort"]
    )


@replica_reads
class BranchRankingView(_FiguresPage):
    """/performance/branches/: the branches of a level by total contribution."""

    scopes = BOARD_SCOPES
    template_name = "performance/branches.html"

    def get(self, request):
        levels = selectors.ranking_levels(request.user)
        form = RankingForm(request.GET, periods=self.periods, default=self.default, levels=levels)
        if not form.is_valid():
            return self.invalid(form)
        period, version = self.shown(form)
        context = self.base_context(form, period, version)
        level = form.cleaned_data["level"]
        if version is not None and level is not None:
            ranked = selectors.branch_ranking(request.user, version, level)
            totals = tables.sum_figures(r.figures.figures for r in ranked)
            context.update(ranked=ranked, totals=tables.in_order(totals), level=level)
        return render(request, self.template_name, context)


class ManagerView(_FiguresPage):
    """/performance/managers/<employee_no>/: the customers whose days make one
    manager's figures, largest contribution first."""

    template_name = "performance/manager.html"

    def get(self, request, employee_no: str):
        form = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not form.is_valid():
            return self.invalid(form)
        period, version = self.shown(form)
        result = manager_result(request, version, employee_no)
        assert version is not None  # a manager's row has its version
        rows = selectors.customer_rows(request.user, result)
        page = selectors.customer_page(rows, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
        context = self.base_context(form, period, version)
        context.update(
            result=result,
            manager_label=tables.manager_label(result),
            branch_label=tables.branch_label(result.branch),
            summary=tables.board_row(result).values,
            page=page,
            customers=selectors.customer_figures(page.rows, version.counted_days),
            may_export=self.scope.kind in BOARD_SCOPES,
            days_base=reverse("performance:manager", args=[employee_no]) + "days/",
        )
        return render(request, self.template_name, context)


class PoolView(_FiguresPage):
    """/performance/pools/<branch_code>/: the customers whose days without a manager of
    record make a branch's pool, largest contribution first (the customers to give a
    manager). A branch head's and head office's."""

    template_name = "performance/manager.html"
    scopes = BOARD_SCOPES

    def get(self, request, branch_code: str):
        form = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not form.is_valid():
            return self.invalid(form)
        period, version = self.shown(form)
        result = pool_result(request, version, branch_code)
        assert version is not None  # a pool's row has its version
        rows = selectors.customer_rows(request.user, result)
        page = selectors.customer_page(rows, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
        context = self.base_context(form, period, version)
        context.update(
            result=result,
            manager_label=tables.manager_label(result),
            branch_label=tables.branch_label(result.branch),
            summary=tables.board_row(result).values,
            page=page,
            customers=selectors.customer_figures(page.rows, version.counted_days),
            days_base=reverse("performance:pool", args=[branch_code]) + "days/",
        )
        return render(request, self.template_name, context)


def pool_result(request, version: ResultVersion | None, branch_code: str) -> ManagerResult:
    """The branch pool's row the user may see, else 404."""
    result = selectors.pool_figures(request.user, version, branch_code) if version is not None else None
    if result is None:
        raise Http404(_("No figures of this branch's pool that you may see in this period."))
    return result


def manager_result(request, version: ResultVersion | None, employee_no: str) -> ManagerResult:
    """The manager's row the user may see, else 404 (not theirs, or no figures)."""
    result = selectors.manager_figures(request.user, version, employee_no) if version is not None else None
    if result is None:
        raise Http404(_("No figures of this manager that you may see in this period."))
    return result


# --- downloads: a branch head and head office; each is audited ------------------------------


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bad_request(form: FiguresForm) -> HttpResponse:
    messages = [str(e) for errors in form.errors.values() for e in errors]
    return HttpResponse(" ".join(messages), status=400, content_type="text/plain; charset=utf-8")


@replica_reads
class BoardExportView(_FiguresPage):
    """The team board as the page shows it (period, filters, order), every row and
    the totals, as an Excel workbook."""

    scopes = BOARD_SCOPES

    def get(self, request):
        form = board_form(request, self.periods, self.default)
        if not form.is_valid():
            return _bad_request(form)
        period, version = self.shown(form)
        if period is None or version is None:
            raise Http404(_("No figures have been computed for this period."))
        rows = [tables.board_row(row) for row in board_rows(request, form, version)]
        data = exports.board_workbook(version, rows)
        params = form.cleaned_data
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=version,
            details={
                "export": "performance_board",
                "period": period.code,
                "version": version.number,
                "q": params.get("q", ""),
                "branch": params["branch"].code if params.get("branch") else "",
                "sort": params["sort"],
                "rows": len(rows),
            },
        )
        return _xlsx(data, f"performance-{period.code}-v{version.number}.xlsx")


class ManagerExportView(_FiguresPage):
    """A manager's customers, as the drill-down shows them, as an Excel workbook."""

    scopes = BOARD_SCOPES

    def get(self, request, employee_no: str):
        form = FiguresForm(request.GET, periods=self.periods, default=self.default)
        if not form.is_valid():
            return _bad_request(form)
        period, version = self.shown(form)
        result = manager_result(request, version, employee_no)
        assert period is not None and version is not None  # a manager's row has its version
        customers = selectors.customer_figures(
            selectors.customer_rows(request.user, result).iterator(chunk_size=2000), version.counted_days
        )
        data = exports.manager_workbook(version, result, customers)
        audit(
            Action.EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=version,
            details={
                "export": "performance_manager",
                "period": period.code,
                "version": version.number,
                "employee_no": employee_no,
                "rows": len(customers),
            },
        )
        return _xlsx(data, f"performance-{period.code}-v{version.number}-{employee_no}.xlsx")

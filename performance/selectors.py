"""Reads of performance figures: the version a period shows, and its rows as far as
the user may see them (`ManagerResult.objects.visible_to`), for the API and the
pages (the team board, a manager's customers, the branch ranking)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from accounts.models import Branch, BranchLevel
from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.masking import mask_name
from customers.search.paging import Cursor

from .choices import PeriodKind, PeriodStatus, VersionStatus
from .engine import CENT, round_half_up
from .models import CustomerResult, IndicatorScore, ManagerResult, ManagerScore, Period, ResultVersion
from .scheme_choices import ROLE_LEVELS, SchemeRole

FIGURES = ("deposit_avg", "loan_avg", "aum_avg", "liability", "asset", "intermediary", "total")


def shown_version(period: Period, number: int | None = None) -> ResultVersion | None:
    """The version a period shows: the one asked for, else an open period's
    provisional figures or a closed period's latest published version."""
    versions = period.versions.all()
    if number is not None:
        return versions.filter(number=number).first()
    if period.status == PeriodStatus.OPEN:
        return versions.filter(number=0).first()
    return versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


def version_readable(user, version: ResultVersion) -> bool:
    """Figures in force (provisional, published) and replaced ones (superseded) are
    read by whoever reads the period; a version that was never in force (waiting,
    rejected, withdrawn) only by those who publish figures. One being computed has
    none yet."""
    if version.computing or version.failure:
        return False
    if version.status in (VersionStatus.PROVISIONAL, VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED):
        return True
    return reads_publication(user)


# Who reads the periods and their versions: those who publish figures, and who audit them.
PUBLICATION_READERS = (
    "performance.view_publication",
    "performance.propose_publication",
    "performance.approve_publication",
)


def reads_publication(user) -> bool:
    return any(user.has_perm(permission) for permission in PUBLICATION_READERS)


def manager_rows(user, version: ResultVersion) -> QuerySet[ManagerResult]:
    return (
        ManagerResult.objects.visible_to(user)
        .filter(version=version)
        .select_related("manager", "branch")
        .order_by("branch__path", "manager__employee_no", "pk")
    )


@dataclass
class BranchFigures:
    branch: Branch
    figures: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FIGURES, Decimal("0")))
    managers: int = 0


def branch_rows(user, version: ResultVersion, level: int) -> list[BranchFigures]:
    """Each branch of `level` the user may see, with the sum of the rows (managers and
    pools) of its subtree the user may see: managers plus pools give the branch
    exactly. A client manager's branch holds their own row only."""
    branches = list(visible_branches(user).filter(level=level).order_by("path"))
    by_path = {b.path: BranchFigures(b) for b in branches}
    rows = ManagerResult.objects.visible_to(user).filter(version=version).select_related("branch")
    for row in rows:
        # the row's branch at `level`: the first level + 1 codes of its path
        codes = row.branch.path.strip("/").split("/")
        totals = by_path.get("/".join(codes[: level + 1]) + "/") if len(codes) > level else None
        if totals is None:
            continue
        for name in FIGURES:
            totals.figures[name] += getattr(row, name)
        totals.managers += row.manager_id is not None
    return list(by_path.values())


# --- the pages: periods, the team board, a manager's customers, branch rankings -----------

# What the team board sorts by: each figure, the manager (employee number), the
# branch (its place in the tree) and the score.
SORTS: dict[str, str] = {
    **{name: name for name in FIGURES},
    "manager": "manager__employee_no",
    "branch": "branch__path",
    "score": "score_value",  # the client-manager score (`with_scores`); pools last
}
DEFAULT_SORT = "-total"
TREND_PERIODS = 12


def periods_with_figures() -> list[Period]:
    """The periods that have a computed version, newest first (a month before the
    quarter and the year that start with it)."""
    return list(Period.objects.filter(versions__isnull=False).distinct().order_by("-start", "kind", "code"))


def default_period(periods: Sequence[Period]) -> Period | None:
    """The period a page shows unless asked: the latest open month, else the newest."""
    open_months = (p for p in periods if p.kind == PeriodKind.MONTH and p.status == PeriodStatus.OPEN)
    return next(open_months, periods[0] if periods else None)


def _ordering(sort: str) -> list:
    name = sort.removeprefix("-")
    field = F(SORTS[name])
    first = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
    # ties in a stable order, so that pages neither repeat nor skip a row
    return [first, "branch__path", F("manager__employee_no").asc(nulls_last=True), "pk"]


def board_rows(
    user, version: ResultVersion, *, q: str = "", branch: Branch | None = None, sort: str = DEFAULT_SORT
) -> QuerySet[ManagerResult]:
    """The team board: each manager's row and each branch pool's the user may see,
    within `branch` (a branch the user may see) and matching `q` (a manager's name
    or employee number; pools have neither), in the order of `sort` (a key of
    SORTS, "-" first for the largest first), each with its score (`with_scores`)."""
    rows = ManagerResult.objects.visible_to(user).filter(version=version).select_related("manager", "branch")
    if branch is not None:
        rows = rows.filter(branch__path__startswith=branch.path)
    if q:
        rows = rows.filter(Q(manager__display_name__icontains=q) | Q(manager__employee_no__icontains=q))
    return with_scores(rows).order_by(*_ordering(sort))


def figure_totals(rows: QuerySet[ManagerResult]) -> dict[str, Decimal]:
    """The sum of each figure over the rows: over a branch's managers and pools, the
    branch's figures."""
    sums = rows.order_by().aggregate(**{name: Sum(name) for name in FIGURES})
    return {name: sums[name] or Decimal("0") for name in FIGURES}


def own_figures(user, version: ResultVersion) -> ManagerResult | None:
    """The user's own row of a version (a client manager's figures), with their
    score's columns (`with_scores`)."""
    return with_scores(
        ManagerResult.objects.visible_to(user)
        .filter(version=version, manager=user)
        .select_related("manager", "branch")
    ).first()


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    version: ResultVersion
    total: Decimal | None  # None: no figures of the user in that version


def contribution_trend(user, period: Period, *, count: int = TREND_PERIODS) -> list[TrendPoint]:
    """The user's total contribution over the last `count` periods of the period's
    kind up to it that have figures, oldest first: each period's shown version
    (an open period's provisional figures, a closed one's latest published)."""
    shown = (
        ResultVersion.objects.filter(period__kind=period.kind, period__start__lte=period.start)
        .filter(
            Q(period__status=PeriodStatus.OPEN, number=0)
            | Q(period__status=PeriodStatus.CLOSED, status=VersionStatus.PUBLISHED)
        )
        .select_related("period")
        .order_by("-period__start", "-number")
    )
    chosen: dict[int, ResultVersion] = {}
    for version in shown:
        if version.period_id not in chosen:
            chosen[version.period_id] = version
            if len(chosen) == count:
                break
    totals = dict(
        ManagerResult.objects.visible_to(user)
        .filter(version__in=[v.pk for v in chosen.values()], manager=user)
        .values_list("version_id", "total")
    )
    return [TrendPoint(v.period, v, totals.get(v.pk)) for v in reversed(chosen.values())]


def manager_figures(user, version: ResultVersion, employee_no: str) -> ManagerResult | None:
    """A manager's row of a version, if the user may see it (a client manager their
    own, a branch head their subtree's managers, head office any)."""
    return (
        ManagerResult.objects.visible_to(user)
        .filter(version=version, manager__isnull=False, manager__employee_no=employee_no)
        .select_related("manager", "branch")
        .first()
    )


def pool_figures(user, version: ResultVersion, branch_code: str) -> ManagerResult | None:
    """A branch's pool row of a version (its customers' days without a manager of
    record), if the user may see it (a branch head their subtree's, head office any)."""
    return (
        ManagerResult.objects.visible_to(user)
        .filter(version=version, manager__isnull=True, branch__code=branch_code)
        .select_related("branch")
        .first()
    )


def customer_rows(user, result: ManagerResult) -> QuerySet[CustomerResult]:
    """The customers whose days make a manager's figures (`result`, a row the user
    may see: `manager_figures`), largest contribution first. Every one of them is
    listed, so that they add up to the manager's figures; `may_open` says whether
    the customer is in the user's own customer scope (a customer who has since moved
    to another manager may not be)."""
    condition = CustomerResult.objects.scope_condition(user)
    if condition is None or not condition:  # no customer, or the whole bank
        may_open: Any = Value(condition is not None, output_field=BooleanField())
    else:
        may_open = Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
    rows = CustomerResult.objects.filter(version_id=result.version_id, manager_id=result.manager_id)
    if result.manager_id is None:  # a pool: its branch's customers (the definition's home branch)
        rows = rows.filter(customer__home_branch_id=result.branch_id)
    return (
        rows.select_related("customer")
        .annotate(
            contribution=F("liability") + F("asset") + F("intermediary"),
            may_open=may_open,
        )
        .order_by("-contribution", "customer_id")
    )


@dataclass(frozen=True)
class CustomerPage:
    """A page of a manager's customers, by key: largest contribution first, then by
    customer id. `first` is the position of its first row (1 for the first page)."""

    rows: list[CustomerResult]
    count: int
    first: int
    next_cursor: str
    previous_cursor: str

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def customer_page(rows: QuerySet[CustomerResult], *, cursor: str = "", size: int = 50) -> CustomerPage:
    """One page of `customer_rows` after `cursor` (the previous page's last row) or
    before it (a previous-page cursor), read by key: no OFFSET, whatever the page."""
    # the customer search's cursor: a decimal sort value, the last id, and a direction
    position = Cursor.decode(cursor, "aum") if cursor else None
    at = (position.value, position.last_id, position.before) if position is not None else None

    def after(value, customer_id) -> Q:
        return Q(contribution__lt=value) | Q(contribution=value, customer_id__gt=customer_id)

    def ahead(value, customer_id) -> Q:
        return Q(contribution__gt=value) | Q(contribution=value, customer_id__lt=customer_id)

    if at is None:
        found = list(rows[: size + 1])
        more_after, more_before = len(found) > size, False
        found = found[:size]
    elif at[2]:  # the page before the cursor's row
        found = list(rows.filter(ahead(at[0], at[1])).order_by("contribution", "-customer_id")[: size + 1])
        more_before, more_after = len(found) > size, True
        found = list(reversed(found[:size]))
    else:
        found = list(rows.filter(after(at[0], at[1]))[: size + 1])
        more_after, more_before = len(found) > size, True
        found = found[:size]
    first = 1
    if found and at is not None:
        head = found[0]
        first = rows.filter(ahead(head.contribution, head.customer_id)).count() + 1  # type: ignore[attr-defined]
        more_before = first > 1
    tail = found[-1] if found else None
    return CustomerPage(
        rows=found,
        count=rows.count(),
        first=first,
        next_cursor=Cursor(tail.contribution, tail.customer_id).encode() if more_after and tail else "",  # type: ignore[attr-defined]
        previous_cursor=(
            Cursor(found[0].contribution, found[0].customer_id, before=True).encode()  # type: ignore[attr-defined]
            if more_before and found
            else ""
        ),
    )


@dataclass(frozen=True)
class CustomerFigures:
    """One customer's share of a manager's figures, as the drill-down shows it:
    balance-days turned into daily averages over the counted days, amounts rounded
    half-up to 2 decimals."""

    row: CustomerResult
    figures: dict[str, Decimal]

    @property
    def customer(self):
        return self.row.customer

    @property
    def values(self) -> list[Decimal]:
        return [self.figures[name] for name in FIGURES]

    @property
    def may_open(self) -> bool:
        return bool(getattr(self.row, "may_open", False))

    @property
    def name(self) -> str:
        """The name as the customer list shows it; masked (surname and *) for a
        customer outside the user's own customer scope."""
        return self.customer.name if self.may_open else mask_name(self.customer.name)


def customer_figures(rows: Iterable[CustomerResult], counted_days: int) -> list[CustomerFigures]:
    days = Decimal(counted_days or 1)
    shaped = []
    for row in rows:
        liability, asset, intermediary = row.liability, row.asset, row.intermediary
        shaped.append(
            CustomerFigures(
                row,
                {
                    "deposit_avg": round_half_up(row.deposit_days / days),
                    "loan_avg": round_half_up(row.loan_days / days),
                    "aum_avg": round_half_up(row.aum_days / days),
                    "liability": round_half_up(liability),
                    "asset": round_half_up(asset),
                    "intermediary": round_half_up(intermediary),
                    "total": round_half_up(liability + asset + intermediary),
                },
            )
        )
    return shaped


BRANCH_LEVELS = (BranchLevel.BRANCH, BranchLevel.SUB_BRANCH, BranchLevel.OUTLET)


def ranking_levels(user) -> list[int]:
    """The branch levels the user may rank: head office all, a branch head the
    levels of their own branch and below."""
    scope = data_scope(user)
    if scope.kind is ScopeKind.ALL:
        return list(BRANCH_LEVELS)
    if scope.kind is ScopeKind.SUBTREE and scope.branch is not None:
        return [level for level in BRANCH_LEVELS if level >= scope.branch.level]
    return []


@dataclass(frozen=True)
class RankedBranch:
    rank: int
    figures: BranchFigures

    @property
    def values(self) -> list[Decimal]:
        return [self.figures.figures[name] for name in FIGURES]


def branch_ranking(user, version: ResultVersion, level: int) -> list[RankedBranch]:
    """The branches of a level the user may see by total contribution, largest
    first; equal totals share a rank (1, 2, 2, 4)."""
    branches = sorted(branch_rows(user, version, level), key=lambda b: (-b.figures["total"], b.branch.path))
    ranked: list[RankedBranch] = []
    for position, branch in enumerate(branches, start=1):
        tied = bool(ranked) and ranked[-1].figures.figures["total"] == branch.figures["total"]
        ranked.append(RankedBranch(ranked[-1].rank if tied else position, branch))
    return ranked


# --- scores, ranks, grades ----------------------------------------------------------------


def _scores(user, version: ResultVersion) -> QuerySet[ManagerScore]:
    return (
        ManagerScore.objects.visible_to(user)
        .filter(version=version)
        .select_related("scheme")
        .prefetch_related(
            Prefetch("indicators", IndicatorScore.objects.select_related("scheme_indicator__indicator"))
        )
    )


def manager_scores(
    user, version: ResultVersion, manager_ids: Iterable[int | None]
) -> dict[int, ManagerScore]:
    """The client-manager scores of the managers (as far as the user may see them),
    by manager id; two queries whatever the number."""
    ids = [pk for pk in manager_ids if pk is not None]
    if not ids:
        return {}
    rows = _scores(user, version).filter(role=SchemeRole.CLIENT_MANAGER, manager_id__in=ids)
    return {row.manager_id: row for row in rows if row.manager_id is not None}


def branch_scores(
    user, version: ResultVersion, level: int, branch_ids: Iterable[int]
) -> dict[int, ManagerScore]:
    """The scores of branches of a level under the scheme of that level, by branch id."""
    role = next((role for role, lvl in ROLE_LEVELS.items() if lvl == level), None)
    ids = list(branch_ids)
    if role is None or not ids:
        return {}
    rows = _scores(user, version).filter(role=role, manager__isnull=True, branch_id__in=ids)
    return {row.branch_id: row for row in rows}


def with_scores(rows: QuerySet[ManagerResult]) -> QuerySet[ManagerResult]:
    """The managers' rows with their client-manager score in the same query
    (`score_id`, `score_value`, `score_rank`, `score_peers`, `score_grade`; null on a
    pool's row or where no scheme scores the manager). The rows are the user's to see
    already, and a score is its manager's."""
    scores = ManagerScore.objects.filter(
        version_id=OuterRef("version_id"), manager_id=OuterRef("manager_id"), role=SchemeRole.CLIENT_MANAGER
    ).order_by("pk")
    return rows.annotate(
        **{
            f"score_{name}": Subquery(scores.values(column)[:1])
            for name, column in (
                ("id", "pk"),
                ("value", "score"),
                ("rank", "rank"),
                ("peers", "peers"),
                ("grade", "grade"),
            )
        }
    )


def indicator_scores(score_ids: Iterable[int]) -> dict[int, list[IndicatorScore]]:
    """The indicators of scores, by score id, in the scheme's order; one query."""
    ids = [pk for pk in score_ids if pk]
    found: dict[int, list[IndicatorScore]] = {pk: [] for pk in ids}
    if ids:
        for part in IndicatorScore.objects.filter(manager_score_id__in=ids).select_related(
            "scheme_indicator__indicator"
        ):
            found[part.manager_score_id].append(part)
    return found


def own_score(user, version: ResultVersion) -> ManagerScore | None:
    """The user's own score as a client manager in a version."""
    return manager_scores(user, version, [user.pk]).get(user.pk)


@dataclass(frozen=True)
class RankMove:
    """What would move a unit up one rank: the points to the next better score, and
    the indicator whose actual closes the gap with the smallest rise in percent of
    its target (None: no single indicator can)."""

    next_rank: int
    gap: Decimal
    indicator: str | None = None
    indicator_name: str = ""
    extra_actual: Decimal | None = None
    extra_completion: Decimal | None = None


def rank_move(score: ManagerScore) -> RankMove | None:
    """None for the first of the peer group."""
    from . import formulas
    from .scoring import scheme_spec

    better = (
        ManagerScore.objects.filter(
            version_id=score.version_id,
            scheme_id=score.scheme_id,
            peer_level=score.peer_level,
            score__gt=score.score,
        )
        .order_by("score")
        .values_list("score", "rank")
        .first()
    )
    if better is None:
        return None
    next_score, next_rank = better
    gap = next_score - score.score
    specs = {item.scheme_indicator_id: item for item in scheme_spec(score.scheme).indicators}
    best: RankMove | None = None
    best_cost: Decimal | None = None
    for part in score.indicators.all():
        spec = specs.get(part.scheme_indicator_id)
        kind = formulas.formula(spec.formula) if spec is not None else None
        if spec is None or kind is None or kind.needs_rank or not kind.weighted:
            continue  # a rank moves with the others; a deduction only falls
        extra = _extra_needed(spec, part.actual, part.target, part.score + gap)
        if extra is None:
            continue
        scale = part.target if part.target and part.target > 0 else (abs(part.actual) or Decimal("1"))
        cost = extra / scale * 100
        if best_cost is None or cost < best_cost:
            best_cost = cost
            best = RankMove(next_rank, gap, spec.code, spec.name, round_half_up(extra), round_half_up(cost))
    return best or RankMove(next_rank, gap)


def _extra_needed(spec, actual: Decimal, target: Decimal | None, wanted: Decimal) -> Decimal | None:
    """The smallest change of the actual (a rise; a fall where lower is better) that
    lifts the indicator's weighted points to `wanted`, found by halving; None when
    even five times the target (or the actual) does not."""
    from . import formulas

    def weighted_at(extra: Decimal) -> Decimal:
        moved = actual - extra if spec.lower_is_better else actual + extra
        inputs = formulas.Inputs(
            actual=max(moved, Decimal("0")), target=target, lower_is_better=spec.lower_is_better
        )
        return formulas.weighted(
            spec.formula, formulas.points(spec.formula, spec.params, inputs), spec.weight
        )

    high = actual if spec.lower_is_better else 5 * max(target or Decimal("0"), abs(actual), Decimal("1"))
    if high <= 0 or weighted_at(high) < wanted:
        return None
    low = Decimal("0")
    for _step in range(60):
        if high - low <= Decimal("0.01"):
            break
        middle = (low + high) / 2
        if weighted_at(middle) >= wanted:
            high = middle
        else:
            low = middle
    # to the cent, the smallest that still does it
    cents = high.quantize(CENT, rounding=ROUND_FLOOR)
    return cents if weighted_at(cents) >= wanted else cents + CENT

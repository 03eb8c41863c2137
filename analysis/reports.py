"""The group reports of the customer analysis (客户分析报表): what a branch head or
head office asks of last night's analysis rows (docs/analysis.md), per branch and
per segment.

Who sees what. The report holds aggregates only: no customer is named, so nothing
is masked. Every figure counts the customers the user may see (`visible_to(user)`,
the data scope): head office the whole bank, a branch head their branch and those
below it. A branch (one of the user's scope) narrows every figure to the customers
homed on it or below it. Merged records are left out: their survivor counts.

The rows. Per branch of the level below the chosen branch, or below the user's own
(branches for head office, sub-branches or outlets for a branch head), customers
homed on the chosen branch itself in a row of their own, and the totals. Per
segment: the tier the customer holds now, by the VIP report's rule of who counts
as a VIP (`vip.selectors.reports.vip_condition`), highest tier first, then the
customers who are not VIPs.

The figures of a group of customers (their analysis rows, as of the analysis date):
- profitability: customers, the 12-month contribution in total and by business
  line (liability, asset, intermediary), and per customer;
- loyalty: how many customers score 0-19, 20-39, 40-59, 60-79 and 80-100;
- churn: the average churn probability, the customers with a probability of at
  least 50% and the value at risk;
- cross-sell: the average number of kinds of product held and the share of
  customers holding at least 3 kinds;
- satisfaction: the average score and the customers below 60.

Retention of last year's VIPs: of the customers who held a tier one year before the
analysis date (their last tier change on or before that day moved them into a
tier: the tier history's rule, as in the VIP report's migration matrix), how many
hold a tier now. It reads the customers and their tier history, not the analysis
rows, and is shown per branch and per the tier held a year before.

Set-based: the analysis figures are one query grouped by home branch and segment,
rolled up in Python to the branch rows, the segment rows and the totals; the
retention is one query grouped by home branch and last year's tier. No query runs
per branch, segment or customer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Case, CharField, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Branch, User
from accounts.scope import visible_branches
from core.forms import BootstrapFormMixin
from customers.models import Customer
from marketing.channel_report import adoption_branches
from vip.filters import BranchField
from vip.models import TierChange
from vip.selectors.levels import LevelTable, level_table, tier_label
from vip.selectors.reports import vip_condition

from .models import CustomerAnalysis

# Loyalty bands: (lowest, highest) score, both included; loyalty is 0-100.
LOYALTY_BANDS: tuple[tuple[int, int], ...] = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
# A customer counts as likely to leave from this churn probability (the flag of the
# churn model's back-test, docs/analysis.md).
LIKELY_TO_LEAVE = Decimal("0.5")
# Cross-sold: at least this many kinds of product held.
CROSS_SOLD_KINDS = 3
# Satisfied: at least this score.
SATISFIED_FROM = 60

NOT_A_VIP = ""  # the segment of the customers who hold no tier


# --- the filter -----------------------------------------------------------------------


class AnalysisReportForm(BootstrapFormMixin, forms.Form):
    """The report's filter, read from the query string by the page and its Excel copy
    alike: a branch of the user's scope, by code (none: all of it)."""

    branch = BranchField(
        label=gettext_lazy("Branch"),
        queryset=Branch.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("All my branches"),
        error_messages={"invalid_choice": gettext_lazy("No branch with this code in your scope.")},
    )

    def __init__(self, data, *, user: User):
        super().__init__(data)
        branch_field = self.fields["branch"]
        assert isinstance(branch_field, forms.ModelChoiceField)
        branch_field.queryset = visible_branches(user).order_by("path")

    @property
    def params(self) -> dict[str, str]:
        """The valid filter as text (for the audit trail)."""
        branch = self.cleaned_data.get("branch")
        return {"branch": branch.code if branch else ""}


# --- the figures of a group of customers -----------------------------------------------


def _percent(part: int | Decimal, whole: int) -> float | None:
    return round(float(100 * Decimal(part) / whole), 1) if whole else None


def _average(total: int | Decimal, count: int, places: int = 2) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal(1).scaleb(-places))


@dataclass
class Figures:
    """The analysis figures of a group of customers (a branch, a segment, the
    totals): sums and counts, from which the averages and shares follow."""

    label: str
    branch: Branch | None = None
    customers: int = 0
    contribution: Decimal = Decimal("0")
    liability: Decimal = Decimal("0")
    asset: Decimal = Decimal("0")
    intermediary: Decimal = Decimal("0")
    loyalty: list[int] = field(default_factory=lambda: [0] * len(LOYALTY_BANDS))
    churn_total: Decimal = Decimal("0")  # the sum of the probabilities
    likely_to_leave: int = 0
    value_at_risk: Decimal = Decimal("0")
    product_kinds: int = 0  # the sum of the kinds held
    cross_sold: int = 0
    satisfaction_total: int = 0
    unsatisfied: int = 0

    def add(self, other: Figures) -> None:
        self.customers += other.customers
        self.contribution += other.contribution
        self.liability += other.liability
        self.asset += other.asset
        self.intermediary += other.intermediary
        self.loyalty = [a + b for a, b in zip(self.loyalty, other.loyalty, strict=True)]
        self.churn_total += other.churn_total
        self.likely_to_leave += other.likely_to_leave
        self.value_at_risk += other.value_at_risk
        self.product_kinds += other.product_kinds
        self.cross_sold += other.cross_sold
        self.satisfaction_total += other.satisfaction_total
        self.unsatisfied += other.unsatisfied

    @property
    def contribution_per_customer(self) -> Decimal | None:
        return _average(self.contribution, self.customers)

    @property
    def churn_average(self) -> float | None:
        """The average churn probability, in per cent."""
        return _percent(self.churn_total, self.customers)

    @property
    def product_kinds_average(self) -> Decimal | None:
        return _average(self.product_kinds, self.customers, places=1)

    @property
    def cross_sold_share(self) -> float | None:
        return _percent(self.cross_sold, self.customers)

    @property
    def satisfaction_average(self) -> Decimal | None:
        return _average(self.satisfaction_total, self.customers, places=1)


def band_labels() -> list[str]:
    return [f"{low}–{high}" for low, high in LOYALTY_BANDS]


@dataclass
class RetentionRow:
    label: str
    branch: Branch | None = None
    held: int = 0  # held a tier a year before
    kept: int = 0  # and hold one now

    @property
    def rate(self) -> float | None:
        return _percent(self.kept, self.held)


@dataclass
class AnalysisReport:
    as_of: datetime.date | None  # the analysis date; None: no analysis rows yet
    year_before: datetime.date | None
    branch: Branch | None  # the chosen branch
    by_branch: list[Figures]
    by_segment: list[Figures]
    totals: Figures
    retention_by_branch: list[RetentionRow]
    retention_by_tier: list[RetentionRow]
    retention_totals: RetentionRow

    @property
    def is_empty(self) -> bool:
        return self.totals.customers == 0


# --- reading ---------------------------------------------------------------------------


def _in_branch(rows: QuerySet, subtree: list[int] | None, path: str) -> QuerySet:
    """Rows of customers homed on one of `subtree`'s branches (None: no narrowing).
    A list of ids, not a subquery: the planner then knows how many customers they
    hold (customers.querysets)."""
    if subtree is None:
        return rows
    return rows.filter(**{f"{path}home_branch_id__in": subtree})


def _segment() -> Case:
    """The tier a customer holds now when they count as a VIP, else NOT_A_VIP."""
    return Case(
        When(vip_condition("customer"), then=F("customer__tier")),
        default=Value(NOT_A_VIP),
        output_field=CharField(),
    )


def _analysis_groups(user: User, subtree: list[int] | None) -> list[dict[str, Any]]:
    """The analysis rows in scope, summed by home branch and segment: one query."""
    rows = _in_branch(
        CustomerAnalysis.objects.visible_to(user).filter(customer__merged_into__isnull=True),
        subtree,
        "customer__",
    )
    aggregates: dict[str, Any] = {
        "customers": Count("pk"),
        "contribution": Sum("contribution"),
        "liability": Sum("contribution_liability"),
        "asset": Sum("contribution_asset"),
        "intermediary": Sum("contribution_intermediary"),
        "churn_total": Sum("churn_probability"),
        "likely_to_leave": Count("pk", filter=Q(churn_probability__gte=LIKELY_TO_LEAVE)),
        "value_at_risk": Sum("value_at_risk"),
        "product_kinds": Sum("product_depth"),
        "cross_sold": Count("pk", filter=Q(product_depth__gte=CROSS_SOLD_KINDS)),
        "satisfaction_total": Sum("satisfaction"),
        "unsatisfied": Count("pk", filter=Q(satisfaction__lt=SATISFIED_FROM)),
        "as_of": Max("as_of"),
    }
    for i, (low, high) in enumerate(LOYALTY_BANDS):
        # the last band is open above: a score is never over 100
        band = Q(loyalty__gte=low) if i == len(LOYALTY_BANDS) - 1 else Q(loyalty__gte=low, loyalty__lte=high)
        aggregates[f"loyalty_{i}"] = Count("pk", filter=band)
    return list(
        rows.order_by()
        .values(path=F("customer__home_branch__path"), segment=_segment())
        .annotate(**aggregates)
    )


def _figures(group: dict[str, Any]) -> Figures:
    zero = Decimal("0")
    return Figures(
        label="",
        customers=group["customers"],
        contribution=group["contribution"] or zero,
        liability=group["liability"] or zero,
        asset=group["asset"] or zero,
        intermediary=group["intermediary"] or zero,
        loyalty=[group[f"loyalty_{i}"] for i in range(len(LOYALTY_BANDS))],
        churn_total=group["churn_total"] or zero,
        likely_to_leave=group["likely_to_leave"],
        value_at_risk=group["value_at_risk"] or zero,
        product_kinds=group["product_kinds"] or 0,
        cross_sold=group["cross_sold"],
        satisfaction_total=group["satisfaction_total"] or 0,
        unsatisfied=group["unsatisfied"],
    )


def year_before(day: datetime.date) -> datetime.date:
    """The same day a year before (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _retention_groups(user: User, subtree: list[int] | None, on: datetime.date) -> list[dict[str, Any]]:
    """The customers in scope who held a tier on `on`, by home branch and that tier,
    with how many of them hold a tier now: one query."""
    # The tier held on a day: the one the customer's last change up to that day
    # moved them into (none without a change), as the VIP report reads the history.
    held_then = Subquery(
        TierChange.objects.filter(customer=OuterRef("pk"), effective_date__lte=on)
        .order_by("-effective_date", "-id")
        .values("to_tier")[:1],
        output_field=CharField(),
    )
    # Only a customer moved into a tier by then can have held one: the semi-join
    # keeps the per-customer lookup to them.
    moved_in = TierChange.objects.filter(effective_date__lte=on).exclude(to_tier="").values("customer_id")
    customers = _in_branch(Customer.objects.visible_to(user).filter(merged_into__isnull=True), subtree, "")
    return list(
        customers.filter(pk__in=moved_in)
        .annotate(held_then=Coalesce(held_then, Value(NOT_A_VIP)))
        .exclude(held_then=NOT_A_VIP)
        .order_by()
        .values("held_then", path=F("home_branch__path"))
        .annotate(held=Count("pk"), kept=Count("pk", filter=vip_condition()))
    )


class BranchRows:
    """The rows of the level below the broken-down branch, and which row a
    customer's home branch (by its path) falls in."""

    def __init__(self, root: Branch | None, branches: list[Branch], make: Callable[..., Any]):
        self.rows = [make(label=b.name, branch=b) for b in branches]
        if root is None:
            self.itself = make(label=_("Head office"))
        else:
            label = _("%(branch)s itself") % {"branch": root.name} if self.rows else root.name
            self.itself = make(label=label, branch=root)
        self.elsewhere = make(label=_("Other branches"))
        self.root = root

    def owner(self, path: str | None):
        path = path or ""
        # branches of one level: at most one path starts a customer's branch's path
        for row in self.rows:
            if path.startswith(row.branch.path):
                return row
        if self.root is None or path.startswith(self.root.path):
            return self.itself
        return self.elsewhere

    def shown(self, has_figures: Callable[[Any], int]) -> list:
        """The level's rows, then the broken-down branch itself and other branches
        when they hold customers (the branch itself too when it has no level below)."""
        extra = [
            r for r in (self.itself, self.elsewhere) if has_figures(r) or (r is self.itself and not self.rows)
        ]
        return self.rows + extra


def _segment_order(levels: LevelTable, held: set[str]) -> list[str]:
    """The active tiers and any withdrawn one still held, highest threshold first."""
    codes = set(levels.intervals) | (held - {NOT_A_VIP})
    return sorted(codes, key=lambda code: (-(levels.thresholds.get(code) or 0), code))


def analysis_report(*, user: User, branch: Branch | None = None) -> AnalysisReport:
    """The report's figures for the user's scope, narrowed to `branch` (see the module
    docstring). Queries: the rows' branches, the tier levels, the chosen branch's
    subtree, the analysis groups and the retention groups."""
    subtree = list(Branch.objects.subtree(branch).values_list("pk", flat=True)) if branch else None
    root, branches = adoption_branches(user, branch)
    groups = _analysis_groups(user, subtree)
    levels = level_table()
    dates = [g["as_of"] for g in groups if g["as_of"] is not None]
    as_of = max(dates) if dates else None

    by_branch = BranchRows(root, branches, Figures)
    segments: dict[str, Figures] = {}
    totals = Figures(label=_("Total"))
    for group in groups:
        figures = _figures(group)
        by_branch.owner(group["path"]).add(figures)
        segments.setdefault(group["segment"], Figures(label="")).add(figures)
        totals.add(figures)
    by_segment = []
    for code in _segment_order(levels, set(segments)):
        row = segments.get(code) or Figures(label="")
        row.label = tier_label(code, levels.names)
        by_segment.append(row)
    not_vip = segments.get(NOT_A_VIP) or Figures(label="")
    not_vip.label = _("Not a VIP")
    by_segment.append(not_vip)

    retention = BranchRows(root, branches, RetentionRow)
    by_tier: dict[str, RetentionRow] = {}
    retention_totals = RetentionRow(label=_("Total"))
    last_year = year_before(as_of) if as_of is not None else None
    if last_year is not None:
        for group in _retention_groups(user, subtree, last_year):
            kept: RetentionRow
            for kept in (
                retention.owner(group["path"]),
                by_tier.setdefault(group["held_then"], RetentionRow(label="")),
                retention_totals,
            ):
                kept.held += group["held"]
                kept.kept += group["kept"]
    retention_by_tier = []
    for code in _segment_order(levels, set(by_tier)):
        held = by_tier.get(code) or RetentionRow(label="")
        held.label = tier_label(code, levels.names)
        retention_by_tier.append(held)

    return AnalysisReport(
        as_of=as_of,
        year_before=last_year,
        branch=branch,
        by_branch=by_branch.shown(lambda r: r.customers),
        by_segment=by_segment,
        totals=totals,
        retention_by_branch=retention.shown(lambda r: r.held),
        retention_by_tier=retention_by_tier,
        retention_totals=retention_totals,
    )


# --- the charts --------------------------------------------------------------------------


def report_chart(report: AnalysisReport) -> dict[str, Any]:
    """The charts' data (static/js/analysis_reports.js): the loyalty distribution per
    segment (stacked), and per segment the average churn probability and the value
    at risk. Labels only, never codes."""
    return {
        "loyalty": {
            "labels": band_labels(),
            "series": [
                {"label": row.label, "data": row.loyalty} for row in report.by_segment if row.customers
            ],
            "axis": _("Customers"),
        },
        "churn": {
            "labels": [row.label for row in report.by_segment],
            "average": [row.churn_average or 0 for row in report.by_segment],
            "value_at_risk": [float(row.value_at_risk) for row in report.by_segment],
            "average_label": _("Average churn probability (%)"),
            "value_at_risk_label": _("Value at risk (CNY)"),
        },
    }

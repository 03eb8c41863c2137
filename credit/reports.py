"""The credit-risk reports (信贷风险分析): what a branch head or head office asks of the
loans and cards their branches book, read from the figures written after each load
(`credit.risk_figures`; definitions in docs/credit.md, "Credit-risk reports").

Who sees what. Aggregates only: no customer or account is named. A branch's figures
are the loans and cards it books (the account's branch); the user sees those of the
branches of their scope (head office the whole bank, a branch head their branch and
those below it); a chosen branch (one of their scope) narrows every figure to it
and the branches below it, a product line to one category of loan or card.

What it shows, for the chosen month (by default the newest):
- the overdue rate and the NPL ratio (and what they are made of) month by month over
  the months written, for the whole selection;
- per branch of the level below the chosen branch (or the user's own; the branch
  itself in a row of its own) and per product line: accounts and balances per
  bucket of days past due and per classification;
- the roll-rate matrix: accounts from each bucket at the previous month end to each
  bucket at this one, with the share of the row;
- the vintage curves of mortgages and cards: per opening month, the share of the
  accounts opened that were ever more than 30 days past due, by months on book (up
  to the chosen month).

Set-based: four grouped queries on the small figure tables (by month; by branch and
product line; by bucket pair; by vintage), rolled up in Python. None per branch.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import F, Max, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Branch, User
from accounts.scope import data_scope, visible_branches
from analysis.reports import AnalysisReportForm, BranchRows
from customers.choices import CREDIT_CATEGORIES, NON_PERFORMING_FROM, AccountCategory, RiskClass
from marketing.channel_report import adoption_branches

from .buckets import OverdueBucket
from .models import RiskFigure, RollRate, Vintage

# The product lines in the order shown (CREDIT_CATEGORIES in the categories' order).
PRODUCT_LINES: list[str] = [c.value for c in AccountCategory if c in CREDIT_CATEGORIES]
VINTAGE_LINES: tuple[str, ...] = (AccountCategory.LOAN_MORTGAGE.value, AccountCategory.CREDIT_CARD.value)
# The months on book the page's vintage tables show (the chart and the Excel copy: all).
VINTAGE_COLUMNS: tuple[int, ...] = (1, 3, 6, 9, 12, 18)
BUCKETS: list[OverdueBucket] = list(OverdueBucket)
CLASSES: list[RiskClass] = list(RiskClass)


def month_label(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


def _rate(part: Decimal | int, whole: Decimal | int, places: int = 2) -> float | None:
    """part ÷ whole in per cent; None without a whole."""
    return round(float(100 * Decimal(part) / Decimal(whole)), places) if whole else None


# --- the filter -----------------------------------------------------------------------


class CreditReportForm(AnalysisReportForm):
    """The report's filter (the page and its Excel copy alike): a branch of the user's
    scope (the analysis reports' field), a product line, a month with figures."""

    category = forms.ChoiceField(label=gettext_lazy("Product line"), required=False)
    month = forms.ChoiceField(
        label=gettext_lazy("Month"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("No credit-risk figures for this month.")},
    )

    def __init__(self, data, *, user: User, months: list[datetime.date]):
        super().__init__(data, user=user)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [
            ("", _("All loans and cards")),
            *((c, AccountCategory(c).label) for c in PRODUCT_LINES),
        ]
        month = self.fields["month"]
        assert isinstance(month, forms.ChoiceField)
        month.choices = [("", _("Newest month"))] + [(month_label(m), month_label(m)) for m in months]
        self.months = {month_label(m): m for m in months}

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data.get("month")
        return self.months.get(value) if value else None

    @property
    def params(self) -> dict[str, str]:
        month = self.cleaned_data.get("month")
        return {
            **super().params,
            "category": self.cleaned_data.get("category") or "",
            "month": month_label(month) if month else "",
        }


def figure_months() -> list[datetime.date]:
    """The months with figures, newest first (one query)."""
    return list(RiskFigure.objects.order_by("-month").values_list("month", flat=True).distinct())


# --- the figures of a group of loans and cards -------------------------------------------


@dataclass
class RiskRow:
    """Loans and cards of a branch, a product line, a month or the totals: accounts and
    balances per bucket and per classification, from which the ratios follow."""

    label: str
    branch: Branch | None = None
    as_of: datetime.date | None = None
    bucket_accounts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    bucket_balances: list[Decimal] = field(default_factory=lambda: [Decimal("0")] * len(BUCKETS))
    class_balances: list[Decimal] = field(default_factory=lambda: [Decimal("0")] * len(CLASSES))
    overdue_amount: Decimal = Decimal("0")

    def add_group(self, group: dict[str, Any]) -> None:
        bucket, risk_class = BUCKETS.index(group["bucket"]), CLASSES.index(group["risk_class"])
        balance = group["balance"] or Decimal("0")
        self.bucket_accounts[bucket] += group["accounts"]
        self.bucket_balances[bucket] += balance
        self.class_balances[risk_class] += balance
        self.overdue_amount += group["overdue_amount"] or Decimal("0")

    @property
    def accounts(self) -> int:
        return sum(self.bucket_accounts)

    @property
    def outstanding(self) -> Decimal:
        return sum(self.bucket_balances, Decimal("0"))

    @property
    def past_due_balance(self) -> Decimal:
        """The whole balance of the accounts at least one day past due."""
        return sum(self.bucket_balances[1:], Decimal("0"))

    @property
    def non_performing_balance(self) -> Decimal:
        return sum(
            (b for c, b in zip(CLASSES, self.class_balances, strict=True) if c >= NON_PERFORMING_FROM),
            Decimal("0"),
        )

    @property
    def overdue_rate(self) -> float | None:
        return _rate(self.past_due_balance, self.outstanding)

    @property
    def npl_ratio(self) -> float | None:
        return _rate(self.non_performing_balance, self.outstanding)


@dataclass
class RollRow:
    """The accounts in one bucket at the previous month end, by their bucket now."""

    label: str
    to: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    @property
    def accounts(self) -> int:
        return sum(self.to)

    @property
    def shares(self) -> list[float | None]:
        return [_rate(n, self.accounts, 1) for n in self.to]

    @property
    def cells(self) -> list[tuple[int, float | None]]:
        """Per bucket now: the accounts and their share of the row."""
        return list(zip(self.to, self.shares, strict=True))


@dataclass
class VintageRow:
    """The accounts of a product line opened in one month, and at each month end since
    (index: months on book) how many were ever / are now more than 30 days past due."""

    opened: datetime.date
    accounts: int = 0
    ever: list[int] = field(default_factory=list)
    now: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return month_label(self.opened)

    @property
    def ever_shares(self) -> list[float | None]:
        return [_rate(n, self.accounts, 1) for n in self.ever]

    def share_at(self, months_on_book: int) -> float | None:
        return self.ever_shares[months_on_book] if months_on_book < len(self.ever) else None

    @property
    def columns(self) -> list[float | None]:
        """The shares at VINTAGE_COLUMNS (None: not that old yet)."""
        return [self.share_at(m) for m in VINTAGE_COLUMNS]


@dataclass
class VintageTable:
    category: str
    label: str
    rows: list[VintageRow]

    @property
    def longest(self) -> int:
        return max((len(r.ever) for r in self.rows), default=0)


@dataclass
class CreditReport:
    month: datetime.date | None  # the chosen month; None: no figures yet
    as_of: datetime.date | None  # the day the chosen month's figures stand at
    branch: Branch | None
    category: str  # "" all loans and cards
    by_month: list[RiskRow]  # oldest first
    by_branch: list[RiskRow]
    by_product: list[RiskRow]
    totals: RiskRow
    rolls: list[RollRow]
    vintages: list[VintageTable]

    @property
    def is_empty(self) -> bool:
        return self.totals.accounts == 0

    @property
    def category_label(self) -> str:
        return str(AccountCategory(self.category).label) if self.category else _("All loans and cards")

    @property
    def roll_total(self) -> RollRow:
        total = RollRow(label=_("Total"))
        for row in self.rolls:
            total.to = [a + b for a, b in zip(total.to, row.to, strict=True)]
        return total


# --- reading ---------------------------------------------------------------------------


def _selected(rows: QuerySet, branch_ids: list[int] | None, category: str) -> QuerySet:
    if branch_ids is not None:
        rows = rows.filter(branch_id__in=branch_ids)
    if category:
        rows = rows.filter(category=category)
    return rows.order_by()


_SUMS = {"accounts": Sum("accounts"), "balance": Sum("balance"), "overdue_amount": Sum("overdue_amount")}


def _month_groups(branch_ids: list[int] | None, category: str) -> list[dict[str, Any]]:
    rows = _selected(RiskFigure.objects.all(), branch_ids, category)
    return list(rows.values("month", "bucket", "risk_class").annotate(as_of=Max("as_of"), **_SUMS))


def _branch_groups(branch_ids: list[int] | None, category: str, month: datetime.date) -> list[dict[str, Any]]:
    rows = _selected(RiskFigure.objects.filter(month=month), branch_ids, category)
    return list(rows.values("category", "bucket", "risk_class", path=F("branch__path")).annotate(**_SUMS))


def _rolls(branch_ids: list[int] | None, category: str, month: datetime.date) -> list[RollRow]:
    rows = {bucket: RollRow(label=str(bucket.label)) for bucket in BUCKETS}
    groups = _selected(RollRate.objects.filter(month=month), branch_ids, category)
    for group in groups.values("from_bucket", "to_bucket").annotate(n=Sum("accounts")):
        rows[OverdueBucket(group["from_bucket"])].to[BUCKETS.index(group["to_bucket"])] += group["n"]
    return list(rows.values())


def _vintages(branch_ids: list[int] | None, category: str, month: datetime.date) -> list[VintageTable]:
    """Mortgages and cards (the one of them chosen, or none when another line is)."""
    lines = [c for c in VINTAGE_LINES if not category or c == category]
    if not lines:
        return []
    rows = _selected(Vintage.objects.filter(month__lte=month, category__in=lines), branch_ids, "")
    groups = rows.values("category", "opened", "months_on_book").annotate(
        n=Sum("accounts"), ever=Sum("ever_past_due"), now=Sum("now_past_due")
    )
    found: dict[str, dict[datetime.date, VintageRow]] = defaultdict(dict)
    for group in groups.order_by("category", "opened", "months_on_book"):
        row = found[group["category"]].setdefault(group["opened"], VintageRow(opened=group["opened"]))
        mob = group["months_on_book"]
        missing = mob + 1 - len(row.ever)
        row.ever.extend([0] * missing)
        row.now.extend([0] * missing)
        row.ever[mob], row.now[mob] = group["ever"], group["now"]
        row.accounts = max(row.accounts, group["n"])  # the cohort does not shrink
    return [
        VintageTable(category=c, label=str(AccountCategory(c).label), rows=list(found[c].values()))
        for c in lines
    ]


def _branch_ids(user: User, branch: Branch | None) -> list[int] | None:
    """The branches whose figures count: the chosen one's subtree, else the user's
    scope (None: the whole bank, no narrowing)."""
    if branch is not None:
        return list(Branch.objects.subtree(branch).values_list("pk", flat=True))
    if data_scope(user).sees_all:
        return None
    return list(visible_branches(user).values_list("pk", flat=True))


def credit_report(
    *,
    user: User,
    months: list[datetime.date],
    branch: Branch | None = None,
    category: str = "",
    month: datetime.date | None = None,
) -> CreditReport:
    """The report for the user's scope, narrowed to `branch` and `category`, at
    `month` (default: the newest of `months`, the months with figures)."""
    month = month or (months[0] if months else None)
    branch_ids = _branch_ids(user, branch)
    root, branches = adoption_branches(user, branch)
    by_branch = BranchRows(root, branches, RiskRow)
    products = {
        c: RiskRow(label=str(AccountCategory(c).label))
        for c in PRODUCT_LINES
        if not category or c == category
    }
    totals = RiskRow(label=_("Total"))
    by_month: dict[datetime.date, RiskRow] = {}
    rolls: list[RollRow] = []
    vintages: list[VintageTable] = []
    if month is not None:
        for group in _month_groups(branch_ids, category):
            row = by_month.setdefault(group["month"], RiskRow(label=month_label(group["month"])))
            row.as_of = max(filter(None, (row.as_of, group["as_of"])))
            row.add_group(group)
        for group in _branch_groups(branch_ids, category, month):
            for row in (by_branch.owner(group["path"]), products[group["category"]], totals):
                row.add_group(group)
        rolls = _rolls(branch_ids, category, month)
        vintages = _vintages(branch_ids, category, month)
    chosen = by_month.get(month) if month is not None else None
    return CreditReport(
        month=month,
        as_of=chosen.as_of if chosen else None,
        branch=branch,
        category=category,
        by_month=[by_month[m] for m in sorted(by_month)],
        by_branch=by_branch.shown(lambda r: r.accounts),
        by_product=list(products.values()),
        totals=totals,
        rolls=rolls,
        vintages=vintages,
    )


# --- the charts --------------------------------------------------------------------------


def report_chart(report: CreditReport) -> dict[str, Any]:
    """The charts' data (static/js/credit_reports.js): the overdue rate and the NPL
    ratio by month, and per vintage table the curves of ever 30+ by months on book.
    Labels only, never codes."""
    return {
        "trend": {
            "labels": [row.label for row in report.by_month],
            "overdue_rate": [row.overdue_rate for row in report.by_month],
            "npl_ratio": [row.npl_ratio for row in report.by_month],
            "overdue_label": _("Overdue rate (%)"),
            "npl_label": _("NPL ratio (%)"),
        },
        "vintages": [
            {
                "id": f"credit-vintage-{table.category.lower()}",
                "labels": list(range(table.longest)),
                "axis_x": _("Months on book"),
                "axis_y": _("Ever 30+ days past due (%)"),
                "series": [{"label": row.label, "data": row.ever_shares} for row in table.rows],
            }
            for table in report.vintages
        ],
    }

"""The kept figures (`vip.services.figures`), read in the user's scope: a book's
counts and AUM per tier, the customers of the user's scope (the home page), the
VIPs per branch and tier, the tiers held at a month end, the customers whose
tier changed between two month ends, and the VIPs won and lost in a period.

Each read answers None when the kept figures cannot answer it exactly, and the
caller then counts the live tables: before the first build, a month not built,
and a scope the figures are not cut by (the customers shared with a client
manager are counted live beside their own book). The rule of the scope is the
customers' own (`customers.querysets.ScopeRule`): all customers, a branch
subtree (the figures are per home branch) or a manager's own book (per manager).
"""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Func, QuerySet, Subquery, Sum

from accounts.models import User
from accounts.scope import ScopeKind
from customers.models import Customer
from customers.querysets import ScopeRule

from ..models import BookFigure, FigureBuild, TierMigrationFigure, TierMonthFigure, WonLostDayFigure


def figures_build() -> FigureBuild | None:
    """The latest build of the kept figures (None: never built)."""
    return FigureBuild.objects.order_by("-built_at").first()


def _in_scope(rows: QuerySet, rule: ScopeRule) -> QuerySet | None:
    """Rows of figures (per home branch) narrowed to a head-office or branch scope;
    None for a scope they are not cut by."""
    if rule.kind is ScopeKind.ALL:
        return rows
    if rule.kind is ScopeKind.SUBTREE:
        return rows.filter(home_branch_id__in=list(rule.branch_ids))
    if rule.kind is ScopeKind.OWN:
        return None
    return rows.none()


def book_tiers(user: User, manager: User) -> list[dict[str, Any]] | None:
    """Count and AUM per tier held of `manager`'s book as far as `user` may see it,
    as `("tier", "n", "aum")` rows (tiers with customers only)."""
    rule = ScopeRule.of(user)
    book = BookFigure.objects.filter(manager=manager, customers__gt=0)
    if rule.kind is not ScopeKind.OWN:
        rows = _in_scope(book, rule)
    elif manager.pk == user.pk:
        # a client manager's own book is all of their manager-of-record rows; the
        # customers shared with them belong to other books
        rows = book
    else:
        return None
    if rows is None:
        return None
    return list(rows.order_by().values("tier").annotate(n=Sum("customers"), aum=Sum("aum")))


def book_size(manager: User) -> int:
    """How many customers `manager` is the manager of record of (merged aside)."""
    return BookFigure.objects.filter(manager=manager).aggregate(n=Sum("customers"))["n"] or 0


def _summed(rows: QuerySet, field: str) -> Subquery:
    # SUM over the rows as a scalar subquery (no GROUP BY: Func is no aggregate)
    return Subquery(rows.order_by().annotate(total=Func(F(field), function="SUM")).values("total")[:1])


def scope_book(user: User) -> dict[str, Any] | None:
    """Count and AUM of the customers in the user's scope (merged records aside)
    and when they were built: the home page's "my customers". One query with the
    build (a home page's every query counts), None before the first build."""
    rule = ScopeRule.of(user)
    if rule.kind is ScopeKind.OWN:
        rows = BookFigure.objects.filter(manager=user)
    else:
        scoped = _in_scope(BookFigure.objects.all(), rule)
        assert scoped is not None  # only a client manager's scope is cut by manager
        rows = scoped
    build = (
        FigureBuild.objects.order_by("-built_at")
        .annotate(book_count=_summed(rows, "customers"), book_aum=_summed(rows, "aum"))
        .first()
    )
    if build is None:
        return None
    count, aum = build.book_count or 0, build.book_aum or Decimal("0")
    if rule.kind is ScopeKind.OWN and rule.granted:
        # shared with them or assisted: a few customers of other books, counted live
        shared = (
            Customer.objects.filter(pk__in=list(rule.granted), merged_into__isnull=True)
            .exclude(primary_manager=user)
            .aggregate(n=Count("pk"), aum=Sum("aum"))
        )
        count += shared["n"]
        aum += shared["aum"] or Decimal("0")
    return {"count": count, "aum": aum, "as_of": build}


def vips_by_branch(user: User) -> QuerySet | None:
    """VIPs per home branch path and tier, as `("home_branch__path", "tier", "n",
    "aum", "registered")` rows: the shape the live count of the report has (the
    caller checked the figures are built)."""
    rows = _in_scope(BookFigure.objects.exclude(tier="").filter(customers__gt=0), ScopeRule.of(user))
    if rows is None:
        return None
    return (
        rows.order_by()
        .values("home_branch__path", "tier")
        .annotate(n=Sum("customers"), aum=Sum("aum"), registered=Sum("registered"))
    )


def scope_customers(user: User) -> int | None:
    """How many customers (merged aside) the user's head-office or branch scope holds."""
    rows = _in_scope(BookFigure.objects.all(), ScopeRule.of(user))
    if rows is None:
        return None
    return rows.aggregate(n=Sum("customers"))["n"] or 0


def tiers_at_month_end(user: User, month: datetime.date, build: FigureBuild | None) -> dict[str, int] | None:
    """Customers per tier held at the end of `month` by the tier history, in the
    user's scope (tiers only: "" is everybody else), from `build`."""
    if build is None or month.isoformat() not in build.months:
        return None
    rows = _in_scope(TierMonthFigure.objects.filter(month=month), ScopeRule.of(user))
    if rows is None:
        return None
    return {
        row["tier"]: row["n"]
        for row in rows.order_by().values("tier").annotate(n=Sum("customers"))
        if row["n"]
    }


def moved_between(
    user: User, month_from: datetime.date, month_to: datetime.date, build: FigureBuild | None
) -> Counter[tuple[str, str]] | None:
    """(tier at the end of `month_from`, tier at the end of `month_to`) of the
    customers in the user's scope whose tier changed between the two, counted,
    from `build` ("" no tier)."""
    if build is None or not {month_from.isoformat(), month_to.isoformat()} <= set(build.months):
        return None
    rows = _in_scope(
        TierMigrationFigure.objects.filter(month_from=month_from, month_to=month_to), ScopeRule.of(user)
    )
    if rows is None:
        return None
    grouped = rows.order_by().values("from_tier", "to_tier").annotate(n=Sum("customers"))
    return Counter({(row["from_tier"], row["to_tier"]): row["n"] for row in grouped if row["n"]})


def won_lost_counts(
    user: User, start: datetime.date, end: datetime.date, build: FigureBuild | None
) -> dict[str, int] | None:
    """VIPs registered and liquidated, customers who came into a tier and who
    dropped out of every tier from `start` to `end` in the user's scope, from
    `build` (the days by their index)."""
    if build is None:
        return None
    rows = _in_scope(WonLostDayFigure.objects.filter(day__gte=start, day__lte=end), ScopeRule.of(user))
    if rows is None:
        return None
    sums = rows.aggregate(
        registered=Sum("registered"),
        liquidated=Sum("liquidated"),
        entered=Sum("entered"),
        left=Sum("dropped"),
    )
    return {name: value or 0 for name, value in sums.items()}

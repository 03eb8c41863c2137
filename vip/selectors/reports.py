"""The VIP report: VIP counts and AUM by tier per branch, the migration of customers
between tiers from one month end to another, and VIPs won and lost in a period."""

from __future__ import annotations

import datetime
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import Branch, BranchLevel, User
from accounts.scope import data_scope, visible_branches
from customers.models import Customer

from ..choices import VipStatus
from ..models import FigureBuild, TierChange, TierLevel, VipStatusChange
from .figures import (
    figures_build,
    moved_between,
    scope_customers,
    tiers_at_month_end,
    vips_by_branch,
    won_lost_counts,
)
from .levels import active_levels, tier_label, tier_names


def vip_condition(path: str = "") -> Q:
    """Who counts as a VIP in the reports: a customer holding a tier; a merged record
    counts through its survivor. `path`: the lookup from a row to its customer."""
    prefix = f"{path}__" if path else ""
    return Q(**{f"{prefix}merged_into__isnull": True}) & ~Q(**{f"{prefix}tier": ""})


def _scoped_customers(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).filter(merged_into__isnull=True)


def report_branches(user: User, level: int) -> list[Branch]:
    """The branches the report rolls up to: those of `level` in the user's scope (or
    the user's own branch when it sits below that level)."""
    branches = list(visible_branches(user).filter(level=level).order_by("path"))
    if not branches and data_scope(user).branch is not None:
        branches = [data_scope(user).branch]
    return branches


@dataclass
class BranchReport:
    levels: list[dict[str, Any]]  # the columns: code and name of each tier held
    rows: list[dict[str, Any]]  # branch, per-tier counts and AUM, totals
    totals: dict[str, Any]
    as_of: FigureBuild | None = None  # the kept figures' build read; None: counted live


def _empty_row(branch: Branch, codes: list[str]) -> dict[str, Any]:
    return {
        "branch": branch,
        "tiers": {code: {"n": 0, "aum": Decimal("0")} for code in codes},
        "n": 0,
        "aum": Decimal("0"),
        "registered": 0,
    }


def _totals(rows: list[dict[str, Any]], columns: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's last line: each column's and each figure's sum over the branches."""
    return {
        "cells": [
            {
                "n": sum(r["cells"][i]["n"] for r in rows),
                "aum": sum((r["cells"][i]["aum"] for r in rows), Decimal("0")),
            }
            for i in range(len(columns))
        ],
        "n": sum(r["n"] for r in rows),
        "aum": sum((r["aum"] for r in rows), Decimal("0")),
        "registered": sum(r["registered"] for r in rows),
    }


def vip_by_branch(user: User, level: int = BranchLevel.BRANCH) -> BranchReport:
    """VIP counts and AUM by tier, per branch of `level` (and everything below it)."""
    levels = active_levels()
    names = tier_names()
    branches = report_branches(user, level)
    build = figures_build()
    grouped = vips_by_branch(user) if build is not None else None
    if grouped is None:  # not built, or a client manager's scope: counted live
        build = None
        grouped = (
            _scoped_customers(user)
            .filter(vip_condition())
            .order_by()
            .values("home_branch__path", "tier")
            .annotate(
                n=Count("pk"),
                aum=Sum("aum"),
                registered=Count("pk", filter=Q(vip_status=VipStatus.REGISTERED)),
            )
        )
    codes = [lvl.code for lvl in levels]
    rows: OrderedDict[int, dict[str, Any]] = OrderedDict(
        (branch.pk, _empty_row(branch, codes)) for branch in branches
    )
    other: dict[str, dict[str, Any]] = {}
    for g in grouped:
        owner = next((b for b in branches if (g["home_branch__path"] or "").startswith(b.path)), None)
        if owner is None:
            continue
        row = rows[owner.pk]
        cell = row["tiers"].get(g["tier"])
        if cell is None:  # a withdrawn level still held: its own column
            cell = row["tiers"].setdefault(g["tier"], {"n": 0, "aum": Decimal("0")})
            other[g["tier"]] = {"code": g["tier"], "name": tier_label(g["tier"], names)}
        cell["n"] += g["n"]
        cell["aum"] += g["aum"] or 0
        row["n"] += g["n"]
        row["aum"] += g["aum"] or 0
        row["registered"] += g["registered"]
    columns = [{"code": lvl.code, "name": lvl.name} for lvl in levels] + list(other.values())
    for row in rows.values():
        row["cells"] = [row["tiers"].get(c["code"], {"n": 0, "aum": Decimal("0")}) for c in columns]
    report_rows = list(rows.values())
    return BranchReport(levels=columns, rows=report_rows, totals=_totals(report_rows, columns), as_of=build)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return min(following - datetime.timedelta(days=1), timezone.localdate())


def _last_tiers(changes: QuerySet[TierChange], on: datetime.date) -> QuerySet:
    """(customer_id, to_tier) of each customer's last tier change up to `on`, among
    `changes` (merged records aside: their survivor counts)."""
    merged = Customer.objects.filter(merged_into__isnull=False).values("pk")
    return (
        changes.filter(effective_date__lte=on)
        .exclude(customer_id__in=merged)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("customer_id")],
                order_by=[F("effective_date").desc(), F("id").desc()],
            )
        )
        .filter(rn=1)
        .values("customer_id", "to_tier")
    )


@dataclass
class Matrix:
    month_from: datetime.date
    month_to: datetime.date
    codes: list[str]  # highest tier first, "" (no tier) last
    labels: list[str]
    cells: list[list[int]]  # [from][to]
    row_totals: list[int]
    col_totals: list[int]
    total: int
    as_of: FigureBuild | None = None  # the kept figures' build read; None: counted live


def _migration_counts(
    user: User, date_from: datetime.date, date_to: datetime.date
) -> dict[tuple[str, str], int]:
    """How many customers went from each tier on `date_from` to each tier on
    `date_to` ("" for no tier), customers never changed counted as no tier to no
    tier."""
    counts = _changed_pairs(TierChange.objects.visible_to(user), date_from, date_to)
    never_changed = _scoped_customers(user).count() - sum(counts.values())
    counts[("", "")] = counts.get(("", ""), 0) + max(never_changed, 0)
    return counts


def _kept_migration_counts(
    user: User,
    build: FigureBuild | None,
    month_from: datetime.date,
    month_to: datetime.date,
    date_from: datetime.date,
    date_to: datetime.date,
) -> dict[tuple[str, str], int] | None:
    """The same counts from the kept figures (None when they cannot say): the tiers
    held at the end of the first month (`TierMonthFigure`) stay as they were for
    every customer whose tier did not change since; the customers with a change
    between the two days are counted by the kept migrations (`TierMigrationFigure`)
    or, for a month begun since the build, followed through the history."""
    start = tiers_at_month_end(user, month_from, build)
    total = scope_customers(user) if start is not None else None
    if start is None or total is None:
        return None
    start[""] = total - sum(start.values())
    moved = moved_between(user, month_from, month_to, build)
    if moved is None:
        moved = _moved_pairs(user, date_from, date_to)
    counts = dict(moved)
    for tier, held in start.items():
        # of those holding `tier` then, the ones who moved since are counted above
        stayed = held - sum(n for (before, _after), n in moved.items() if before == tier)
        if stayed > 0:
            counts[(tier, tier)] = counts.get((tier, tier), 0) + stayed
    return counts


def _moved_pairs(user: User, date_from: datetime.date, date_to: datetime.date) -> Counter[tuple[str, str]]:
    """(tier on `date_from`, tier on `date_to`) of the customers in the user's scope
    with a tier change between the two days, counted: their history up to
    `date_to` read at once, oldest change first (a few thousand customers a
    month, by the date index; a join of two windowed histories misleads the
    planner into scanning the history once per customer)."""
    changed = sorted(
        set(
            TierChange.objects.visible_to(user)
            .filter(effective_date__gt=date_from, effective_date__lte=date_to)
            .values_list("customer_id", flat=True)
        )
    )
    if not changed:
        return Counter()
    merged = Customer.objects.filter(merged_into__isnull=False).values("pk")  # a handful: hashed once
    history = (
        TierChange.objects.filter(customer_id__in=changed, effective_date__lte=date_to)
        .exclude(customer_id__in=merged)
        .order_by("customer_id", "effective_date", "id")
        .values_list("customer_id", "effective_date", "to_tier")
    )
    pairs: Counter[tuple[str, str]] = Counter()
    current, before, after = None, "", ""
    for customer_id, day, tier in history:
        if customer_id != current:
            if current is not None:
                pairs[(before, after)] += 1
            current, before, after = customer_id, "", ""
        if day <= date_from:
            before = tier
        after = tier
    if current is not None:
        pairs[(before, after)] += 1
    return pairs


def _changed_pairs(
    changes: QuerySet[TierChange], date_from: datetime.date, date_to: datetime.date
) -> dict[tuple[str, str], int]:
    """(tier on `date_from`, tier on `date_to`) of the customers with a change
    among `changes` up to `date_to`, counted."""
    # The last tier of each customer at each end, as compiled querysets of the
    # changes, joined and counted in SQL.
    counts: dict[tuple[str, str], int] = {}
    try:
        after_sql, after_params = _last_tiers(changes, date_to).query.sql_with_params()
        before_sql, before_params = _last_tiers(changes, date_from).query.sql_with_params()
    except EmptyResultSet:  # a user who may see no customer
        pass
    else:
        sql = f"""SELECT COALESCE(a.to_tier, ''), b.to_tier, COUNT(*)
                    FROM ({after_sql}) b
                    LEFT JOIN ({before_sql}) a ON a.customer_id = b.customer_id
                   GROUP BY COALESCE(a.to_tier, ''), b.to_tier"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [*after_params, *before_params])
            counts = {(f or "", t or ""): n for f, t, n in cursor.fetchall()}
    return counts


def migration_matrix(user: User, month_from: datetime.date, month_to: datetime.date) -> Matrix:
    """How customers moved between tiers from the end of one month to the end of
    another, from the tier history (a customer never changed holds no tier); from
    the kept figures when they hold the first month (`as_of`), else counted live."""
    date_from, date_to = month_end(month_from), month_end(month_to)
    build = figures_build()
    kept = _kept_migration_counts(user, build, month_from, month_to, date_from, date_to)
    counts = kept if kept is not None else _migration_counts(user, date_from, date_to)
    names = tier_names()
    thresholds = dict(TierLevel.objects.values_list("code", "aum_threshold"))
    seen = {code for pair in counts for code in pair if code}
    codes = sorted(seen | {lvl.code for lvl in active_levels()}, key=lambda c: -(thresholds.get(c) or 0)) + [
        ""
    ]
    cells = [[counts.get((f, t), 0) for t in codes] for f in codes]
    return Matrix(
        month_from=month_from,
        month_to=month_to,
        codes=codes,
        labels=[tier_label(c, names) for c in codes],
        cells=cells,
        row_totals=[sum(row) for row in cells],
        col_totals=[sum(cells[i][j] for i in range(len(codes))) for j in range(len(codes))],
        total=sum(sum(row) for row in cells),
        as_of=build if kept is not None else None,
    )


@dataclass
class WonLost:
    start: datetime.date
    end: datetime.date
    registered: int
    liquidated: int
    entered: int  # came into a tier
    left: int  # dropped out of every tier
    rows: list[VipStatusChange]
    as_of: FigureBuild | None = None  # the kept figures' build read; None: counted live


# What the page and the export show of each change listed: read only these.
WON_LOST_COLUMNS = (
    "effective_date",
    "to_status",
    "tier",
    "reason",
    "benefits",
    "customer__customer_no",
    "customer__name",
    "customer__home_branch__name",
)


def _live_won_lost_counts(
    user: User, changes: QuerySet[VipStatusChange], in_period: Callable[[QuerySet], QuerySet]
) -> dict[str, int]:
    counts = dict(changes.order_by().values_list("to_status").annotate(n=Count("pk")))
    tiers = in_period(TierChange.objects.visible_to(user)).aggregate(
        entered=Count("pk", filter=Q(from_tier="") & ~Q(to_tier="")),
        left=Count("pk", filter=Q(to_tier="") & ~Q(from_tier="")),
    )
    return {
        "registered": counts.get(VipStatus.REGISTERED, 0),
        "liquidated": counts.get(VipStatus.LIQUIDATED, 0),
        **tiers,
    }


def won_and_lost(
    user: User,
    start: datetime.date,
    end: datetime.date,
    *,
    in_period: Callable[[QuerySet], QuerySet],
    limit: int = 200,
) -> WonLost:
    """VIPs newly won (registered) and lost (liquidated) between two dates, and the
    customers who came into or dropped out of the tiers, in the user's scope: the
    counts from the kept figures of each day (`as_of`) or counted live, the latest
    changes listed.

    `in_period` narrows a history (VIP status changes, tier changes) to the
    changes effective from `start` to `end`: the report's filters
    (`vip.filters.ReportFilterSet`), applied after the scope."""
    changes = in_period(VipStatusChange.objects.visible_to(user)).filter(
        to_status__in=[VipStatus.REGISTERED, VipStatus.LIQUIDATED],
    )
    build = figures_build()
    counts = won_lost_counts(user, start, end, build)
    if counts is None:
        build, counts = None, _live_won_lost_counts(user, changes, in_period)
    rows = list(
        changes.select_related("customer", "customer__home_branch")
        .only(*WON_LOST_COLUMNS)
        .order_by("-effective_date", "-id")[:limit]
    )
    return WonLost(start=start, end=end, rows=rows, as_of=build, **counts)

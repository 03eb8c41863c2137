"""Progress of marketing tasks, computed from recorded data, never typed in.

A task measures an indicator of the library (`marketing.models.Indicator`); its
progress is the indicator's actuals (`marketing.indicators.actuals`) over the
task's period up to today, each attributed to a manager of record and a branch.
A branch's figure is everything attributed within its subtree.

Everything for one task is read in a fixed number of queries and rolled up the
allocation tree in memory (a task has as many allocations as branches and managers
it reaches, not as many as customers).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Branch

from .indicators import actuals, manager_of_record_on, tier_changes
from .models import MarketingTask, TaskAllocation

__all__ = [
    "AllocationProgress",
    "attributed_rows",
    "gold_or_above_upgrades",
    "is_amount",
    "manager_of_record_on",
    "task_progress",
    "time_elapsed",
]


def gold_or_above_upgrades(period_start: datetime.date, period_end: datetime.date) -> QuerySet:
    """Upgrades in the period from a tier below gold (or none) to gold or above
    (`settings.MARKETING_GOLD_TIER`, default "gold"), as rows of `customer_id` and
    `changed_on` (read through `marketing.indicators.tier_changes`)."""
    gold = getattr(settings, "MARKETING_GOLD_TIER", "gold")
    return (
        tier_changes(period_start, period_end, tier=gold)
        .annotate(changed_on=F("effective_date"))
        .values("customer_id", "changed_on")
    )


def attributed_rows(
    task: MarketingTask, *, today: datetime.date
) -> list[tuple[int | None, int | None, Decimal]]:
    """(manager id, branch id, value) of everything attributed in the task's period
    up to today."""
    until = min(today, task.period_end)
    if until < task.period_start:
        return []
    return [(r.manager_id, r.branch_id, r.value) for r in actuals(task.indicator, task.period_start, until)]


@dataclass
class AllocationProgress:
    allocation: TaskAllocation
    depth: int
    actual: Decimal
    completion: float  # actual / target, 0..
    time_elapsed: float  # share of the period gone, 0..1

    @property
    def ahead(self) -> bool:
        return self.completion >= self.time_elapsed

    @property
    def completion_pct(self) -> int:
        return round(self.completion * 100)

    @property
    def elapsed_pct(self) -> int:
        return round(self.time_elapsed * 100)


def time_elapsed(task: MarketingTask, today: datetime.date) -> float:
    total = (task.period_end - task.period_start).days + 1
    gone = (min(today, task.period_end) - task.period_start).days + 1
    return max(0.0, min(1.0, gone / total))


def task_progress(
    task: MarketingTask,
    *,
    allocations: list[TaskAllocation],
    today: datetime.date | None = None,
    rows: list[tuple[int | None, int | None, Decimal]] | None = None,
) -> list[AllocationProgress]:
    """Progress of the given allocations of a task (loaded with branch and manager),
    in tree order, from `rows` (default: the task's `attributed_rows`). A fixed
    number of queries whatever the size of the tree."""
    today = today or timezone.localdate()
    if rows is None:
        rows = attributed_rows(task, today=today)
    by_manager: dict[int, Decimal] = defaultdict(Decimal)
    by_branch: dict[int, Decimal] = defaultdict(Decimal)
    for manager_id, branch_id, value in rows:
        if manager_id:
            by_manager[manager_id] += value
        if branch_id:
            by_branch[branch_id] += value
    paths = dict(Branch.objects.filter(pk__in=list(by_branch)).values_list("pk", "path"))
    elapsed = time_elapsed(task, today)
    result = []
    depth = _depths(allocations)
    for allocation in _tree_order(allocations):
        if allocation.manager_id:
            actual = by_manager.get(allocation.manager_id, Decimal("0"))
        else:
            branch = allocation.branch
            assert branch is not None  # an allocation is a manager's or a branch's
            root = branch.path
            actual = sum((v for b, v in by_branch.items() if paths.get(b, "").startswith(root)), Decimal("0"))
        completion = float(actual / allocation.target) if allocation.target else 0.0
        result.append(
            AllocationProgress(allocation, depth.get(allocation.pk, 0), actual, completion, elapsed)
        )
    return result


def is_amount(task: MarketingTask) -> bool:
    """The task's figures are amounts of money (the indicator's unit is CNY)."""
    return task.indicator.is_amount


def _depths(allocations: list[TaskAllocation]) -> dict[int, int]:
    parent = {a.pk: a.parent_id for a in allocations}
    depths = {}
    for pk in parent:
        depth, node = 0, parent[pk]
        while node is not None and node in parent:
            depth, node = depth + 1, parent[node]
        depths[pk] = depth
    return depths


def _tree_order(allocations: list[TaskAllocation]) -> list[TaskAllocation]:
    ids = {a.pk for a in allocations}
    children: dict[int | None, list[TaskAllocation]] = defaultdict(list)
    for a in allocations:
        children[a.parent_id if a.parent_id in ids else None].append(a)
    for siblings in children.values():
        siblings.sort(
            key=lambda a: (a.manager_id is not None, a.branch.path if a.branch is not None else "", a.pk)
        )
    ordered: list[TaskAllocation] = []

    def walk(node_id):
        for child in children.get(node_id, []):
            ordered.append(child)
            walk(child.pk)

    walk(None)
    return ordered

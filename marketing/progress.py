"""Progress of marketing tasks, computed from recorded data, never typed in.

| indicator            | counts                                                                        |
|----------------------|-------------------------------------------------------------------------------|
| wealth_sales         | amount of confirmed sales of wealth products (category WEALTH) in the period   |
| sales_amount         | amount of confirmed sales of any product in the period                        |
| new_payroll          | customers whose first payroll-product account (Product.is_payroll) opened in  |
|                      | the period                                                                    |
| new_gold_vips        | customers upgraded from below gold to gold or above in the period             |

A sale counts once core banking has reported its account (`Sale.account`); it counts
for the manager of record on the sale date and that manager's branch (`sales.py`).
A tier change counts for the manager of record on the day it took effect. A branch's
figure is everything attributed within its subtree.

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
from django.db.models import Aggregate, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Branch, User
from customers.choices import AccountCategory
from customers.models import Account, Customer, CustomerAssignment

from .choices import AMOUNT_INDICATORS, TaskIndicator
from .models import MarketingTask, Product, Sale, TaskAllocation


def gold_or_above_upgrades(period_start: datetime.date, period_end: datetime.date) -> QuerySet:
    """THE one place marketing reads tier changes (the VIP app's history,
    `vip.models.TierChange`): upgrades in the period from a tier below gold (or
    none) to gold or above, as rows of `customer_id` and `changed_on`. "Gold or
    above" are the active tier levels whose AUM threshold is at least that of the
    level `settings.MARKETING_GOLD_TIER` (default "gold"); with no such level,
    nothing counts."""
    from vip.models import TierChange, TierLevel

    gold = getattr(settings, "MARKETING_GOLD_TIER", "gold")
    gold_threshold = TierLevel.objects.filter(code=gold).values("aum_threshold")[:1]
    high = TierLevel.objects.filter(aum_threshold__gte=Subquery(gold_threshold)).values("code")
    return (
        TierChange.objects.filter(effective_date__gte=period_start, effective_date__lte=period_end)
        .filter(to_tier__in=high)
        .exclude(from_tier__in=high)
        .annotate(changed_on=F("effective_date"))
        .values("customer_id", "changed_on")
    )


def manager_of_record_on(date_field: str):
    """Subquery: the customer's manager of record on the row's `date_field`."""
    return Subquery(
        CustomerAssignment.objects.filter(
            customer_id=OuterRef("customer_id"), role="primary", start_date__lte=OuterRef(date_field)
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=OuterRef(date_field)))
        .order_by("-start_date", "-id")
        .values("manager_id")[:1]
    )


def _sale_rows(task: MarketingTask, until: datetime.date) -> list[tuple[int | None, int, Decimal]]:
    sales = Sale.objects.filter(sale_date__gte=task.period_start, sale_date__lte=until, account__isnull=False)
    if task.indicator == TaskIndicator.WEALTH_SALES_AMOUNT:
        sales = sales.filter(category=AccountCategory.WEALTH)
    if task.indicator == TaskIndicator.NEW_PAYROLL_CUSTOMERS:
        payroll_codes = Product.objects.filter(is_payroll=True).values("code")
        earlier = Account.objects.filter(
            customer_id=OuterRef("customer_id"),
            product_code__in=payroll_codes,
            open_date__lt=task.period_start,
        )
        sales = sales.filter(product__is_payroll=True).exclude(Exists(earlier))
        value: Aggregate = Count("customer_id", distinct=True)
    else:
        value = Sum("amount")
    rows = sales.values("manager_id", "branch_id").annotate(value=value).order_by()
    return [(r["manager_id"], r["branch_id"], Decimal(r["value"] or 0)) for r in rows]


def _upgrade_rows(task: MarketingTask, until: datetime.date) -> list[tuple[int | None, int, Decimal]]:
    upgrades = gold_or_above_upgrades(task.period_start, until).annotate(
        manager_id_then=manager_of_record_on("effective_date")
    )
    home = Customer.objects.filter(pk=OuterRef("customer_id")).values("home_branch_id")[:1]
    manager_branch = User.objects.filter(pk=OuterRef("manager_id_then")).values("branch_id")[:1]
    rows = (
        upgrades.annotate(branch_id_then=Coalesce(Subquery(manager_branch), Subquery(home)))
        .values("manager_id_then", "branch_id_then")
        .annotate(value=Count("customer_id", distinct=True))
        .order_by()
    )
    return [(r["manager_id_then"], r["branch_id_then"], Decimal(r["value"])) for r in rows]


def attributed_rows(task: MarketingTask, *, today: datetime.date) -> list[tuple[int | None, int, Decimal]]:
    """(manager id, branch id, value) of everything attributed in the task's period
    up to today."""
    until = min(today, task.period_end)
    if until < task.period_start:
        return []
    if task.indicator == TaskIndicator.NEW_GOLD_VIPS:
        return _upgrade_rows(task, until)
    return _sale_rows(task, until)


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
    task: MarketingTask, *, allocations: list[TaskAllocation], today: datetime.date | None = None
) -> list[AllocationProgress]:
    """Progress of the given allocations of a task (loaded with branch and manager),
    in tree order. Three queries whatever the size of the tree."""
    today = today or timezone.localdate()
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
    return task.indicator in AMOUNT_INDICATORS


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

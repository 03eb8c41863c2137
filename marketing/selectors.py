"""Reads of the marketing area. Every read starts from its model's
`objects.visible_to(user)` (marketing.querysets): anything about customers
(targets, contacts, opportunities, sales, dashboards) is held to the customer data
scope; org figures to `visible_branches(user)`. A list function also takes the rows
a view already holds narrowed (`core.views.ScopedView`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.scope import has_role
from core.db import read_with
from customers.models import Customer
from customers.panels import PanelItem

from .choices import OPEN_STAGES, OPEN_TARGET_STATUSES, CampaignStatus, TargetStatus, TaskStatus
from .models import (
    Campaign,
    CampaignTarget,
    MarketingContact,
    MarketingTask,
    Opportunity,
    Product,
    Sale,
    Segment,
    TaskAllocation,
)
from .segments import segment_customers

SAMPLE_SIZE = 10


# --- catalogue and segments ------------------------------------------------------------


def product_list(*, on_sale_only: bool = False) -> QuerySet[Product]:
    products = Product.objects.prefetch_related("promotions").order_by("category", "code")
    if on_sale_only:
        products = on_sale(products, on=timezone.localdate())
    return products


def on_sale(products: QuerySet[Product], *, on: datetime.date) -> QuerySet[Product]:
    """The active products whose sale period includes the day."""
    return products.filter(is_active=True).filter(
        Q(sale_start__isnull=True) | Q(sale_start__lte=on),
        Q(sale_end__isnull=True) | Q(sale_end__gte=on),
    )


def segment_list(*, user, segments: QuerySet[Segment] | None = None) -> QuerySet[Segment]:
    """Segments the user may see (their own and head office's, or all)."""
    if segments is None:
        segments = Segment.objects.visible_to(user)
    return segments.select_related("owner")


@dataclass(frozen=True)
class SegmentPreview:
    count: int
    sample: list[Customer]


def _count(customers: QuerySet[Customer]) -> int:
    """One counting statement, run without JIT compilation (at a million customers
    a segment's plan costs enough to trigger it, and compiling takes longer than it
    saves on a count)."""
    with read_with(jit="off"):
        return customers.count()


def segment_count(rules: dict[str, Any], *, user, today: datetime.date | None = None) -> int:
    """How many customers of the user's scope a segment holds."""
    return _count(segment_customers(rules, user=user, today=today))


def segment_preview(rules: dict[str, Any], *, user, sample: int = SAMPLE_SIZE) -> SegmentPreview:
    """The live count (one statement) and the largest customers by AUM as a sample."""
    customers = segment_customers(rules, user=user)
    return SegmentPreview(
        count=_count(customers),
        sample=list(
            customers.select_related("home_branch", "primary_manager").order_by("-aum", "-id")[:sample]
        ),
    )


# --- campaigns ------------------------------------------------------------------------


def campaign_list(
    *, user, status: str = "", campaigns: QuerySet[Campaign] | None = None
) -> QuerySet[Campaign]:
    if campaigns is None:
        campaigns = Campaign.objects.visible_to(user)
    campaigns = campaigns.select_related("segment", "created_by")
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns.order_by("-start_date", "-id")


def campaign_targets(
    campaign: Campaign, *, user, targets: QuerySet[CampaignTarget] | None = None
) -> QuerySet[CampaignTarget]:
    """Every member of the campaign in the user's scope, targets and excluded alike
    (`marketing.filters.CampaignTargetFilter` tells them apart), by branch and
    manager."""
    if targets is None:
        targets = CampaignTarget.objects.visible_to(user)
    return (
        targets.filter(campaign=campaign)
        .select_related("customer", "manager", "branch")
        .order_by("branch__path", "manager_id", "id")
    )


def target_contacts(target: CampaignTarget) -> QuerySet[MarketingContact]:
    return (
        MarketingContact.objects.filter(target=target)
        .select_related("manager", "via")
        .order_by("-occurred_at")
    )


def open_targets(*, user, targets: QuerySet[CampaignTarget] | None = None) -> QuerySet[CampaignTarget]:
    """A client manager's campaign targets still to work, in running campaigns."""
    if targets is None:
        targets = CampaignTarget.objects.visible_to(user)
    return targets.filter(
        campaign__status=CampaignStatus.RUNNING,
        excluded_reason="",
        status__in=OPEN_TARGET_STATUSES,
        customer__primary_manager=user,
    )


def customer_campaigns(customer: Customer, user) -> list[PanelItem]:
    """The 360 view's panel: running campaigns that target this customer (the
    customer is already in the viewer's scope), with where the target stands. One
    query."""
    targets = (
        CampaignTarget.objects.filter(
            customer=customer, campaign__status=CampaignStatus.RUNNING, excluded_reason=""
        )
        .select_related("campaign")
        .order_by("campaign__end_date", "campaign_id")[:10]
    )
    may_open = user.has_perm("marketing.view_campaigntarget")
    return [
        PanelItem(
            t.campaign.name,
            url=reverse("marketing:target_detail", args=[t.pk]) if may_open else "",
            when=t.campaign.end_date,
            note=str(t.get_status_display()),
        )
        for t in targets
    ]


def _system_or_visible(model, user) -> QuerySet:
    """The rows the user may see; with no user (the campaign's own evaluation, run
    by the system), every row."""
    return model.objects.all() if user is None else model.objects.visible_to(user)


def campaign_funnel(campaign: Campaign, *, user) -> dict[str, Any]:
    """Targets → contacted → interested → converted, the converted amount and the
    cost per conversion, within the user's scope (None: the whole campaign). A
    target is converted when a sale is linked to it; interested when its latest
    outcome is interested or it converted."""
    targets = _system_or_visible(CampaignTarget, user).filter(campaign=campaign)
    figures = targets.aggregate(
        targets=Count("pk", filter=Q(excluded_reason="")),
        excluded=Count("pk", filter=~Q(excluded_reason="")),
        contacted=Count("pk", filter=Q(excluded_reason="", contact_count__gt=0)),
        interested=Count(
            "pk", filter=Q(excluded_reason="", status__in=[TargetStatus.INTERESTED, TargetStatus.CONVERTED])
        ),
    )
    sales = (
        _system_or_visible(Sale, user)
        .filter(campaign=campaign)
        .aggregate(
            converted=Count("target_id", distinct=True, filter=Q(account__isnull=False)),
            amount=Sum("amount", filter=Q(account__isnull=False)),
            pending=Count("pk", filter=Q(account__isnull=True)),
        )
    )
    figures.update(
        converted=sales["converted"], amount=sales["amount"] or Decimal("0"), pending=sales["pending"]
    )
    cost = campaign.actual_cost if campaign.actual_cost is not None else campaign.budget
    figures["cost"] = cost
    figures["cost_per_conversion"] = (
        (cost / figures["converted"]).quantize(Decimal("0.01")) if figures["converted"] else None
    )
    figures["conversion_rate"] = (
        round(100 * figures["converted"] / figures["targets"], 1) if figures["targets"] else 0.0
    )
    return figures


def campaign_breakdown(campaign: Campaign, *, user, by: str) -> list[dict[str, Any]]:
    """The funnel per branch or per manager (the target's manager of record when
    the list was frozen), with converted counts and amounts from the linked sales.
    Two grouped queries."""
    key = "branch" if by == "branch" else "manager"
    targets = CampaignTarget.objects.visible_to(user).filter(campaign=campaign, excluded_reason="")
    rows = {
        r[f"{key}_id"]: r
        for r in targets.values(f"{key}_id")
        .annotate(
            targets=Count("pk"),
            contacted=Count("pk", filter=Q(contact_count__gt=0)),
            interested=Count("pk", filter=Q(status__in=[TargetStatus.INTERESTED, TargetStatus.CONVERTED])),
        )
        .order_by()
    }
    sales = (
        Sale.objects.visible_to(user)
        .filter(campaign=campaign, account__isnull=False)
        .values(f"target__{key}_id")
        .annotate(converted=Count("target_id", distinct=True), amount=Sum("amount"))
        .order_by()
    )
    for s in sales:
        row = rows.setdefault(
            s[f"target__{key}_id"],
            {f"{key}_id": s[f"target__{key}_id"], "targets": 0, "contacted": 0, "interested": 0},
        )
        row["converted"], row["amount"] = s["converted"], s["amount"]
    names = _names(key, [k for k in rows if k is not None])
    result = []
    for pk, row in rows.items():
        row.setdefault("converted", 0)
        row.setdefault("amount", Decimal("0"))
        row["label"] = names.get(pk, "—")
        row["conversion_rate"] = round(100 * row["converted"] / row["targets"], 1) if row["targets"] else 0.0
        result.append(row)
    return sorted(result, key=lambda r: (-r["converted"], -(r["amount"] or 0), r["label"]))


def _names(key: str, ids: list[int]) -> dict[int, str]:
    from accounts.models import Branch

    if key == "branch":
        return {
            pk: f"{code} {name}"
            for pk, code, name in Branch.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    return {
        pk: f"{name} ({no})"
        for pk, name, no in User.objects.filter(pk__in=ids).values_list("pk", "display_name", "employee_no")
    }


# --- opportunities and sales -------------------------------------------------------------


def opportunity_list(
    *, user, open_only: bool = True, opportunities: QuerySet[Opportunity] | None = None
) -> QuerySet[Opportunity]:
    """Opportunities of the user's scope (a client manager's own), soonest first."""
    if opportunities is None:
        opportunities = Opportunity.objects.visible_to(user)
    if open_only:
        opportunities = opportunities.filter(stage__in=OPEN_STAGES)
    return opportunities.select_related("customer", "product", "campaign", "manager").order_by(
        "expected_close_date", "id"
    )


def sale_list(*, user, since: datetime.date | None = None) -> QuerySet[Sale]:
    sales = Sale.objects.visible_to(user)
    if since:
        sales = sales.filter(sale_date__gte=since)
    return sales.select_related("customer", "product", "manager", "branch", "campaign").order_by(
        "-sale_date", "-id"
    )


# --- marketing tasks ----------------------------------------------------------------------


def task_list(*, user, tasks: QuerySet[MarketingTask] | None = None) -> QuerySet[MarketingTask]:
    """Tasks the user may see: all for head office, issued ones holding a share of
    their scope for everyone else."""
    if tasks is None:
        tasks = MarketingTask.objects.visible_to(user)
    return tasks.select_related("created_by")


def task_allocations(task: MarketingTask, *, user) -> list[TaskAllocation]:
    """The allocations of a task the user may see: all for head office, the
    subtree's for a branch head, their own for a client manager."""
    return list(
        TaskAllocation.objects.visible_to(user)
        .filter(task=task)
        .select_related("branch", "manager", "manager__branch", "responded_by")
        .order_by("pk")
    )


def allocations_waiting_for(user) -> QuerySet[TaskAllocation]:
    """Shares of issued tasks waiting for this user's answer."""
    mine = Q(manager=user)
    if user.branch_id and has_role(user, Role.BRANCH_HEAD):
        mine |= Q(branch_id=user.branch_id, parent__isnull=False)
    return TaskAllocation.objects.filter(
        mine, status="pending", task__status=TaskStatus.ISSUED
    ).select_related("task")

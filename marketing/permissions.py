"""Fetching one object of marketing for a user: the only way its views get a
campaign, a campaign target, an opportunity, a task, a share of a task or a segment
(a customer comes from `customers.permissions.access_customer`).

Each `access_<thing>(user, key, *, for_change)` reads through the object's
`visible_to(user)`: an object outside the user's scope does not exist for them (404,
never 403). A user whose role may not see such objects at all (or, `for_change`,
act on them) is refused (403). The services decide the rest when they write (who
may approve, whose opportunity it is...)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Campaign, CampaignTarget, Indicator, MarketingTask, Opportunity, Segment, TaskAllocation


def _require_any(user, *permissions: str) -> None:
    if not any(user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def access_campaign(user, pk: int, *, for_change: bool) -> Campaign:
    """A campaign the user may see; to change it or move it along its flow, the user
    may change, approve or run campaigns."""
    if for_change:
        _require_any(
            user, "marketing.change_campaign", "marketing.approve_campaign", "marketing.run_campaign"
        )
    else:
        _require_any(user, "marketing.view_campaign")
    campaigns = Campaign.objects.visible_to(user).select_related("segment", "created_by")
    return get_object_or_404(campaigns.prefetch_related("products"), pk=pk)


def access_target(user, pk: int, *, for_change: bool) -> CampaignTarget:
    """A campaign target whose customer is in the user's scope; to work it (log a
    contact, open an opportunity), the user may do either."""
    if for_change:
        _require_any(user, "marketing.add_marketingcontact", "marketing.add_opportunity")
    else:
        _require_any(user, "marketing.view_campaigntarget")
    targets = CampaignTarget.objects.visible_to(user).select_related("campaign", "customer", "manager")
    return get_object_or_404(targets, pk=pk)


def access_opportunity(user, pk: int, *, for_change: bool) -> Opportunity:
    """An opportunity of the user's scope (a client manager's own); changing one is
    for its owner or head office (the service checks which)."""
    _require_any(user, "marketing.change_opportunity" if for_change else "marketing.view_opportunity")
    opportunities = Opportunity.objects.visible_to(user).select_related(
        "customer", "product", "campaign", "manager"
    )
    return get_object_or_404(opportunities, pk=pk)


def access_task(user, pk: int, *, for_change: bool) -> MarketingTask:
    """A marketing task the user may see; changing one (issuing it) is head office's."""
    _require_any(user, "marketing.add_marketingtask" if for_change else "marketing.view_marketingtask")
    return get_object_or_404(MarketingTask.objects.visible_to(user).select_related("created_by"), pk=pk)


def access_allocation(user, pk: int, *, for_change: bool) -> TaskAllocation:
    """A share of a task the user may see; acting on one (decomposing it, accepting
    or returning it) needs one of those permissions (the service checks whose share
    it is)."""
    if for_change:
        _require_any(user, "marketing.decompose_marketingtask", "marketing.respond_marketingtask")
    else:
        _require_any(user, "marketing.view_marketingtask")
    allocations = TaskAllocation.objects.visible_to(user).select_related("task", "branch")
    return get_object_or_404(allocations, pk=pk)


def access_segment(user, pk: int, *, for_change: bool) -> Segment:
    """A segment the user may see (their own and head office's, or all)."""
    _require_any(user, "marketing.change_segment" if for_change else "marketing.view_segment")
    return get_object_or_404(Segment.objects.visible_to(user).select_related("owner"), pk=pk)


def access_indicator(user, pk: int, *, for_change: bool) -> Indicator:
    """An indicator of the library. It holds no customer data: everyone who may
    read the library sees every indicator; changing one is head office's."""
    _require_any(user, "marketing.change_indicator" if for_change else "marketing.view_indicator")
    return get_object_or_404(Indicator, pk=pk)

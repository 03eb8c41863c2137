"""The home-page widgets of marketing (core.widgets): a client manager's campaign
targets and task shares to follow up, the campaigns running for head office, and
what waits for a decision (submitted campaigns, product changes, contact policies)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from core import widgets
from core.widgets import DECISION, PARAMETER, PendingSource, Widget

from .choices import AllocationStatus, CampaignStatus, PolicyStatus, TargetStatus

SHOWN = 5


def _follow_up(user, day: datetime.date) -> dict[str, Any]:
    """Open targets of running campaigns (one aggregate) and the user's own shares
    of issued tasks still waiting for acceptance or being worked (one query)."""
    from .models import TaskAllocation
    from .selectors import open_targets

    targets = open_targets(user=user).aggregate(
        count=Count("pk"), interested=Count("pk", filter=Q(status=TargetStatus.INTERESTED))
    )
    shares = list(
        TaskAllocation.objects.visible_to(user)
        .filter(manager=user, status__in=(AllocationStatus.PENDING, AllocationStatus.ACCEPTED))
        .filter(task__period_end__gte=day)
        .select_related("task", "task__indicator")
        .order_by("task__period_end", "pk")[:SHOWN]
    )
    return {**targets, "shares": shares}


def _running(user, day: datetime.date) -> dict[str, Any]:
    from .models import Campaign

    running = Campaign.objects.visible_to(user).filter(status=CampaignStatus.RUNNING)
    return {
        "campaigns": list(running.only("name", "end_date").order_by("end_date", "pk")[:SHOWN]),
        "count": running.count(),
    }


def _campaigns_submitted(user) -> int:
    from .models import Campaign

    return Campaign.objects.filter(status=CampaignStatus.SUBMITTED).exclude(proposed_by=user).count()


def _product_changes(user) -> int:
    from core.approvals import ApprovalStatus

    from .models import ProductChange

    return ProductChange.objects.filter(status=ApprovalStatus.PENDING).exclude(proposed_by=user).count()


def _contact_policies(user) -> int:
    from .models import ContactPolicy

    return ContactPolicy.objects.filter(status=PolicyStatus.PROPOSED).exclude(proposed_by=user).count()


FOLLOW_UP = widgets.register(
    Widget(
        key="targets",
        title=_("Targets to follow up"),
        template="crm_portal/widgets/targets.html",
        app="marketing",
        defaults={Role.CLIENT_MANAGER: 40},
        permission="marketing.add_marketingcontact",
        context=_follow_up,
    )
)
RUNNING = widgets.register(
    Widget(
        key="campaigns_running",
        title=_("Campaigns running"),
        template="crm_portal/widgets/campaigns_running.html",
        app="marketing",
        defaults={Role.BUSINESS_MANAGER: 20},
        permission="marketing.view_campaign",
        context=_running,
    )
)
widgets.register_pending(
    PendingSource(
        key="marketing.campaigns",
        label=_("Campaigns submitted"),
        kind=DECISION,
        url_name="marketing:campaign_list",
        count=_campaigns_submitted,
        permission="marketing.approve_campaign",
    )
)
widgets.register_pending(
    PendingSource(
        key="marketing.product_changes",
        label=_("Product changes"),
        kind=PARAMETER,
        url_name="admin:marketing_productchange_changelist",
        count=_product_changes,
        permission="marketing.approve_productchange",
    )
)
widgets.register_pending(
    PendingSource(
        key="marketing.contact_policies",
        label=_("Contact-frequency policies"),
        kind=PARAMETER,
        url_name="admin:marketing_contactpolicy_changelist",
        count=_contact_policies,
        permission="marketing.approve_contactpolicy",
    )
)

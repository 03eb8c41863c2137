"""VIPs to be won, as far as the user may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from ..models import VipProspect


def prospect_list(*, user: User, prospects: QuerySet[VipProspect] | None = None) -> QuerySet[VipProspect]:
    """Client managers see their own prospects; branch heads their branches';
    head office all (`VipProspect.objects.visible_to`), open ones first."""
    if prospects is None:
        prospects = VipProspect.objects.visible_to(user)
    return prospects.select_related("manager", "branch", "customer").order_by("status", "-created_at")

"""VIPs to be won, as far as the user may see them."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import User

from ..choices import ProspectStatus
from ..models import VipProspect

# Open prospects first, then won, then lost.
STATUS_RANK = Case(
    When(status=ProspectStatus.OPEN, then=Value(0)),
    When(status=ProspectStatus.WON, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def prospect_list(*, user: User, prospects: QuerySet[VipProspect] | None = None) -> QuerySet[VipProspect]:
    """Client managers see their own prospects; branch heads their branches';
    head office all (`VipProspect.objects.visible_to`), open ones first, then won,
    then lost (`status_rank`), the newest first."""
    if prospects is None:
        prospects = VipProspect.objects.visible_to(user)
    return (
        prospects.select_related("manager", "branch", "customer")
        .annotate(status_rank=STATUS_RANK)
        .order_by("status_rank", "-created_at", "-pk")
    )

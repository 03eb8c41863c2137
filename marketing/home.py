"""The client manager's home panel: campaign targets still to work (one query)."""

from django.db.models import Count, Q

from .choices import TargetStatus
from .selectors import open_targets


def open_targets_panel(user) -> dict:
    return open_targets(user=user).aggregate(
        count=Count("pk"), interested=Count("pk", filter=Q(status=TargetStatus.INTERESTED))
    )

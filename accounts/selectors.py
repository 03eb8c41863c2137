"""Reads about users and the audit trail, always narrowed to what the reader may see."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEvent, User
from .scope import ScopeKind, data_scope, visible_branches


def user_list(*, viewer: User, q: str = "", status: str = "", role: str = "") -> QuerySet[User]:
    """Users the viewer may see: head office all, others those of their branches."""
    users = User.objects.select_related("branch").prefetch_related("groups")
    if data_scope(viewer).kind is not ScopeKind.ALL:
        users = users.filter(branch__in=visible_branches(viewer))
    if q:
        users = users.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(employee_no__iexact=q)
        )
    if status:
        users = users.filter(status=status)
    if role:
        users = users.filter(groups__name=role)
    return users.order_by("status", "username").distinct()


def audit_event_list(
    *,
    action: str = "",
    actor: str = "",
    target: str = "",
    date_from=None,
    date_to=None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_username=actor)
    if target:
        events = events.filter(Q(target_id=target) | Q(target_repr__icontains=target))
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        events = events.filter(occurred_at__lte=datetime.combine(date_to, time.max, tz))
    return events

"""Reads about users, always narrowed to what the reader may see (the audit trail's
reads are in audit_selectors)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import User
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

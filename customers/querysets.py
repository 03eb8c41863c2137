"""The customer data scope: the one function that says which customers a user may
see. Every list, search, 360 view, export, API call and report starts here."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Branch
from accounts.scope import ScopeKind, data_scope


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> CustomerQuerySet:
        """Head-office roles: every customer. Branch head: customers of their branch
        subtree. Client manager: customers whose manager of record they are, plus
        customers explicitly shared with them (unexpired grants). Anyone else: none."""
        scope = data_scope(user)
        if scope.kind is ScopeKind.ALL:
            return self.all()
        if scope.kind is ScopeKind.SUBTREE:
            # The branch ids as constants (a subtree is at most a few thousand
            # branches): the planner then knows how many customers they hold and
            # leads with the search index, instead of a bitmap of the whole branch.
            branch_ids = list(Branch.objects.subtree(scope.branch).values_list("pk", flat=True))
            return self.filter(home_branch_id__in=branch_ids)
        if scope.kind is ScopeKind.OWN:
            # Grants as constants too (a handful at most): "manager = me" alone then
            # drives the manager's AUM-ordered index.
            granted = getattr(user, "_granted_customer_cache", None)
            if granted is None:  # read once per request (the user object lives as long)
                granted = list(granted_customer_ids(user).values_list("content_object_id", flat=True))
                user._granted_customer_cache = granted
            if not granted:
                return self.filter(primary_manager=user)
            return self.filter(Q(primary_manager=user) | Q(pk__in=granted))
        return self.none()


def granted_customer_ids(user) -> models.QuerySet:
    """Customers shared with the user through an unexpired django-guardian grant."""
    from .models import CustomerUserObjectPermission

    now = timezone.now()
    return (
        CustomerUserObjectPermission.objects.filter(
            user=user, permission__codename="view_customer", permission__content_type__app_label="customers"
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("content_object_id")
    )

"""What of the VIP area a user may see, on the customer data scope
(`customers.querysets`): tier and VIP-status history, overrides and transfers are
rows holding a customer (`CustomerHeldQuerySet`); prospects add a rule of their
own to it."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.querysets import CustomerHeldQuerySet


class VipProspectQuerySet(CustomerHeldQuerySet):
    """A prospect is mostly not a customer yet: client managers see their own,
    branch heads their branches', head office all; one linked to a customer shows
    only while that customer is in the user's scope."""

    customerless_visible = True

    def visible_to(self, user) -> QuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.NONE:
            return self.none()
        prospects = super().visible_to(user)
        if scope.kind is ScopeKind.OWN:
            return prospects.filter(manager=user)
        if scope.kind is ScopeKind.SUBTREE:
            return prospects.filter(Q(branch__in=visible_branches(user)))
        return prospects

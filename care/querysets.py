"""What of keeping close a user may see, on the customer data scope
(`customers.querysets`)."""

from __future__ import annotations

from typing import cast

from django.db.models import Q

from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.querysets import CustomerHeldQuerySet


class AlertQuerySet(CustomerHeldQuerySet):
    """An alert is its assignee's: a client manager sees the alerts assigned to them
    (about a customer they may still see, or about no customer); a branch head sees
    their own and those of the branches under them (the team's); head office all."""

    customerless_visible = True

    def visible_to(self, user) -> AlertQuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.NONE:
            return self.none()
        alerts = cast(AlertQuerySet, super().visible_to(user))
        if scope.kind is ScopeKind.OWN:
            return alerts.filter(assignee=user)
        if scope.kind is ScopeKind.SUBTREE:
            return alerts.filter(Q(assignee=user) | Q(branch__in=visible_branches(user)))
        return alerts

    def open(self) -> AlertQuerySet:
        """Not closed (snoozed ones included)."""
        from .choices import AlertStatus

        return self.filter(status__in=(AlertStatus.OPEN, AlertStatus.SNOOZED))

    def awake(self, day) -> AlertQuerySet:
        """Open on `day`: open, or snoozed until `day` or before (a snooze ends by
        itself on its date; no job wakes it)."""
        from .choices import AlertStatus

        return self.filter(Q(status=AlertStatus.OPEN) | Q(status=AlertStatus.SNOOZED, snoozed_until__lte=day))

    def asleep(self, day) -> AlertQuerySet:
        """Snoozed past `day`: hidden from the lists of open alerts until then."""
        from .choices import AlertStatus

        return self.filter(status=AlertStatus.SNOOZED, snoozed_until__gt=day)

    def closed(self) -> AlertQuerySet:
        from .choices import AlertStatus

        return self.filter(status__in=(AlertStatus.DONE, AlertStatus.DISMISSED))

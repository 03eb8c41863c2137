"""What of keeping close a user may see, on the customer data scope
(`customers.querysets`)."""

from __future__ import annotations

from typing import cast

from django.db.models import Exists, OuterRef, Q

from accounts.scope import ScopeKind, data_scope
from customers.models import Customer
from customers.querysets import CustomerHeldQuerySet, ScopeRule, customer_scope


class AlertQuerySet(CustomerHeldQuerySet):
    """An alert is its assignee's: a client manager sees the alerts assigned to them
    (about a customer they may still see, or about no customer); a branch head sees
    their own and those of the branches under them (the team's); head office all."""

    customerless_visible = True

    def scope_condition(self, user) -> Q | None:
        """No customer, or a customer the user may see, the latter as "EXISTS (that
        customer, by primary key, within the scope)" rather than a join: under the OR
        with "no customer" a join cannot take the scope's condition into the customer
        table, and PostgreSQL may then join the alerts to every customer (a hash join
        over the whole table, as it does at 20,000 customers). The EXISTS keeps the
        alerts the other conditions leave (the assignee's, the branches') as the
        driving side: one primary-key probe each, or one read of the scope's customers
        where that is cheaper."""
        condition = customer_scope(user)
        if condition is None or not condition:  # nothing, or the whole bank
            return condition
        visible = Customer.objects.filter(condition, pk=OuterRef(self.customer_path))
        return Q(**{f"{self.customer_path}__isnull": True}) | Q(Exists(visible))

    def visible_to(self, user) -> AlertQuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.NONE:
            return self.none()
        alerts = cast(AlertQuerySet, super().visible_to(user))
        if scope.kind is ScopeKind.OWN:
            return alerts.filter(assignee=user)
        if scope.kind is ScopeKind.SUBTREE:
            # the subtree's branch ids as constants (read once per request), not a
            # subquery: "assignee = me OR branch = ANY(ids)" is then two index scans
            # rather than a filter on every alert of the bank
            return alerts.filter(Q(assignee=user) | Q(branch_id__in=ScopeRule.of(user).branch_ids))
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

"""What of keeping close a user may see, on the customer data scope
(`customers.querysets`)."""

from __future__ import annotations

from typing import cast

from django.db import connections
from django.db.models import Exists, OuterRef, Q

from accounts.scope import ScopeKind, data_scope
from customers.models import Customer
from customers.querysets import CustomerHeldQuerySet, ScopeRule


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
        where that is cheaper.

        A branch head sees the alerts about a customer of the subtree (whoever's they
        are), and those about no customer that are their own or of a branch of the
        subtree (a team's)."""
        rule = ScopeRule.of(user)
        condition = rule.condition()
        if condition is None or not condition:  # nothing, or the whole bank
            return condition
        # the subtree's branch ids as constants (read once per request), not a
        # subquery: "branch = ANY(ids)" is then an index scan rather than a filter
        # on every alert of the bank
        of_subtree = Q(branch_id__in=rule.branch_ids)
        if rule.kind is ScopeKind.SUBTREE and self._branch_is_the_customer_s():
            # The alert's branch in the subtree is its customer in the subtree: read
            # from the alert's own index rather than probing the customer of each of
            # a branch's alerts (1.3 s a statement for a head over a million
            # customers). An alert of the head's own outside the subtree is then about
            # no customer (one about a customer there is at that customer's branch):
            # a handful at most (a head who moved), named by id, so that a statement
            # with none is the branch index alone (a count over a branch's 460,000
            # alerts in 37 ms from the index, 149 ms with "OR assignee = me").
            elsewhere = self._own_elsewhere(user, rule.branch_ids)
            return of_subtree | Q(pk__in=elsewhere) if elsewhere else of_subtree
        visible = Q(Exists(Customer.objects.filter(condition, pk=OuterRef(self.customer_path))))
        customerless = Q(**{f"{self.customer_path}__isnull": True})
        if rule.kind is ScopeKind.SUBTREE:
            return (customerless & (of_subtree | Q(assignee=user))) | visible
        return customerless | visible

    def _own_elsewhere(self, user, branch_ids: tuple[int, ...]) -> list[int]:
        """The ids of the user's own alerts about no customer filed under no branch
        of `branch_ids` (or none), read once per request (the user object lives as
        long; a page reads alerts several times)."""
        cached = getattr(user, "_own_alerts_elsewhere_cache", None)
        if cached is None or cached[0] != branch_ids:
            rows = (
                self.model._default_manager.using(self.db)
                .filter(assignee=user, **{f"{self.customer_path}__isnull": True})
                .exclude(branch_id__in=branch_ids)
                .values_list("pk", flat=True)
            )
            cached = (branch_ids, list(rows))
            user._own_alerts_elsewhere_cache = cached
        return cached[1]

    def _branch_is_the_customer_s(self) -> bool:
        """Whether the database keeps every alert about a customer at the customer's
        home branch, through a move too: PostgreSQL's triggers do (migration
        care/0006_alert_branch_follows_customer); SQLite keeps none."""
        return connections[self.db].vendor == "postgresql"

    def visible_to(self, user) -> AlertQuerySet:
        alerts = cast(AlertQuerySet, super().visible_to(user))
        if data_scope(user).kind is ScopeKind.OWN:
            return alerts.filter(assignee=user)
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

"""What of marketing a user may see. Rows about a customer (targets, contacts,
opportunities, sales, profiles) are held to the customer data scope
(`customers.querysets.CustomerHeldQuerySet`); campaigns, tasks and segments, which
hold no customer, have a rule of their own here, under the same `visible_to(user)`."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.querysets import CustomerHeldQuerySet

from .choices import CampaignStatus, TaskStatus

# Statuses a campaign is visible in outside head office (it has, or had, targets).
LIVE_STATUSES = (CampaignStatus.RUNNING, CampaignStatus.CLOSED, CampaignStatus.EVALUATED)
# Statuses a task is visible in outside head office (issued to the org tree).
ISSUED_STATUSES = (TaskStatus.ISSUED, TaskStatus.CLOSED)


class OpportunityQuerySet(CustomerHeldQuerySet):
    """Opportunities of customers in the user's scope; a client manager's are only
    their own (a colleague's opportunity with a shared customer stays theirs)."""

    def visible_to(self, user) -> QuerySet:
        opportunities = super().visible_to(user)
        if data_scope(user).kind is ScopeKind.OWN:
            return opportunities.filter(manager=user)
        return opportunities


class CampaignQuerySet(QuerySet):
    """Head office sees every campaign; everyone else the ones that have (or had)
    targets. The targets themselves are held to the customer scope."""

    def visible_to(self, user) -> QuerySet:
        if data_scope(user).sees_all:
            return self.all()
        return self.filter(status__in=LIVE_STATUSES)


class TaskAllocationQuerySet(QuerySet):
    """Shares of a task: all for head office; of issued tasks, the subtree's (its
    branches' and their managers') for a branch head, their own for a client
    manager."""

    def visible_to(self, user) -> QuerySet:
        scope = data_scope(user)
        if scope.sees_all:
            return self.all()
        issued = self.filter(task__status__in=ISSUED_STATUSES)
        if scope.kind is ScopeKind.OWN:
            return issued.filter(manager=user)
        branches = visible_branches(user)
        return issued.filter(Q(branch__in=branches) | Q(manager__branch__in=branches))


class MarketingTaskQuerySet(QuerySet):
    """Tasks: all for head office; issued ones holding a share the user may see
    for everyone else."""

    def visible_to(self, user) -> QuerySet:
        if data_scope(user).sees_all:
            return self.all()
        from .models import TaskAllocation

        shares = TaskAllocation.objects.visible_to(user).values("task_id")
        return self.filter(status__in=ISSUED_STATUSES, pk__in=shares)


class SegmentQuerySet(QuerySet):
    """Segments are definitions (every evaluation is scoped anyway): head office
    sees all; everyone else their own and head office's."""

    def visible_to(self, user) -> QuerySet:
        if data_scope(user).sees_all:
            return self.all()
        return self.filter(Q(owner=user) | Q(owner__branch__level=0))

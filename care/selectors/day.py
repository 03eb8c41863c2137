"""The manager's day (the "my day" home page's care widgets): the alerts due today
with their reasons, the overdue contacts, today's plan, the messages held or
refused, and for a branch head the team's overdue alerts.

Each read starts from the model's `visible_to(user)` and its cost does not grow
with the number of alerts: the rows shown and their total come from one statement
(a window count), the reasons from the alerts part's `alert_rows` (one read of the
level names), so a manager with 500 open alerts pays what one with five does. The
alerts due and the overdue contacts are one statement, read once per request.

The alerts due leave out the overdue contacts, which have their own widget: a
manager's first day would otherwise open on a list of 87 identical reminders."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, Min, Q, Value, When, Window
from django.db.models.functions import RowNumber

from accounts.scope import ScopeKind, data_scope
from customers.querysets import ScopeRule

from ..choices import AlertKind
from ..models import Alert

SHOWN = 8


def _day_alerts(user, day: datetime.date, limit: int) -> dict[bool, tuple[list[Any], int]]:
    """The user's own alerts due by `day`, in two groups (overdue contacts or not):
    the first `limit` of each, the highest priority first, and each group's total,
    in one statement (a window partitioned by the group); the reasons of both
    groups in one call. Read once per request: both widgets use it."""
    cache = getattr(user, "_my_day_alerts", None)
    if cache is not None and cache[0] == (day, limit):
        return cache[1]
    from .alerts import alert_rows, shown_customer

    contact = Case(When(kind=AlertKind.CONTACT_OVERDUE, then=Value(True)), default=Value(False))
    order = [F("priority").asc(), F("due_date").asc(), F("pk").asc()]
    # the customers of the rows kept only, read after the window, not joined to
    # every alert the window numbers
    found = list(
        Alert.objects.visible_to(user)
        .prefetch_related(shown_customer())
        .filter(assignee=user)
        .awake(day)
        .filter(due_date__lte=day)
        .annotate(
            is_contact=contact,
            position=Window(RowNumber(), partition_by=[contact], order_by=order),
            total=Window(Count("pk"), partition_by=[contact]),
        )
        .filter(position__lte=limit)
        .order_by("priority", "due_date", "pk")
    )
    rows = alert_rows(user, found, day)
    groups: dict[bool, tuple[list[Any], int]] = {}
    for flag in (False, True):
        mine = [(row, alert) for row, alert in zip(rows, found, strict=True) if alert.is_contact is flag]
        groups[flag] = ([row for row, _alert in mine], mine[0][1].total if mine else 0)
    user._my_day_alerts = ((day, limit), groups)
    return groups


def my_alerts_due(user, day: datetime.date, limit: int = SHOWN) -> tuple[list[Any], int]:
    """The user's own alerts due by `day`, overdue contacts aside (they have their own
    widget), the highest priority first, and how many there are. Not
    `selectors.alerts.alerts_due`: that one is every alert in the user's scope, a
    branch head's team included, by due date (the alerts panel)."""
    return _day_alerts(user, day, limit)[False]


def overdue_contacts(user, day: datetime.date, limit: int = SHOWN) -> tuple[list[Any], int]:
    """The user's open "contact overdue" alerts and how many there are."""
    return _day_alerts(user, day, limit)[True]


@dataclass(frozen=True)
class ManagerOverdue:
    manager_id: int | None
    name: str
    employee_no: str
    count: int
    oldest: datetime.date


def team_overdue(user, day: datetime.date, limit: int = SHOWN) -> tuple[list[ManagerOverdue], int]:
    """A branch head's team: open alerts of their subtree past their due date, per
    assignee (the most first), and their total; one grouped query."""
    if data_scope(user).kind is not ScopeKind.SUBTREE:
        return [], 0
    # the subtree's alerts counted by a FILTER, not kept by a second WHERE on the
    # branch: beside the scope's own "branch in the subtree" PostgreSQL would expect
    # a few hundred rows of the tens of thousands a branch has and probe each one's
    # customer alone (208 ms against 122 for a branch of 13 outlets at 1,000,000
    # customers); the head's own alerts outside the subtree count for nothing
    subtree = Q(branch_id__in=ScopeRule.of(user).branch_ids)
    grouped = (
        Alert.objects.visible_to(user)
        .awake(day)
        .filter(due_date__lt=day)
        .values("assignee_id", "assignee__display_name", "assignee__employee_no")
        .annotate(count=Count("pk", filter=subtree), oldest=Min("due_date", filter=subtree))
        .filter(count__gt=0)
        .order_by("-count", "assignee__employee_no")
    )
    rows = [
        ManagerOverdue(
            manager_id=row["assignee_id"],
            name=row["assignee__display_name"] or "",
            employee_no=row["assignee__employee_no"] or "",
            count=row["count"],
            oldest=row["oldest"],
        )
        for row in grouped
    ]
    return rows[:limit], sum(r.count for r in rows)


def plan_today(user, day: datetime.date) -> list[Any]:
    """Today's plan (the plan part's occurrences of the day), not yet done first."""
    from .plan import plan_for_day

    occurrences = plan_for_day(user, day)
    return sorted(occurrences, key=lambda o: o.done)[:SHOWN]


def messages_today(user, limit: int = SHOWN) -> dict[str, list[Any]]:
    """The outbox part's reads: messages to the user's customers held until the
    quiet hours end, refused or failed; and the user's own in-app messages."""
    from .outbox import messages_for, messages_needing_attention

    return {"attention": messages_needing_attention(user, limit), "inbox": messages_for(user, limit)}

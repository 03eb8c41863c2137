"""Reading alerts: the alert list (filters, a page with its position), the alerts
due for the home page's panel, one alert for its page, and the 360 view's panel.
Every read starts from `Alert.objects.visible_to(user)`: a client manager their
own, a branch head their own and their team's, head office all."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.scope import ScopeKind, data_scope
from core.labels import label, labels
from customers.models import Customer
from customers.panels import PanelItem
from customers.querysets import ScopeRule

from ..choices import AlertStatus
from ..models import Alert
from ..querysets import AlertQuerySet
from ..reasons import alert_reason, reason_context
from ..services.alerts import OPEN_STATES, may_act

RELATED = ("customer", "assignee")


@dataclass
class AlertRow:
    alert: Alert
    reason: str
    # what the status shows: a snoozed alert whose date has come is open again
    status_label: str
    may_act: bool
    overdue: bool
    # the kind's and the priority's labels and the alert's page, made once per page
    kind_label: str = ""
    priority_label: str = ""
    url: str = ""

    @property
    def is_open(self) -> bool:
        return self.alert.status in OPEN_STATES


def week_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of `day`'s week."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def alert_list(
    *,
    user: User,
    day: datetime.date,
    kind: str = "",
    status: str = "open",
    priority: int | None = None,
    due: str = "",
    manager: str = "",
    customer_no: str = "",
    alerts: QuerySet | None = None,
) -> QuerySet:
    """The user's alerts by the list's filters, the most pressing first (open ones by
    due date and priority, closed ones the latest closed first)."""
    scoped = cast(AlertQuerySet, alerts if alerts is not None else Alert.objects.visible_to(user))
    rows: QuerySet = scoped
    if status == "open" or not status:
        rows = scoped.awake(day)
    elif status == "snoozed":
        rows = scoped.asleep(day)
    elif status in (AlertStatus.DONE, AlertStatus.DISMISSED):
        rows = scoped.filter(status=status)
    elif status == "closed":
        rows = scoped.closed()
    if kind:
        rows = rows.filter(kind=kind)
    if priority:
        rows = rows.filter(priority=priority)
    if due == "overdue":
        rows = rows.filter(due_date__lt=day)
    elif due == "today":
        rows = rows.filter(due_date=day)
    elif due == "week":
        monday, sunday = week_bounds(day)
        rows = rows.filter(due_date__gte=monday, due_date__lte=sunday)
    if manager:
        rows = rows.filter(assignee__employee_no=manager)
    if customer_no:
        rows = rows.filter(customer__customer_no=customer_no)
    # the customer and the assignee of the rows read (a page), not joined to every
    # row the filters keep: a branch's open alerts can be tens of thousands, and a
    # join ahead of the sort reads a customer for each
    rows = rows.prefetch_related(*RELATED)
    if status in ("done", "dismissed", "closed"):
        return rows.order_by("-closed_at", "-id")
    return rows.order_by("due_date", "priority", "id")


def _url_of(name: str) -> Callable[[int], str]:
    """`pk -> reverse(name, args=[pk])` for a pattern taking one integer, reversing once:
    a page of rows then formats its links instead of resolving each."""
    marker = 9_876_543_210
    pattern = reverse(name, args=[marker]).replace(str(marker), "{}", 1)
    return pattern.format


def shown_columns(alerts: QuerySet) -> QuerySet:
    """`alerts` with their customer and assignee read for the rows fetched (one query
    each, by primary key), and only what a list shows of them: the whole customer row
    (its encrypted identity, search tokens...) and the whole user row cost the
    database and the page for nothing."""
    return alerts.prefetch_related(None).prefetch_related(
        shown_customer(), Prefetch("assignee", queryset=User.objects.only("display_name", "username"))
    )


def shown_customer() -> Prefetch:
    """The alerts' customers as a list shows them (number and name), read for the
    rows fetched."""
    return Prefetch("customer", queryset=Customer.objects.only("customer_no", "name"))


def alert_rows(user: User, alerts: list[Alert], day: datetime.date) -> list[AlertRow]:
    """The shown rows of a page: reasons in one read of the level names; who may act
    decided without a query per row (a branch head's subtree read once); the labels
    and the link of each row from mappings made once."""
    names = reason_context(alerts)
    scope = data_scope(user)
    can_change = user.has_perm("care.change_alert")
    team: set[int] | None = None
    if scope.kind is ScopeKind.SUBTREE:
        team = set(ScopeRule.of(user).branch_ids)  # read once per request
    # each code's label, read once for the page (not `get_<field>_display` per row)
    kinds = labels("care.choices.AlertKind")
    priorities = labels("care.choices.AlertPriority")
    statuses = labels("care.choices.AlertStatus")
    url = _url_of("care:alert_detail")
    rows = []
    for alert in alerts:
        acts = can_change and (
            alert.assignee_id == user.pk
            or alert.escalated_to_id == user.pk
            or (team is not None and alert.branch_id in team)
        )
        rows.append(
            AlertRow(
                alert=alert,
                reason=alert_reason(alert, names),
                status_label=_status_label(alert, day, statuses),
                may_act=bool(acts) and alert.status in OPEN_STATES,
                overdue=alert.status in OPEN_STATES and alert.due_date < day,
                kind_label=label(alert.kind, kinds),
                priority_label=label(alert.priority, priorities),
                url=url(alert.pk),
            )
        )
    return rows


def _status_label(alert: Alert, day: datetime.date, statuses: Mapping[str, str]) -> str:
    if alert.status == AlertStatus.SNOOZED and alert.snoozed_until and alert.snoozed_until <= day:
        return label(AlertStatus.OPEN, statuses)
    return label(alert.status, statuses)


def alerts_due(user: User, day: datetime.date, limit: int = 8) -> tuple[list[AlertRow], int]:
    """The home page's panel: the user's open alerts due by `day` (overdue ones
    first), with their reasons; and how many there are in all. Three queries at
    most (the count, the rows, the level names)."""
    due = Alert.objects.visible_to(user).awake(day).filter(due_date__lte=day)
    total = due.count()
    alerts = list(shown_columns(due).order_by("due_date", "priority", "id")[:limit])
    return alert_rows(user, alerts, day), total


def access_alert(user: User, pk: int, *, for_change: bool) -> Alert:
    """One alert of the user's (404 outside their scope); acting on one needs the
    permission to change alerts (the services check who)."""
    if not user.has_perm("care.view_alert"):
        raise PermissionDenied
    return get_object_or_404(Alert.objects.visible_to(user).select_related(*RELATED, "closed_by"), pk=pk)


def alert_detail(user: User, alert: Alert, day: datetime.date) -> AlertRow:
    row = alert_rows(user, [alert], day)[0]
    row.may_act = alert.status in OPEN_STATES and may_act(user, alert)
    return row


def customer_alerts(customer: Any, user: User) -> list[PanelItem]:
    """The 360 view's reminders panel: the viewer's open alerts about this customer
    (the customer is already in the viewer's scope). Two queries at most."""
    if user is None or not user.has_perm("care.view_alert"):
        return []
    day = timezone.localdate()
    alerts = list(
        Alert.objects.visible_to(user)
        .awake(day)
        .filter(customer=customer)
        .order_by("due_date", "priority", "id")[:10]
    )
    names = reason_context(alerts)
    url = _url_of("care:alert_detail")
    return [
        PanelItem(
            alert_reason(alert, names),
            url=url(alert.pk),
            when=alert.due_date,
            note=alert.get_kind_display(),
        )
        for alert in alerts
    ]

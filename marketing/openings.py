"""Account-opening requests (开户预约), read: who sees which requests, which are
overdue, a branch's week of appointments, and what a new request may be made with.

- Scope: every read starts from `OpeningRequest.objects.visible_to(user)` (the
  customer is in the user's scope). On the list, a client manager sees the requests
  they made; a branch head those of their subtree's customers; head office all.
- Overdue: a request still open `OPENING_OVERDUE_DAYS` days after its appointment
  (or, without a time, after it was recorded). `overdue_condition(today)` says it
  in SQL and `is_overdue(request, today)` for one row; the nightly flag and the
  list's badge both use them.
- Choices: a request is made through a channel in use (the product's own sale
  channels first) at a branch that is not head office and is either the customer's
  home branch or a branch of the user's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.audit_display import action_label
from accounts.models import AuditEvent, Branch, BranchLevel
from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.models import Customer

from .choices import OPEN_OPENING_STATUSES, MarketingAction, OpeningStatus
from .models import Channel, OpeningRequest, Product

OPENING_TARGET_TYPE = OpeningRequest._meta.label_lower


def overdue_days() -> int:
    return int(getattr(settings, "OPENING_OVERDUE_DAYS", 7))


def start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def overdue_cutoff(today: datetime.date, days: int | None = None) -> datetime.datetime:
    """A request whose appointment (or, without one, recording) is before this moment
    is overdue when still open: its day plus N days is before today."""
    return start_of(today - datetime.timedelta(days=overdue_days() if days is None else days))


def overdue_condition(today: datetime.date, days: int | None = None) -> Q:
    """Open requests `days` (default OPENING_OVERDUE_DAYS) days past their appointment,
    or past their recording when they have no appointment yet."""
    cutoff = overdue_cutoff(today, days)
    return Q(status__in=OPEN_OPENING_STATUSES) & (
        Q(appointment_at__lt=cutoff) | Q(appointment_at__isnull=True, created_at__lt=cutoff)
    )


def is_overdue(request: OpeningRequest, today: datetime.date, days: int | None = None) -> bool:
    """`overdue_condition` for one request already read."""
    if not request.is_open:
        return False
    reference = request.appointment_at or request.created_at
    return reference < overdue_cutoff(today, days)


# --- reading requests ---------------------------------------------------------------------


def opening_rows(requests: QuerySet[OpeningRequest]) -> QuerySet[OpeningRequest]:
    """What a list or calendar shows of each request, in the same query."""
    return requests.select_related("customer", "product", "channel", "branch", "manager")


def with_overdue(requests: QuerySet[OpeningRequest], today: datetime.date) -> QuerySet[OpeningRequest]:
    """Each request with `overdue` (`overdue_condition`), read in the same query."""
    return requests.annotate(
        overdue=Case(When(overdue_condition(today), then=Value(True)), default=Value(False))
    )


def opening_list(*, user, requests: QuerySet[OpeningRequest] | None = None) -> QuerySet[OpeningRequest]:
    """The requests of the user's list: a client manager's own, a branch head's
    subtree's customers', all for head office (`requests`: already narrowed)."""
    if requests is None:
        requests = OpeningRequest.objects.visible_to(user)
    if data_scope(user).kind is ScopeKind.OWN:
        requests = requests.filter(manager=user)
    return opening_rows(requests)


def access_opening(user, pk: int, *, for_change: bool) -> OpeningRequest:
    """One request whose customer is in the user's scope (else 404); reading needs
    view_openingrequest, acting on it change_openingrequest (else 403). Whose
    request it is the services decide."""
    needed = "marketing.change_openingrequest" if for_change else "marketing.view_openingrequest"
    if not user.has_perm(needed):
        raise PermissionDenied
    rows = opening_rows(OpeningRequest.objects.visible_to(user)).select_related(
        "opportunity", "target__campaign", "account", "sale", "matched_by", "cancelled_by", "branch__parent"
    )
    return get_object_or_404(rows, pk=pk)


@dataclass(frozen=True)
class HistoryLine:
    when: datetime.datetime
    action: str
    actor: str
    text: str = ""


def _history_text(event: AuditEvent) -> str:
    details = event.details or {}
    if event.action == MarketingAction.OPENING_APPOINTED:
        return f"{details.get('from') or '—'} → {details.get('to') or '—'}"
    if event.action == MarketingAction.OPENING_CANCELLED:
        return str(details.get("reason") or "")
    if event.action == MarketingAction.OPENING_REQUESTED and details.get("appointment"):
        return str(details["appointment"])
    return ""


def opening_history(request: OpeningRequest) -> list[HistoryLine]:
    """The request's audit events, oldest first, in words: what happened, who did it
    (nobody: the nightly job) and the change it made."""
    events = (
        AuditEvent.objects.filter(target_type=OPENING_TARGET_TYPE, target_id=str(request.pk))
        .select_related("actor")
        .order_by("occurred_at", "pk")
    )
    return [
        HistoryLine(
            when=event.occurred_at,
            action=action_label(event.action),
            actor=(event.actor.display_name or event.actor.username) if event.actor else event.actor_username,
            text=_history_text(event),
        )
        for event in events
    ]


def open_request_of(customer: Customer, product: Product) -> OpeningRequest | None:
    """The customer's open request of the product, if any (at most one)."""
    return (
        OpeningRequest.objects.filter(customer=customer, product=product, status__in=OPEN_OPENING_STATUSES)
        .select_related("branch", "manager")
        .first()
    )


# --- what a request may be made with ------------------------------------------------------


def channels_for(product: Product | None) -> list[Channel]:
    """The channels in use, the product's own sale channels first (in its order)."""
    channels = list(Channel.objects.filter(is_active=True).order_by("position", "code"))
    if product is None or not product.channels:
        return channels
    own = {code: index for index, code in enumerate(product.channels)}
    return sorted(channels, key=lambda c: (0, own[c.code]) if c.code in own else (1, c.position))


def service_branches(user, customer: Customer | None = None) -> QuerySet[Branch]:
    """Where a request may be made: a branch in use below head office that is the
    customer's home branch or one of the user's scope."""
    condition = Q(pk__in=visible_branches(user).values("pk"))
    if customer is not None and customer.home_branch_id:
        condition |= Q(pk=customer.home_branch_id)
    return Branch.objects.filter(condition, is_active=True).exclude(level=BranchLevel.HEAD_OFFICE)


def calendar_branches(user) -> QuerySet[Branch]:
    """The branches whose appointments the user may look at: those of their scope
    below head office."""
    return (
        visible_branches(user).filter(is_active=True).exclude(level=BranchLevel.HEAD_OFFICE).order_by("path")
    )


# --- a branch's week ------------------------------------------------------------------------


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the day's week."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass
class CalendarDay:
    day: datetime.date
    requests: list[OpeningRequest] = field(default_factory=list)


def branch_week(
    *,
    user,
    branch: Branch,
    monday: datetime.date,
    requests: QuerySet[OpeningRequest] | None = None,
) -> list[CalendarDay]:
    """The appointments of the week starting `monday` at the branch and the branches
    below it, whose customers the user may see (`requests`: already narrowed to
    them), by day and time; cancelled ones left out. One query."""
    if requests is None:
        requests = OpeningRequest.objects.visible_to(user)
    days = [CalendarDay(monday + datetime.timedelta(days=n)) for n in range(7)]
    rows = opening_rows(
        requests.filter(
            branch__path__startswith=branch.path,
            appointment_at__gte=start_of(monday),
            appointment_at__lt=start_of(monday + datetime.timedelta(days=7)),
        )
    ).exclude(status=OpeningStatus.CANCELLED)
    for request in rows.order_by("appointment_at", "pk"):
        local = timezone.localtime(request.appointment_at).date()
        days[(local - monday).days].requests.append(request)
    return days

"""Reads of the audit pages: the trail filtered and paged by key, its rows as a reader
sees them, and the usage of the portal per branch and month.

The trail is paged by key on (time, id), never by OFFSET or a count of the whole
trail: the next page starts after the last row shown, so a page costs the same at
the millionth event as at the first. The position shown ("events 51–100") travels
in the links."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .audit import Action
from .audit_display import DetailLine, action_label, detail_lines, target_links, target_type_label
from .models import AuditEvent, Branch, BranchQuerySet

PAGE_SIZE = 50


def _local_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, timezone.get_current_timezone())


def audit_log(
    *,
    action: str = "",
    actor: str = "",
    branch: Branch | None = None,
    target: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """The trail, newest first, narrowed by the filters. `actor` is a username or an
    employee number (exact) or part of a display name; `branch` the actor's branch
    and everything below it; dates are local days, both included."""
    events = AuditEvent.objects.select_related("actor", "actor__branch")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(
            Q(actor_username=actor) | Q(actor__employee_no=actor) | Q(actor__display_name__icontains=actor)
        )
    if branch is not None:
        events = events.filter(actor__branch__path__startswith=branch.path)
    if target:
        events = events.filter(Q(target_id=target) | Q(target_repr__icontains=target))
    if date_from:
        events = events.filter(occurred_at__gte=_local_start(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_local_start(date_to + datetime.timedelta(days=1)))
    return events.order_by("-occurred_at", "-id")


# --- paging by key ------------------------------------------------------------------------


def encode_cursor(event: AuditEvent) -> str:
    return f"{event.occurred_at.isoformat()}~{event.pk}"


def decode_cursor(text: str) -> tuple[datetime.datetime, int] | None:
    when, _sep, pk = (text or "").rpartition("~")
    try:
        moment = datetime.datetime.fromisoformat(when)
        number = int(pk)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return moment, number


@dataclass
class LogPage:
    events: list[AuditEvent]
    start: int  # the position of the first event shown, from 1
    older: str | None  # the cursor of the next (older) page
    newer: str | None  # the cursor of the previous (newer) page

    @property
    def end(self) -> int:
        return self.start + len(self.events) - 1


def log_page(
    events: QuerySet[AuditEvent], *, after: str = "", before: str = "", start: int = 1, size: int = PAGE_SIZE
) -> LogPage:
    """One page of `events` (ordered newest first): after the cursor `after` (older
    events), or the page before the cursor `before` (newer events), or the first."""
    older_than, newer_than = decode_cursor(after), decode_cursor(before)
    if newer_than is not None:
        moment, pk = newer_than
        chunk = list(
            events.filter(Q(occurred_at__gt=moment) | Q(occurred_at=moment, pk__gt=pk)).order_by(
                "occurred_at", "id"
            )[: size + 1]
        )
        more_newer = len(chunk) > size
        rows = list(reversed(chunk[:size]))
        return LogPage(
            events=rows,
            start=max(start, 1),
            older=encode_cursor(rows[-1]) if rows else None,
            newer=encode_cursor(rows[0]) if rows and more_newer else None,
        )
    if older_than is not None:
        moment, pk = older_than
        events = events.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, pk__lt=pk))
    chunk = list(events[: size + 1])
    rows = chunk[:size]
    return LogPage(
        events=rows,
        start=max(start, 1),
        older=encode_cursor(rows[-1]) if len(chunk) > size else None,
        newer=encode_cursor(rows[0]) if rows and older_than is not None else None,
    )


# --- rows as a reader sees them -------------------------------------------------------------


@dataclass
class LogRow:
    event: AuditEvent
    action_label: str
    actor_name: str
    employee_no: str
    branch_name: str
    target_type: str
    target_name: str
    target_url: str
    lines: list[DetailLine] = field(default_factory=list)


def _row(event: AuditEvent, links: dict[tuple[str, str], str]) -> LogRow:
    actor = event.actor if event.actor_id else None
    return LogRow(
        event=event,
        action_label=action_label(event.action),
        actor_name=actor.display_name if actor else "",
        employee_no=actor.employee_no if actor else "",
        branch_name=str(actor.branch) if actor and actor.branch_id else "",
        target_type=target_type_label(event.target_type),
        target_name=event.target_repr or event.target_id,
        target_url=links.get((event.target_type, event.target_id), ""),
        lines=detail_lines(event.action, event.details),
    )


def log_rows(events: Iterable[AuditEvent]) -> list[LogRow]:
    """The events of a page with their labels, actors and links (one query per kind
    of target with a page)."""
    events = list(events)
    links = target_links((event.target_type, event.target_id) for event in events)
    return [_row(event, links) for event in events]


def export_rows(events: QuerySet[AuditEvent], *, cap: int, chunk_size: int = 2000) -> Iterator[LogRow]:
    """The rows of an export, streamed in chunks from one query (no links: a file)."""
    for event in events[:cap].iterator(chunk_size=chunk_size):
        yield _row(event, {})


# --- usage per branch ------------------------------------------------------------------------


@dataclass
class BranchUsage:
    branch: Branch
    active_users: int = 0
    logins: int = 0
    events: int = 0
    functions: list[tuple[str, int]] = field(default_factory=list)  # (action label, count), most used first


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return _local_start(first), _local_start(following)


def usage_by_branch(*, month: datetime.date, branches: BranchQuerySet) -> list[BranchUsage]:
    """Per branch of `branches` (by the acting user's branch): the users who did
    anything in the month, their logins, and how often each function (audit action)
    was used. Three queries whatever the number of branches."""
    start, end = month_bounds(month)
    in_month = AuditEvent.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, actor__branch__in=branches
    ).order_by()
    totals = in_month.values("actor__branch").annotate(
        users=Count("actor", distinct=True),
        logins=Count("id", filter=Q(action=Action.LOGIN)),
        events=Count("id"),
    )
    by_action = in_month.values("actor__branch", "action").annotate(n=Count("id"))
    functions: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for row in by_action:
        functions[row["actor__branch"]].append((action_label(row["action"]), row["n"]))
    figures = {row["actor__branch"]: row for row in totals}
    result = []
    for branch in branches.filter(pk__in=list(figures)).order_by("path"):
        row = figures[branch.pk]
        result.append(
            BranchUsage(
                branch=branch,
                active_users=row["users"],
                logins=row["logins"],
                events=row["events"],
                functions=sorted(functions[branch.pk], key=lambda pair: (-pair[1], pair[0])),
            )
        )
    return result


def usage_totals(rows: Iterable[BranchUsage]) -> dict[str, Any]:
    rows = list(rows)
    return {
        "active_users": sum(row.active_users for row in rows),
        "logins": sum(row.logins for row in rows),
        "events": sum(row.events for row in rows),
    }

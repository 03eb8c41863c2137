"""What the VIP area tells its managers about (提醒): a customer's tier changed, a
potential VIP appeared, a major customer's contact is overdue (and a manager's team
has overdue contacts), a customer was assigned or shared, a transfer was decided.

The VIP area only announces these events; the app that keeps them (the alerts of
keep close, one model for every kind) sits above it and registers itself here from
its AppConfig.ready(), so vip imports nothing above it. With nobody registered an
announcement is dropped (vip on its own).

Two ways to announce:
- `announce()`: one event (a service acting on one customer);
- `announce_rows()`: the nightly jobs' events, set-based: a SELECT (with its params)
  whose rows are `(user_id, customer_id, figures)`, `figures` a JSON object text of
  codes and numbers only (never personal data); the listener turns them into rows in
  one statement.
And `contact_warnings()`, the service standards' nightly state of overdue contacts
(the listener closes answered warnings and raises the new ones).

Event kinds and their figures (the listener documents how it shows them):
- "tier_change": {"from": tier code, "to": tier code}
- "potential_vip": {"tier": tier code now}
- "contact_overdue": {"tier": code, "last_contact": date|None, "standard_days": int,
  "overdue_since": date}
- "team_overdue": {"manager": employee number, "count": int} (no customer)
- "customer_assigned" / "customer_shared": {"by": employee number}
- "transfer_decided": {"decision": "approved"|"rejected"}
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

TIER_CHANGE = "tier_change"
POTENTIAL_VIP = "potential_vip"
CONTACT_OVERDUE = "contact_overdue"
TEAM_OVERDUE = "team_overdue"
CUSTOMER_ASSIGNED = "customer_assigned"
CUSTOMER_SHARED = "customer_shared"
TRANSFER_DECIDED = "transfer_decided"


class Listener(Protocol):
    def one(
        self, *, kind: str, user: Any, customer: Any, day: datetime.date, figures: dict[str, Any]
    ) -> None: ...

    def rows(self, *, kind: str, day: datetime.date, select: str, params: list[Any]) -> int: ...

    def contact_warnings(
        self, *, day: datetime.date, select: str, params: list[Any], contact_kinds: tuple[str, ...]
    ) -> dict[str, int]: ...

    def team_warnings(self, *, day: datetime.date, rows: list[TeamWarning]) -> int: ...

    def open_contact_warnings(self) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class TeamWarning:
    """A branch head told that one of their managers has overdue contacts."""

    head_id: int
    manager_no: str
    manager_branch_id: int | None
    count: int


_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    """Called once by the app that keeps the alerts (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _each(call: Callable[[Listener], Any]) -> list[Any]:
    return [call(listener) for listener in _listeners]


def announce(
    *, kind: str, user: Any, customer: Any = None, figures: dict[str, Any], day: datetime.date
) -> None:
    """One event for `user` (nobody: nothing to tell)."""
    if user is None:
        return
    _each(lambda listener: listener.one(kind=kind, user=user, customer=customer, day=day, figures=figures))


def announce_rows(*, kind: str, day: datetime.date, select: str, params: list[Any]) -> int:
    """Many events of one kind at once: `select` yields (user_id, customer_id, figures
    JSON text). Returns how many were new."""
    return sum(_each(lambda listener: listener.rows(kind=kind, day=day, select=select, params=params)))


def contact_warnings(
    *, day: datetime.date, select: str, params: list[Any], contact_kinds: tuple[str, ...]
) -> dict[str, int]:
    """The overdue contacts of `day`: `select` yields (user_id, customer_id, figures
    JSON text) for every major customer whose contact is overdue; the listener closes
    the warnings a contact answered (or a change of manager made moot) and raises the
    new ones. Returns {"closed": n, "warned": n}."""
    counts = {"closed": 0, "warned": 0}
    for result in _each(
        lambda listener: listener.contact_warnings(
            day=day, select=select, params=params, contact_kinds=contact_kinds
        )
    ):
        for key, value in result.items():
            counts[key] = counts.get(key, 0) + value
    return counts


def team_warnings(*, day: datetime.date, rows: list[TeamWarning]) -> int:
    return sum(_each(lambda listener: listener.team_warnings(day=day, rows=rows)))


def open_contact_warnings() -> list[tuple[int, int]]:
    """(user id, number of open overdue-contact warnings) per user, from the listener
    (the service standards count them per manager for the branch heads)."""
    counts: dict[int, int] = {}
    for listener in _listeners:
        for user_id, n in listener.open_contact_warnings():
            counts[user_id] = counts.get(user_id, 0) + n
    return list(counts.items())

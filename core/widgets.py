"""Home-page widgets: each app registers the widgets of its own data here, below every
app, and `crm_portal` composes a user's home from them; so the scorecard comes from
`performance/` and the alerts from `care/` without a lower app importing a higher one.

A widget is a key, a title, a template and `context(user, day) -> dict`, built with a
bounded number of queries (a count, a short list); a heavy one is `lazy` and loads
itself through htmx from the portal's widget address after the page is shown. Who
may have it is a permission and/or a predicate `available(user)`; which roles get it
by default, and in which order, is `defaults` ({role: order}). A user may choose and
order their own among those available to them (crm_portal.home).

Pending decisions are counted the same way: each app registers a `PendingSource`
(what waits for a second person in that app: transfers, campaigns, parameter
proposals...) and one widget sums those a user may decide.

Each app registers from its AppConfig.ready() (`from . import widgets`); registering
the same key again replaces it (a reload), another app's key is refused.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

Context = Callable[[Any, datetime.date], dict[str, Any]]


def _no_context(user: Any, day: datetime.date) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Widget:
    key: str
    title: str | Promise
    template: str
    app: str
    # role name -> position on that role's default home (smaller first)
    defaults: Mapping[str, int] = field(default_factory=dict)
    permission: str | None = None
    predicate: Callable[[Any], bool] | None = None
    context: Context = _no_context
    # loaded after the page through htmx (crm_portal's "home_widget" address)
    lazy: bool = False
    description: str | Promise = ""

    def available(self, user: Any) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.permission is not None and not user.has_perm(self.permission):
            return False
        return self.predicate is None or bool(self.predicate(user))


@dataclass(frozen=True)
class PendingSource:
    """Something that waits for a user's decision in one app: `count(user)` (one
    query) of the items the user may decide, never their own proposals."""

    key: str
    label: str | Promise
    # "decision": a business approval (a transfer, a campaign); "parameter": a
    # proposed change of parameters or reference values.
    kind: str
    url_name: str
    count: Callable[[Any], int]
    permission: str | None = None

    def available(self, user: Any) -> bool:
        return self.permission is None or user.has_perm(self.permission)


DECISION = "decision"
PARAMETER = "parameter"

_WIDGETS: dict[str, Widget] = {}
_PENDING: dict[str, PendingSource] = {}


def register(widget: Widget) -> Widget:
    existing = _WIDGETS.get(widget.key)
    if existing is not None and existing.app != widget.app:
        raise ValueError(f"widget {widget.key!r} is already registered by {existing.app}")
    _WIDGETS[widget.key] = widget
    return widget


def register_pending(source: PendingSource) -> PendingSource:
    _PENDING[source.key] = source
    return source


def registered() -> list[Widget]:
    return list(_WIDGETS.values())


def get(key: str) -> Widget | None:
    return _WIDGETS.get(key)


def available_to(user: Any) -> list[Widget]:
    """The widgets the user may have, in registration order."""
    return [w for w in _WIDGETS.values() if w.available(user)]


def defaults_for(user: Any, roles: Iterable[str]) -> list[str]:
    """The keys of a user's default home: the widgets of any of their roles they may
    have, by their best position among those roles."""
    roles = set(roles)
    chosen: list[tuple[int, int, str]] = []
    for index, widget in enumerate(_WIDGETS.values()):
        orders = [order for role, order in widget.defaults.items() if role in roles]
        if orders and widget.available(user):
            chosen.append((min(orders), index, widget.key))
    return [key for _order, _index, key in sorted(chosen)]


def pending_sources(user: Any, kind: str) -> list[PendingSource]:
    return [s for s in _PENDING.values() if s.kind == kind and s.available(user)]

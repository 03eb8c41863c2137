"""Where a read may go: the scope in which reads may be served by a read replica,
and the unit of work (a request) that a write pins to the primary.

A page that only reads and may show data a few seconds old (a report, a dashboard,
an export, the customer search) declares it with `@replica_reads` on its view;
code can enter the same scope with `with replica_reads():`. Outside that scope
every read goes to the primary. Inside it, the database router
(`crm_portal.routers`, installed only when `DATABASE_REPLICA_URL` is set) sends the
reads to the replica, unless the unit of work has written: from its first write on,
the rest of the request reads the primary, so that nobody reads their own write
from a replica that may not have it yet. Without a replica configured the scope
changes nothing.

The state lives in context variables: each request (and each thread) has its own,
and one made for a request is seen by the code it runs. It imports no app, so every
app may mark its views.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, overload


@dataclass
class UnitOfWork:
    """One request's (or one `replica_reads` block's, outside a request) choice of
    database: pinned to the primary once it writes; whether the replica may serve
    it is decided at its first read that could go there, and kept, so that one
    page does not read half from each."""

    pinned: bool = False
    replica_usable: bool | None = None


_UNIT: ContextVar[UnitOfWork | None] = ContextVar("crm_unit_of_work", default=None)
_REPLICA_ALLOWED: ContextVar[bool] = ContextVar("crm_replica_reads", default=False)

_V = TypeVar("_V")


@contextmanager
def unit_of_work(*, pinned: bool = False) -> Iterator[UnitOfWork]:
    """A request's unit of work (crm_portal.routers' middleware opens one per
    request); `pinned` from the start for a request that says it writes (POST...)."""
    unit = UnitOfWork(pinned=pinned)
    token = _UNIT.set(unit)
    try:
        yield unit
    finally:
        _UNIT.reset(token)


def current_unit() -> UnitOfWork | None:
    return _UNIT.get()


def note_write() -> None:
    """The unit of work wrote: the primary serves its reads from now on."""
    unit = _UNIT.get()
    if unit is not None:
        unit.pinned = True


def replica_allowed() -> bool:
    """Inside a `replica_reads` scope, in a unit of work that has not written."""
    unit = _UNIT.get()
    return _REPLICA_ALLOWED.get() and unit is not None and not unit.pinned


@contextmanager
def _replica_scope() -> Iterator[None]:
    # Outside a request (a task, a command) the block is its own unit of work:
    # a write inside it pins the rest of the block.
    unit_token = _UNIT.set(UnitOfWork()) if _UNIT.get() is None else None
    token = _REPLICA_ALLOWED.set(True)
    try:
        yield
    finally:
        _REPLICA_ALLOWED.reset(token)
        if unit_token is not None:
            _UNIT.reset(unit_token)


@overload
def replica_reads(view: None = None) -> AbstractContextManager[None]: ...


@overload
def replica_reads(view: _V) -> _V: ...


def replica_reads(view: Any = None) -> Any:
    """Reads in this view (or block) may be served by the read replica.

    `@replica_reads` on a view function or a class-based view (its `dispatch`,
    so the whole request); `with replica_reads():` around a block. Mark only
    what reads: a write inside still goes to the primary and pins the rest of the
    request there, but the reads before it will have come from the replica."""
    if view is None:
        return _replica_scope()
    if isinstance(view, type):
        dispatch = view.dispatch  # type: ignore[attr-defined]

        @functools.wraps(dispatch)
        def dispatch_with_replica_reads(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            with _replica_scope():
                return dispatch(self, request, *args, **kwargs)

        view.dispatch = dispatch_with_replica_reads  # type: ignore[attr-defined]
        return view
    function: Callable[..., Any] = view

    @functools.wraps(function)
    def view_with_replica_reads(request: Any, *args: Any, **kwargs: Any) -> Any:
        with _replica_scope():
            return function(request, *args, **kwargs)

    return view_with_replica_reads

"""Bulk writes split over several database connections at once (PostgreSQL).

One statement runs on one core. A night's step that rewrites most rows of a table
(the customers' figures: each moved AUM is an entry in every index of the table)
keeps one core busy while the other waits; split by ranges of ids, the parts run
side by side, each on a connection and in a transaction of its own.

Inside a transaction the parts run one after the other on this connection, in that
transaction: another connection would not see its uncommitted rows (a test's
transaction, a caller that wants the whole in one). Off PostgreSQL (SQLite: one
writer at a time) and with BULK_WRITERS 1 too."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import connection, connections, transaction

T = TypeVar("T")


def bulk_writers() -> int:
    """How many connections a bulk write may use at once here: BULK_WRITERS on
    PostgreSQL outside a transaction, else 1."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, int(getattr(settings, "BULK_WRITERS", 1)))


def _apart(work: Callable[[], T]) -> T:
    """One part on this thread's own connection, in its own transaction, closed after."""
    try:
        with transaction.atomic():
            return work()
    finally:
        connections.close_all()


def side_by_side(*work: Callable[[], T]) -> list[T]:
    """Run each part in a transaction of its own, at most `bulk_writers()` at once
    on connections of their own, and return their results in order. Every part
    runs to its end; the first failure is raised after them (the parts that
    succeeded stay committed: each must be safe to run again). With one writer
    they run in order on this connection, each in a transaction (a savepoint in
    the caller's)."""
    writers = min(bulk_writers(), len(work))
    if writers <= 1:
        results = []
        for part in work:
            with transaction.atomic():
                results.append(part())
        return results
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="bulk-write") as pool:
        futures = [pool.submit(_apart, part) for part in work]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


def id_ranges(table: str, parts: int) -> list[tuple[int, int]]:
    """`parts` consecutive ranges (first, last) of equal width covering the ids of
    `table` (one of our own table names, never user input); [] for an empty table."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {connection.ops.quote_name(table)}")
        low, high = cursor.fetchone()
    if low is None:
        return []
    parts = max(1, min(parts, high - low + 1))
    width = (high - low + 1) // parts
    bounds = [low + i * width for i in range(parts)] + [high + 1]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(parts)]

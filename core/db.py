"""Planner settings for one read (PostgreSQL; elsewhere nothing happens)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_NAME = re.compile(r"[a-z_]+")
_VALUE = re.compile(r"[A-Za-z0-9_.]+")


def _in_failed_transaction() -> bool:
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR


@contextmanager
def read_with(**settings: str) -> Iterator[None]:
    """Run the statements of the block with these planner settings (e.g.
    `jit="off"`) and restore the defaults after it: one statement to set, one to
    reset. When a statement of the block fails inside a transaction, the settings
    go with that transaction's rollback (SET is transactional). A block whose
    statement may fail on purpose (a timeout) runs in a savepoint of its own."""
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    for name, value in settings.items():
        if not (_NAME.fullmatch(name) and _VALUE.fullmatch(str(value))):
            raise ValueError(f"not a planner setting: {name}={value!r}")
    with connection.cursor() as cursor:
        cursor.execute("; ".join(f"SET {name} = '{value}'" for name, value in settings.items()))
    try:
        yield
    finally:
        if not _in_failed_transaction():
            with connection.cursor() as cursor:
                cursor.execute("; ".join(f"RESET {name}" for name in settings))

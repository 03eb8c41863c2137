"""Planner settings for one read (PostgreSQL; elsewhere nothing happens)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def read_with(**settings: str) -> Iterator[None]:
    """Run the reads of the block with these planner settings (e.g. `jit="off"`),
    in a transaction (a savepoint inside the caller's) that is rolled back at the
    end, which undoes the settings: they never outlive the block. Reads only:
    anything the block writes is rolled back too."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, str(value)])
        try:
            yield
        finally:
            transaction.set_rollback(True)

"""What a running load shows of itself: per-file progress committed as it goes, and
a test hook that parks it at a named point."""

from __future__ import annotations

import logging
import sys
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

from ..models import BatchFile
from .merge import table
from .spec import FileSpec

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between progress writes of one file


class Progress:
    """Per-file phase and percentage, committed as the load goes (PostgreSQL: on a
    second connection, outside the load's transaction; SQLite has one writer, so
    its pages show the end result)."""

    def __init__(self, files: dict[str, BatchFile]):
        self.files = files
        self.last: dict[str, tuple[str, float, int]] = {}
        self.side = None
        if connection.vendor == "postgresql":
            live = connections[DEFAULT_DB_ALIAS]
            self.side = live.__class__(dict(live.settings_dict), alias="ingest_progress")

    def __call__(self, spec: FileSpec, phase: str, percent: float) -> None:
        record = self.files.get(spec.name)
        if record is None or self.side is None:
            return
        percent = max(0, min(100, int(percent)))
        now = time.monotonic()
        previous = self.last.get(spec.name)
        if (
            previous
            and previous[0] == phase
            and now - previous[1] < PROGRESS_EVERY
            and percent - previous[2] < 10
        ):
            return
        self.last[spec.name] = (phase, now, percent)
        try:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table(BatchFile)} SET phase = %s, progress = %s WHERE id = %s",
                    [phase, percent, record.pk],
                )
        except DatabaseError as exc:  # progress is a convenience: never fail a load for it
            logger.warning("ingest: progress not written: %s", exc)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def checkpoint(name: str) -> None:
    """Test hook: INGEST_TEST_PAUSE_AT (test settings only) parks the load here, inside
    its transaction, so that a test can kill the process at a known point."""
    if getattr(settings, "INGEST_TEST_PAUSE_AT", "") != name:
        return
    sys.stderr.write(f"INGEST PAUSED AT {name}\n")
    sys.stderr.flush()
    time.sleep(float(getattr(settings, "INGEST_TEST_PAUSE_SECONDS", 3600)))

"""Running a load: one at a time, exactly once, crash-safe.

- One at a time: on PostgreSQL a session advisory lock held for the whole load
  (a killed process or a dropped connection releases it); on SQLite, the embedded
  single-machine default, the state of the loads table read under SQLite's write
  lock: a running load whose process is alive holds it.
- Exactly once: a batch is its business date + content digest. A load of a batch
  already loaded ends `duplicate` and writes nothing; at most one load per batch can
  be `loaded` (a partial unique index, the last line of defence).
- Crash-safe: everything the batch writes — portal rows, the error report, the
  `loaded` mark and its audit event — is written in ONE transaction. A load killed
  at any point leaves nothing of the batch visible (PostgreSQL rolls back the
  transaction of a dead session; the staging tables are TEMP tables); the load row
  it left `running` is marked interrupted by the next load, and running the batch
  again gives exactly the state of one clean load.
- Bookkeeping (the load row's status, the per-file progress) is committed outside
  that transaction so that the history and the progress bars can be read while the
  load runs: progress goes through a second connection on PostgreSQL.
- A load row is started again when Celery redelivers its task after a lost worker:
  `attempts` counts the starts, and above INGEST_MAX_ATTEMPTS the load is failed
  with an alert instead of being tried once more.

Here the run of one load; its parts: `loads` (the load records, the lock, the claim
and the end of a load), `loader` (the batch written in its transaction), `progress`
(per-file progress, the test hook), `after_load` (the jobs that follow a load).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from pathlib import Path

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from ..choices import BatchStatus
from ..models import BatchFile, BatchLoad
from ..partitions import ensure_partitions
from .after_load import after_load, after_load_again, after_load_mark_done, after_load_owed
from .control import Batch, BatchProblem, business_date_of, read_batch, verify
from .loader import FETCH_CHUNK, TARGETS, BatchLoader, FileResult
from .loads import (
    LOCK_KEY,
    OK,
    TERMINAL,
    LoadBusy,
    batch_load_create,
    batch_load_for_inbox,
    claim_load,
    finish_load,
    ingest_lock,
    newest_loaded_date,
)
from .progress import PROGRESS_EVERY, Progress
from .spec import FILES

__all__ = [
    "FETCH_CHUNK",
    "LOCK_KEY",
    "OK",
    "PROGRESS_EVERY",
    "TARGETS",
    "TERMINAL",
    "BatchLoader",
    "FileResult",
    "LoadBusy",
    "Progress",
    "after_load",
    "after_load_again",
    "after_load_mark_done",
    "after_load_owed",
    "batch_load_create",
    "batch_load_for_inbox",
    "connection_lost",
    "ingest_lock",
    "ingest_run",
    "newest_loaded_date",
]

logger = logging.getLogger(__name__)


def ingest_run(load_id: int, *, notify: bool = True, on_busy: str = "raise") -> BatchLoad:
    """Run a recorded load to its end state and return it. `on_busy`: "raise"
    LoadBusy when another load runs (the Celery task retries later) or "refuse"
    (the load ends refused: the command). With `notify`, a loaded batch starts the
    jobs that follow a load (INGEST_AFTER_LOAD_TASK) once it is committed."""
    try:
        with ingest_lock(wait=False):
            load = claim_load(load_id)
            if load.status == BatchStatus.RUNNING:
                load = _run(load)
    except LoadBusy as busy:
        if on_busy == "raise":
            raise
        return finish_load(BatchLoad.objects.get(pk=load_id), BatchStatus.REFUSED, str(busy))
    if notify and load.status == BatchStatus.LOADED:
        day = load.business_date
        assert day is not None  # a loaded batch has its business date
        transaction.on_commit(lambda: after_load(day))
    return load


def _run(load: BatchLoad) -> BatchLoad:
    path = Path(load.source)
    try:
        batch = read_batch(path)
    except BatchProblem as problem:
        with suppress(BatchProblem):
            load.business_date = business_date_of(path)
        status = BatchStatus.REFUSED if problem.refused else BatchStatus.FAILED
        return finish_load(load, status, problem.message, business_date=load.business_date)
    load.business_date = batch.business_date
    load.save(update_fields=["business_date"])
    try:
        verify(batch)
    except BatchProblem as problem:
        return finish_load(load, BatchStatus.FAILED, problem.message + " Nothing was written.")
    load.digest = batch.digest
    load.save(update_fields=["digest"])
    refused = _refuse_repeat_or_out_of_order(load, batch)
    if refused is not None:
        return refused
    return _load(load, batch)


def _refuse_repeat_or_out_of_order(load: BatchLoad, batch: Batch) -> BatchLoad | None:
    """End the load (and return it) when its batch was loaded already, or is older
    than the last loaded one and the load is not forced."""
    earlier = (
        BatchLoad.objects.filter(
            status=BatchStatus.LOADED, business_date=batch.business_date, digest=batch.digest
        )
        .order_by("pk")
        .first()
    )
    if earlier is not None:
        return finish_load(
            load,
            BatchStatus.DUPLICATE,
            f"Already loaded by load #{earlier.pk} "
            f"on {timezone.localtime(earlier.finished_at):%Y-%m-%d %H:%M}; "
            "nothing changed.",
        )
    newest = newest_loaded_date()
    if newest and batch.business_date < newest and not load.forced:
        return finish_load(
            load,
            BatchStatus.REFUSED,
            f"Out of order: business date {batch.business_date} is older than the last loaded ({newest}). "
            "An administrator may force it.",
        )
    return None


def _load(load: BatchLoad, batch: Batch) -> BatchLoad:
    """Write the batch in ONE transaction; a failure writes nothing of it."""
    files = _prepare_files(load, batch)
    try:
        # the month partitions of the batch's daily rows (PostgreSQL), made before its
        # transaction: made in it, they would keep the default partitions locked for
        # the whole load. One catalog read when they exist already.
        ensure_partitions(batch.business_date)
        with transaction.atomic():
            BatchLoader(load, batch, files).run()
    except Exception as exc:
        if connection_lost(exc):
            # Not the batch's fault: the load stays `running` for the caller to run
            # again (the nightly job retries); the next claim takes it over.
            logger.error("ingest: load %s lost its database connection: %s", load.pk, _safe_error(exc))
            raise
        message = _safe_error(exc)
        if isinstance(exc, DatabaseError):
            logger.error("ingest: load %s failed: %s", load.pk, message)
        else:
            logger.exception("ingest: load %s failed", load.pk)
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        return finish_load(load, BatchStatus.FAILED, f"The load failed and wrote nothing ({message}).")
    load.refresh_from_db()
    return load


def connection_lost(exc: Exception) -> bool:
    """Whether the load failed because the database went away (a restart, a dropped
    connection) rather than on its data or a timeout, after which the connection
    still works."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if connection.connection is None:  # dropped when its rollback failed
        return True
    try:
        return not connection.is_usable()
    except DatabaseError:
        return True


def _prepare_files(load: BatchLoad, batch: Batch) -> dict[str, BatchFile]:
    with transaction.atomic():
        # a redelivered load starts its files over
        BatchFile.objects.filter(load=load).delete()
        created = BatchFile.objects.bulk_create(
            [
                BatchFile(
                    load=load,
                    name=spec.name,
                    encoding=entry.encoding,
                    control_rows=entry.rows,
                    size=entry.size,
                )
                for spec in FILES
                if (entry := batch.entries.get(spec.name)) is not None
            ]
        )
    return {f.name: f for f in created}


def _safe_error(exc: BaseException) -> str:
    """The first line of an error: database errors put the offending key values
    (personal data) in their DETAIL lines, which stay out of the record and logs."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:300]}"

"""The load records (BatchLoad): a load requested, then claimed and run one at a
time, and ended with its audit event.

- One at a time: on PostgreSQL a session advisory lock held for the whole load
  (a killed process or a dropped connection releases it); on SQLite, the embedded
  single-machine default, the state of the loads table read under SQLite's write
  lock: a running load whose process is alive holds it.
- A load row is started again when Celery redelivers its task after a lost worker:
  `attempts` counts the starts, and above INGEST_MAX_ATTEMPTS the load is failed
  with an alert instead of being tried once more.
- The load row's status is committed outside the load's transaction, so that the
  history can be read while the load runs.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from core import locks

from ..choices import BatchStatus
from ..models import BatchFile, BatchLoad

logger = logging.getLogger(__name__)

# pg_advisory_lock key of "a batch load or the jobs that follow one is running"
LOCK_KEY = locks.INGEST
TERMINAL = frozenset({BatchStatus.LOADED, BatchStatus.DUPLICATE, BatchStatus.REFUSED, BatchStatus.FAILED})
OK = frozenset({BatchStatus.LOADED, BatchStatus.DUPLICATE})


class LoadBusy(Exception):
    """Another load is running; try again later."""


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool:
    """Whether the process that marked a load running still runs (same machine only:
    the SQLite default runs on one machine)."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def batch_load_create(
    *, source: str | Path, started_via: str, started_by=None, forced: bool = False
) -> BatchLoad:
    """Record a requested load (waiting); `ingest_run` runs it."""
    return BatchLoad.objects.create(
        source=str(source), started_via=started_via, started_by=started_by, forced=forced
    )


def batch_load_for_inbox(path: Path) -> BatchLoad:
    """The nightly job's load of an inbox batch: the unfinished one if a previous run
    of the job was interrupted (so its attempts keep counting), else a new one."""
    unfinished = (
        BatchLoad.objects.filter(source=str(path), started_via="beat")
        .exclude(status__in=TERMINAL)
        .order_by("-pk")
        .first()
    )
    return unfinished or batch_load_create(source=path, started_via="beat")


def newest_loaded_date() -> datetime.date | None:
    return BatchLoad.objects.filter(status=BatchStatus.LOADED).aggregate(d=Max("business_date"))["d"]


@contextmanager
def ingest_lock(*, wait: bool):
    """Held while a batch loads and while the jobs that follow a load run, so that
    they never interleave. PostgreSQL only (see the module docstring for SQLite)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                running = BatchLoad.objects.filter(status=BatchStatus.RUNNING).values_list("pk", flat=True)
                which = ", ".join(f"#{pk}" for pk in running) or _("or the jobs after one")
                raise LoadBusy(
                    _("Another load is running (%(which)s); try again when it has finished.")
                    % {"which": which}
                )
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except DatabaseError:  # the connection is gone, and the lock with it
            pass


def claim_load(load_id: int) -> BatchLoad:
    """Claim the load (under the lock): interrupted loads are marked so, the attempt
    is counted, and a load started too often is failed with an alert."""
    now = timezone.now()
    with transaction.atomic():
        # A write first: on SQLite it takes the database's write lock, so the check
        # of the running loads below cannot race with another process's.
        BatchLoad.objects.filter(pk=load_id).update(worker=_worker_id())
        load = BatchLoad.objects.select_for_update().get(pk=load_id)
        if load.status in TERMINAL:
            return load
        others = BatchLoad.objects.filter(status=BatchStatus.RUNNING).exclude(pk=load_id)
        if connection.vendor != "postgresql":
            alive = [o.pk for o in others if _alive(o.worker)]
            if alive:
                raise LoadBusy(
                    _("Another load is running (%(which)s); try again when it has finished.")
                    % {"which": f"#{alive[0]}"}
                )
        # Under the lock, any other "running" load is a dead one.
        others.update(
            status=BatchStatus.FAILED,
            finished_at=now,
            message=_("Interrupted: its process ended before it finished; nothing of it was written."),
        )
        load.attempts += 1
        cap = int(getattr(settings, "INGEST_MAX_ATTEMPTS", 3))
        if load.attempts > cap:
            message = _(
                "Gave up after %(cap)s attempts: each start ended without finishing (a worker lost "
                "while loading?). Fix the cause and start a new load."
            ) % {"cap": cap}
            logger.error("ALERT ingest: load %s of %s: %s", load.pk, load.source, message)
            load.status, load.finished_at, load.message = BatchStatus.FAILED, now, message
            load.save(update_fields=["attempts", "status", "finished_at", "message", "worker"])
            audit_load(load, alert=True)
            return load
        load.status = BatchStatus.RUNNING
        load.started_at = load.started_at or now
        load.save(update_fields=["attempts", "status", "started_at", "worker"])
    return load


def finish_load(load: BatchLoad, status: str, message: str, **fields) -> BatchLoad:
    with transaction.atomic():
        load.status, load.message, load.finished_at = status, message[:2000], timezone.now()
        for name, value in fields.items():
            setattr(load, name, value)
        load.save(update_fields=["status", "message", "finished_at", *fields])
        audit_load(load)
    return load


def audit_load(load: BatchLoad, *, alert: bool = False) -> None:
    files = {
        f.name: {"loaded": f.loaded, "rejected": f.rejected}
        for f in BatchFile.objects.filter(load=load).order_by("pk")
    }
    details = {
        "status": str(load.status),
        "business_date": load.business_date.isoformat() if load.business_date else None,
        "digest": load.digest[:16],
        "rows_loaded": load.rows_loaded,
        "rows_rejected": load.rows_rejected,
        "files": files,
        "attempts": load.attempts,
        "forced": load.forced,
        "message": load.message[:500],
    }
    if alert:
        details["alert"] = "redelivery cap reached"
    audit(
        Action.BATCH_LOADED,
        actor=load.started_by,
        actor_username="" if load.started_by_id else load.started_via,
        target=load,
        details=details,
    )

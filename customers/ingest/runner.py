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
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import Action, audit
from accounts.models import Branch
from core import locks
from core.text import visible_control_characters

from ..choices import BatchFilePhase, BatchStatus
from ..masking import mask_account_no, mask_contact, mask_id_number, mask_name
from ..models import (
    Account,
    AccountBalance,
    BatchFile,
    BatchLoad,
    ContactPoint,
    Customer,
    LoadError,
    TransactionSummary,
)
from .control import Batch, BatchProblem, business_date_of, read_batch, verify
from .merge import MOBILES, Merger, table
from .python_checks import PythonPass, check_customers, default_workers, encrypt_contacts
from .spec import (
    ACCOUNT,
    BALANCE,
    CONTACT,
    CUSTOMER,
    FILES,
    MASK_ACCOUNT,
    MASK_CONTACT,
    MASK_ID,
    MASK_NAME,
    TXN_SUMMARY,
    FileSpec,
)
from .staging import ERROR_TABLE, Dialect, Staging, staging_table

logger = logging.getLogger(__name__)

# pg_advisory_lock key of "a batch load or the jobs that follow one is running"
LOCK_KEY = locks.INGEST
TERMINAL = frozenset({BatchStatus.LOADED, BatchStatus.DUPLICATE, BatchStatus.REFUSED, BatchStatus.FAILED})
OK = frozenset({BatchStatus.LOADED, BatchStatus.DUPLICATE})
PROGRESS_EVERY = 0.5  # seconds between progress writes of one file
FETCH_CHUNK = 5000


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


# ---------------------------------------------------------------------- entry points


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
                which = ", ".join(f"#{pk}" for pk in running) or "or the jobs after one"
                raise LoadBusy(f"Another load is running ({which}); try again when it has finished.")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except DatabaseError:  # the connection is gone, and the lock with it
            pass


def ingest_run(load_id: int, *, notify: bool = True, on_busy: str = "raise") -> BatchLoad:
    """Run a recorded load to its end state and return it. `on_busy`: "raise"
    LoadBusy when another load runs (the Celery task retries later) or "refuse"
    (the load ends refused: the command). With `notify`, a loaded batch starts the
    jobs that follow a load (INGEST_AFTER_LOAD_TASK) once it is committed."""
    try:
        with ingest_lock(wait=False):
            load = _start(load_id)
            if load.status == BatchStatus.RUNNING:
                load = _run(load)
    except LoadBusy as busy:
        if on_busy == "raise":
            raise
        return _finish(BatchLoad.objects.get(pk=load_id), BatchStatus.REFUSED, str(busy))
    if notify and load.status == BatchStatus.LOADED:
        day = load.business_date
        transaction.on_commit(lambda: after_load(day))
    return load


def after_load(business_date: datetime.date) -> bool:
    """Start the jobs that follow a load (a Celery task named by the setting, so that
    this app does not depend on the apps that compose it). Returns whether they were
    started. The task modules are imported first: a process that is not a Celery
    worker (the import command, a web process) has not discovered them yet."""
    name = getattr(settings, "INGEST_AFTER_LOAD_TASK", "")
    if not name:
        return False
    from celery import current_app

    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    task = current_app.tasks.get(name)
    if task is None:
        logger.error("ingest: no task %s to run after the load of %s", name, business_date)
        return False
    try:
        task.delay([business_date.isoformat()])
    except Exception:  # the batch is in; the nightly job or an operator can refresh later
        logger.exception("ingest: could not start %s after the load of %s", name, business_date)
        return False
    return True


def after_load_again(business_date: datetime.date, *, actor=None, request=None) -> bool:
    """An administrator's re-run of the jobs that follow a load, for a business date
    that was loaded (audited). Raises LookupError when no batch of that date is."""
    loads = BatchLoad.objects.filter(status=BatchStatus.LOADED, business_date=business_date)
    load = loads.order_by("-pk").first()
    if load is None:
        raise LookupError(f"No batch of {business_date:%Y-%m-%d} is loaded.")
    started = after_load(business_date)
    audit(
        Action.BATCH_LOADED,
        actor=actor,
        request=request,
        target=load,
        details={"after_load_again": business_date.isoformat(), "started": started},
    )
    return started


# ---------------------------------------------------------------------- bookkeeping


def _start(load_id: int) -> BatchLoad:
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
                raise LoadBusy(f"Another load is running (#{alive[0]}); try again when it has finished.")
        # Under the lock, any other "running" load is a dead one.
        others.update(
            status=BatchStatus.FAILED,
            finished_at=now,
            message="Interrupted: its process ended before it finished; nothing of it was written.",
        )
        load.attempts += 1
        cap = int(getattr(settings, "INGEST_MAX_ATTEMPTS", 3))
        if load.attempts > cap:
            message = (
                f"Gave up after {cap} attempts: each start ended without finishing (a worker lost "
                "while loading?). Fix the cause and start a new load."
            )
            logger.error("ALERT ingest: load %s of %s: %s", load.pk, load.source, message)
            load.status, load.finished_at, load.message = BatchStatus.FAILED, now, message
            load.save(update_fields=["attempts", "status", "finished_at", "message", "worker"])
            _audit(load, alert=True)
            return load
        load.status = BatchStatus.RUNNING
        load.started_at = load.started_at or now
        load.save(update_fields=["attempts", "status", "started_at", "worker"])
    return load


def _finish(load: BatchLoad, status: str, message: str, **fields) -> BatchLoad:
    with transaction.atomic():
        load.status, load.message, load.finished_at = status, message[:2000], timezone.now()
        for name, value in fields.items():
            setattr(load, name, value)
        load.save(update_fields=["status", "message", "finished_at", *fields])
        _audit(load)
    return load


def _audit(load: BatchLoad, *, alert: bool = False) -> None:
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


def _safe_error(exc: BaseException) -> str:
    """The first line of an error: database errors put the offending key values
    (personal data) in their DETAIL lines, which stay out of the record and logs."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:300]}"


# ---------------------------------------------------------------------- the load


def _run(load: BatchLoad) -> BatchLoad:
    path = Path(load.source)
    try:
        batch = read_batch(path)
    except BatchProblem as problem:
        with suppress(BatchProblem):
            load.business_date = business_date_of(path)
        status = BatchStatus.REFUSED if problem.refused else BatchStatus.FAILED
        return _finish(load, status, problem.message, business_date=load.business_date)
    load.business_date = batch.business_date
    load.save(update_fields=["business_date"])
    try:
        verify(batch)
    except BatchProblem as problem:
        return _finish(load, BatchStatus.FAILED, problem.message + " Nothing was written.")
    load.digest = batch.digest
    load.save(update_fields=["digest"])
    earlier = (
        BatchLoad.objects.filter(
            status=BatchStatus.LOADED, business_date=batch.business_date, digest=batch.digest
        )
        .order_by("pk")
        .first()
    )
    if earlier is not None:
        return _finish(
            load,
            BatchStatus.DUPLICATE,
            f"Already loaded by load #{earlier.pk} "
            f"on {timezone.localtime(earlier.finished_at):%Y-%m-%d %H:%M}; "
            "nothing changed.",
        )
    newest = newest_loaded_date()
    if newest and batch.business_date < newest and not load.forced:
        return _finish(
            load,
            BatchStatus.REFUSED,
            f"Out of order: business date {batch.business_date} is older than the last loaded ({newest}). "
            "An administrator may force it.",
        )
    files = _prepare_files(load, batch)
    try:
        with transaction.atomic():
            BatchLoader(load, batch, files).run()
    except Exception as exc:
        message = _safe_error(exc)
        if isinstance(exc, DatabaseError):
            logger.error("ingest: load %s failed: %s", load.pk, message)
        else:
            logger.exception("ingest: load %s failed", load.pk)
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        return _finish(load, BatchStatus.FAILED, f"The load failed and wrote nothing ({message}).")
    load.refresh_from_db()
    return load


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


def _checkpoint(name: str) -> None:
    """Test hook: INGEST_TEST_PAUSE_AT (test settings only) parks the load here, inside
    its transaction, so that a test can kill the process at a known point."""
    if getattr(settings, "INGEST_TEST_PAUSE_AT", "") != name:
        return
    sys.stderr.write(f"INGEST PAUSED AT {name}\n")
    sys.stderr.flush()
    time.sleep(float(getattr(settings, "INGEST_TEST_PAUSE_SECONDS", 3600)))


@dataclass
class FileResult:
    lines: int = 0
    loaded: int = 0
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


_CUSTOMER_PY_COLUMNS = (
    "line_no", "id_type", "id_number_enc", "id_hash", "id_suffix", "keep_id", "gender", "birth_date",
    "keep_name", "name_pinyin", "name_initials", "search_tokens",
)  # fmt: skip
_CONTACT_PY_COLUMNS = ("line_no", "value_enc", "value_hash")


# The table each of the later files is written to.
TARGETS = {ACCOUNT: Account, BALANCE: AccountBalance, TXN_SUMMARY: TransactionSummary}


class BatchLoader:
    """Loads a verified batch inside the caller's transaction."""

    def __init__(self, load: BatchLoad, batch: Batch, files: dict[str, BatchFile]):
        self.load = load
        self.batch = batch
        self.files = files
        self.dialect = Dialect(connection.vendor)
        self.results: dict[str, FileResult] = {}
        self.lines: dict[str, int] = {}
        self._seconds: dict[str, float] = {}
        self.duplicates = 0
        self.progress: Progress | None = None

    def run(self) -> None:
        started = time.perf_counter()
        self.progress = Progress(self.files)
        try:
            with connection.cursor() as cursor:
                staging = Staging(cursor, self.dialect)
                if self.dialect.postgres:
                    # big hash joins and sorts in memory rather than in temp files
                    staging.execute("SET LOCAL work_mem = '256MB'")
                    staging.execute("SET LOCAL maintenance_work_mem = '512MB'")
                staging.create_common()
                merger = Merger(staging, self.dialect, business_date=self.batch.business_date)
                self._people(staging, merger)
                merges = {
                    ACCOUNT: merger.accounts,
                    BALANCE: merger.balances,
                    TXN_SUMMARY: merger.transactions,
                }
                for spec, merge in merges.items():
                    self._stage_and_check(spec, staging)
                    self._phase(spec, BatchFilePhase.MERGING, 75)
                    with self._timing(spec):
                        with merger.bulk(TARGETS[spec], staging.count(spec)):
                            written = merge()
                        if spec is ACCOUNT and self.dialect.postgres:
                            # fresh statistics: the balances join on the accounts just written
                            staging.execute(f"ANALYZE {table(Account)} (account_no, customer_id)")
                    self._done(spec, staging, written)
                    _checkpoint(f"{spec.kind}:merged")
                self._finish(staging, self.duplicates, time.perf_counter() - started)
                staging.drop_common()
        finally:
            self.progress.close()

    # ------------------------------------------------------------------- steps

    def _phase(self, spec: FileSpec, phase: str, percent: float) -> None:
        self.progress(spec, phase, percent)

    @contextmanager
    def _timing(self, spec: FileSpec):
        """Time spent on a file (customers and contacts interleave)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[spec.name] = self._seconds.get(spec.name, 0.0) + time.perf_counter() - started

    def _stage_and_check(self, spec: FileSpec, staging: Staging) -> None:
        """Stage a file and run every check SQL can do; the rows left are valid so far."""
        entry = self.batch.entries.get(spec.name)
        path = self.batch.path / spec.name if entry else None
        size = entry.size if entry else 0
        self._phase(spec, BatchFilePhase.READING, 0)
        with self._timing(spec):
            self.lines[spec.name] = staging.stage(
                spec,
                path,
                entry,
                lambda done: self._phase(spec, BatchFilePhase.READING, 50 * done / max(size, 1)),
            )
        _checkpoint(f"{spec.kind}:staged")
        self._phase(spec, BatchFilePhase.CHECKING, 50)
        with self._timing(spec):
            staging.check_fields(spec, _references(spec))
            if spec is not CUSTOMER:  # customers are checked for repeats after the ID check
                staging.check_repeats(spec)

    def _done(self, spec: FileSpec, staging: Staging, written: int) -> None:
        loaded = staging.count(spec)
        if written != loaded:
            # every checked row must have been written: never lose one silently
            raise RuntimeError(f"{spec.name}: {loaded} rows passed the checks but {written} were written")
        staging.drop(staging_table(spec), f"{staging_table(spec)}_py")
        self._phase(spec, BatchFilePhase.DONE, 100)
        self.results[spec.name] = FileResult(
            lines=self.lines.get(spec.name, 0), loaded=loaded, seconds=self._seconds.get(spec.name, 0.0)
        )

    def _people(self, staging: Staging, merger: Merger) -> None:
        """Customers and their contacts, checked together before either is written:
        a new customer is inserted with the mobile of its contacts (no second
        pass over the customer table)."""
        setting = getattr(settings, "INGEST_PYTHON_WORKERS", 0)
        rows = sum(e.rows for n, e in self.batch.entries.items() if n in (CUSTOMER.name, CONTACT.name))
        with PythonPass(default_workers(rows, setting)) as python:
            self._stage_and_check(CUSTOMER, staging)
            self._phase(CUSTOMER, BatchFilePhase.CHECKING, 60)
            with self._timing(CUSTOMER):
                self._customers_python(staging, python)
                staging.check_repeats(CUSTOMER)
            _checkpoint("customer:checked")  # the check pool (if any) is up
            self._stage_and_check(CONTACT, staging)
            with self._timing(CONTACT):
                self._contacts_python(staging, python)
        self._phase(CUSTOMER, BatchFilePhase.MERGING, 75)
        with self._timing(CUSTOMER):
            with merger.bulk(Customer, staging.count(CUSTOMER)):
                customers_written = merger.customers()
            if self.dialect.postgres and self.lines[CUSTOMER.name]:
                # fresh statistics for what follows, which joins on the customers just
                # written (those columns only: the others wait for autovacuum)
                staging.execute(f"ANALYZE {table(Customer)} (customer_no, id_type, id_hash, merged_into_id)")
            self.duplicates = merger.flag_duplicates()
        _checkpoint("customer:merged")
        self._phase(CONTACT, BatchFilePhase.MERGING, 75)
        with self._timing(CONTACT):
            with merger.bulk(ContactPoint, staging.count(CONTACT)):
                contacts_written = merger.contacts()
            merger.other_mobiles()
        self._done(CONTACT, staging, contacts_written)
        self._done(CUSTOMER, staging, customers_written)
        staging.drop("ing_mobile")
        _checkpoint("contact:merged")

    def _customers_python(self, staging: Staging, python: PythonPass) -> None:
        d = self.dialect
        staging.drop("ing_customer_py")
        staging.execute(
            d.create_temp(
                "ing_customer_py",
                f"line_no BIGINT, id_type TEXT, id_number_enc TEXT, id_hash TEXT, id_suffix TEXT,"
                f" keep_id {d.boolean}, gender TEXT, birth_date TEXT, keep_name {d.boolean},"
                " name_pinyin TEXT, name_initials TEXT, search_tokens TEXT",
            )
        )
        rows = staging.fetch_chunks(
            f"SELECT s.line_no, s.c_id_type, s.c_id_no, s.c_gender, s.c_birth_date, s.c_name,"
            f" c.id_type, c.id_hash, c.name FROM {staging_table(CUSTOMER)} s"
            f" LEFT JOIN {table(Customer)} c ON c.customer_no = s.c_cust_no",
            size=FETCH_CHUNK,
        )
        for out, errors in python.map(check_customers, rows):
            staging.insert_rows("ing_customer_py", _CUSTOMER_PY_COLUMNS, out)
            staging.add_errors(CUSTOMER, errors)
        staging.remove_rejected(CUSTOMER)

    def _contacts_python(self, staging: Staging, python: PythonPass) -> None:
        """Encrypt the contacts; the mobile that becomes each customer's (their first
        primary mobile, else their first mobile, in file order) is also encrypted for
        the customer row, into MOBILES."""
        d, contact = self.dialect, staging_table(CONTACT)
        staging.drop("ing_contact_py", MOBILES)
        staging.execute(d.create_temp("ing_contact_py", "line_no BIGINT, value_enc TEXT, value_hash TEXT"))
        staging.execute(
            d.create_temp(MOBILES, "cust_no TEXT, mobile_enc TEXT, mobile_hash TEXT, mobile_suffix TEXT")
        )
        rows = staging.fetch_chunks(
            f"SELECT s.line_no, s.c_cust_no, s.c_type, s.c_value,"
            f" CASE WHEN ch.first_line IS NULL THEN 0 ELSE 1 END"
            f" FROM {contact} s LEFT JOIN ("
            f"SELECT COALESCE(MIN(CASE WHEN c_is_primary = 'Y' THEN line_no END), MIN(line_no)) AS first_line"
            f" FROM {contact} WHERE c_type = 'MOBILE' GROUP BY c_cust_no) ch ON ch.first_line = s.line_no",
            size=FETCH_CHUNK,
        )
        for out, mobiles in python.map(encrypt_contacts, rows):
            staging.insert_rows("ing_contact_py", _CONTACT_PY_COLUMNS, out)
            staging.insert_rows(MOBILES, ["cust_no", "mobile_enc", "mobile_hash", "mobile_suffix"], mobiles)
        # customers whose new contacts hold no mobile have none any more
        staging.execute(
            f"INSERT INTO {MOBILES} (cust_no, mobile_enc, mobile_hash, mobile_suffix)"
            f" SELECT DISTINCT s.c_cust_no, '', '', '' FROM {contact} s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {MOBILES} m WHERE m.cust_no = s.c_cust_no)"
        )

    # ------------------------------------------------------------------ the end

    def _finish(self, staging: Staging, duplicates: int, seconds: float) -> None:
        """The error report, the counts and the `loaded` mark, in the load's
        transaction."""
        staging.cursor.execute(f"SELECT file, COUNT(DISTINCT line_no) FROM {ERROR_TABLE} GROUP BY file")
        rejected = {file: int(count) for file, count in staging.cursor.fetchall()}
        qn = connection.ops.quote_name
        for chunk in staging.fetch_chunks(
            f"SELECT file, line_no, col, val, code, reason, mask, ctype FROM {ERROR_TABLE}"
            " ORDER BY file, line_no",
            size=FETCH_CHUNK,
        ):
            staging.insert_rows(
                table(LoadError),
                [qn(c) for c in ("load_id", "file", "line", "column", "value", "code", "reason")],
                [
                    (
                        self.load.pk,
                        file,
                        int(line),
                        col or "",
                        _masked(mask, value, ctype),
                        code,
                        reason[:200],
                    )
                    for file, line, col, value, code, reason, mask, ctype in chunk
                ],
            )
        total_loaded = total_rejected = 0
        for name, record in self.files.items():
            result = self.results.get(name, FileResult())
            record.loaded, record.rejected = result.loaded, rejected.get(name, 0)
            record.phase, record.progress, record.seconds = BatchFilePhase.DONE, 100, round(result.seconds, 3)
            total_loaded += record.loaded
            total_rejected += record.rejected
        BatchFile.objects.bulk_update(
            list(self.files.values()), ["loaded", "rejected", "phase", "progress", "seconds"]
        )
        load = self.load
        load.status = BatchStatus.LOADED
        load.finished_at = timezone.now()
        load.rows_loaded, load.rows_rejected = total_loaded, total_rejected
        load.message = (
            f"Loaded {total_loaded} rows, rejected {total_rejected} (see the error report)"
            + (
                f"; {duplicates} possible duplicate customers sent to the data-quality queue"
                if duplicates
                else ""
            )
            + f" in {seconds:.1f} s."
        )
        load.save(update_fields=["status", "finished_at", "rows_loaded", "rows_rejected", "message"])
        _audit(load)


def _references(spec: FileSpec) -> dict[str, tuple[list[tuple[str, str]], str, str]]:
    """Values that must exist: column -> ([(table, column), ...] any of which may hold
    it, code, reason). Files are checked in order and customers and accounts are
    written before the files that refer to them are checked; contacts are checked
    before their customers are written, against the checked customers of the batch."""
    branch = ([(table(Branch), "code")], "unknown_branch", "no such branch in the portal")
    customer = (
        [(table(Customer), "customer_no")],
        "unknown_customer",
        "no such customer in the portal or this batch",
    )
    account = (
        [(table(Account), "account_no")],
        "unknown_account",
        "no such account in the portal or this batch",
    )
    batch_customer = ([*customer[0], (staging_table(CUSTOMER), "c_cust_no")], *customer[1:])
    return {
        CUSTOMER.name: {"HOME_BRANCH": branch},
        CONTACT.name: {"CUST_NO": batch_customer},
        ACCOUNT.name: {"CUST_NO": customer, "BRANCH": branch},
        BALANCE.name: {"ACCT_NO": account},
        TXN_SUMMARY.name: {"CUST_NO": customer},
    }[spec.name]


def _masked(mask: str | None, value: str | None, ctype: str | None) -> str:
    """An error report value as the privacy rules allow it to be shown, its control
    characters written out (they would act on the screen or in the CSV)."""
    if value is None:
        return ""
    if mask == MASK_ID:
        value = mask_id_number(value)
    elif mask == MASK_NAME:
        value = mask_name(value)
    elif mask == MASK_ACCOUNT:
        value = mask_account_no(value)
    elif mask == MASK_CONTACT:
        value = mask_contact(ctype or "", value)
    return visible_control_characters(value)[:200]

"""Chaos run of the nightly core-banking load: a worker killed mid-task, Redis
restarted and PostgreSQL restarted in the middle of a load, then the check that
every batch loaded exactly once, every job ended once and the database equals a
clean run's.

    .venv/bin/python bench/chaos.py                    # about 2 minutes on 2 cores
    .venv/bin/python bench/chaos.py --no-chaos         # control: no faults, must PASS
    .venv/bin/python bench/chaos.py --faults kill      # one fault only (kill, redis, postgres)
    .venv/bin/python bench/chaos.py --no-operator      # no operator steps after a FAIL

Run as root (PostgreSQL's programs then run as the postgres user, as in
deploy/replica.sh) or as a user that may run initdb. Everything runs on servers the
script starts itself and stops at the end, also on failure: its own PostgreSQL
cluster (initdb under /var/tmp/crm-chaos/pg, port 5436, fsync off), its own
redis-server (port 6386) and its own Celery workers
(`celery -A crm_portal worker -Q load,derived,exports,messages --concurrency 1`,
settings `crm_portal.settings.local` with DATABASE_URL and REDIS_URL on those
servers). The portal's own database and Redis are never touched. `--keep` leaves
the cluster running for inspection (`--stop` stops it). Exit status 0 on PASS, 1 on
FAIL.

1. Set up: a database `chaos_seed` (migrate; `seed_demo --customers 3000`: the demo
   bank, its business date D loaded), kept for later runs, and the batches of
   D+1..D+3 written by the demo extract writer (`make_extract`, 8,000 customers and
   20 broken rows each, so the error report has rows). `chaos_a` and `chaos_b` are
   copies of `chaos_seed` (CREATE DATABASE ... TEMPLATE): both start from the same
   rows and the same identity counters.
2. Clean run on `chaos_a`: the batches in its inbox (INGEST_INBOX), a worker, the
   nightly job enqueued as beat does (`crm_portal.nightly_load` on the `load`
   queue); waits for its result; fingerprints the database.
3. Chaos run on `chaos_b`: the same, and while the loads run, each fault when the
   watched state shows a load being written (its record `running`, a file of it in
   a writing phase, which is set only inside the load's transaction, and a session
   of the database inside a transaction):
   - kill -9 the pool process running the task while the second batch is written
     (the first is committed and archived), then start a second worker; the first
     worker's main process hands the task back (CELERY_TASK_REJECT_ON_WORKER_LOST);
   - restart redis-server while a load runs again (the redelivered task);
   - restart PostgreSQL (`pg_ctl stop -m fast`, then start) while the last batch
     is written.
   Then it waits (`--timeout`) for every job it started to end and the queues to
   empty, and checks, with no step by hand.
4. When that check fails, the steps docs/core-banking-extract.md gives an
   administrator (unless `--no-operator`): the nightly job started again when
   batches are left in the inbox, then `manage.py after_load YYYYMMDD` for each
   loaded date whose jobs after the load never ran; the database is checked again.
   Both verdicts are printed; the exit status is the first's.
5. Checks: one `loaded` record and one `loaded` audit event per business date, no
   load record left running, no error-report row of a load that did not load, no
   batch left in the inbox, the last nightly job SUCCESS and the jobs after the load
   run for every loaded date (the task results), and the fingerprint of `chaos_b`
   equal to `chaos_a`'s. Prints the timeline (event, seconds into the run, what
   happened), the jobs and loads, and the verdict with the differing tables.

Redis runs with `--appendonly yes --appendfsync always`: without persistence
(`--redis-persistence none`) a restart empties the broker, so a task waiting in a
queue is lost, and so is the record of the task a worker is running
(unacknowledged): if that worker dies afterwards nothing hands the task to another.

The fingerprint (`fingerprint`, `table_queries`, `table_digest`, `compare`): for
every table of the database, its row count and the MD5 of its rows, sorted, with
what legitimately differs between two runs of the same batches left out or
replaced by what it stands for:
- surrogate keys (`id`), every date-time column (when a row was written) and
  durations (columns and JSON keys `seconds`, `timings`, `*_s`);
- encrypted values (`*_enc`: a new nonce each time; their blind-index hashes and
  suffixes stay in) and the generated search vector (from `search_tokens`);
- references to customers, accounts and batch loads are replaced by the customer
  number, the account number and the load's business date and status: a load
  killed mid-way used up identity values, so the same customer can get another id;
- the load records: only the `loaded` ones (a crash leaves the record of the
  interrupted attempt, which is history, not a difference), without their inbox
  path, worker, attempt count and message (it ends with the seconds taken); their
  files and error-report rows only those of `loaded` records; the load audit
  events the same way (status `loaded` or none, without attempts and message; the
  audited `after_load` re-runs left out). The attempts are listed in the job table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_portal.queues import QUEUE_NAMES  # noqa: E402  (imports nothing of Django's)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
BASE = Path(os.environ.get("CRM_CHAOS_DIR", "/var/tmp/crm-chaos"))  # noqa: S108  (the servers' own, as deploy/replica.sh)
PG_PORT = int(os.environ.get("CRM_CHAOS_PG_PORT", "5436"))
REDIS_PORT = int(os.environ.get("CRM_CHAOS_REDIS_PORT", "6386"))
PG_BIN = os.environ.get("PG_BIN") or next(
    iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1:]), ""
)
SEED_DB = "chaos_seed"
NIGHTLY = "crm_portal.nightly_load"
WRITING = ("reading", "checking", "merging")  # a file's phases inside the load's transaction


# ------------------------------------------------------------------ fingerprint


def is_timing(key: str) -> bool:
    """Whether a JSON key holds how long something took (it differs run to run)."""
    return key in ("seconds", "timings") or key.endswith(("_s", "_seconds"))


def without_timings(value: object) -> object:
    """A JSON value without its timing keys, at any depth."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not is_timing(k)}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def _text(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, dict | list):
        return json.dumps(without_timings(value), sort_keys=True, default=str)
    return str(value)


def table_digest(rows: Iterable[Sequence[object]]) -> tuple[int, str]:
    """Row count and MD5 of a table's rows, whatever order they come in; JSON values
    are compared without their timing keys."""
    lines = sorted("\x1f".join(_text(v) for v in row) for row in rows)
    md5 = hashlib.md5(usedforsecurity=False)
    for line in lines:
        md5.update(line.encode())
        md5.update(b"\n")
    return len(lines), md5.hexdigest()


def compare(a: dict[str, tuple[int, str]], b: dict[str, tuple[int, str]]) -> list[str]:
    """The tables whose fingerprints differ (present in one only, another count, or
    the same count with other rows), each with what differs."""
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            out.append(f"{name}: only in {'the clean run' if name in a else 'the chaos run'}")
        elif a[name][0] != b[name][0]:
            out.append(f"{name}: {a[name][0]} rows clean, {b[name][0]} after chaos")
        elif a[name][1] != b[name][1]:
            out.append(f"{name}: same {a[name][0]} rows, other values")
    return out


# Natural keys standing for the references whose ids can differ between runs.
NATURAL = {
    "customers_customer": "(SELECT customer_no FROM customers_customer k WHERE k.id = t.{col})",
    "customers_account": "(SELECT account_no FROM customers_account k WHERE k.id = t.{col})",
    "customers_batchload": "(SELECT business_date::text || ':' || status FROM customers_batchload k WHERE k.id = t.{col})",
}
# Columns of one table left out (see the module docstring), and the rows compared.
LEFT_OUT = {
    "customers_batchload": {"source", "worker", "attempts", "message", "started_by_id"},
    "customers_batchfile": {"seconds"},
}
ROWS = {
    "customers_batchload": "t.status = 'loaded'",
    "customers_batchfile": "EXISTS (SELECT 1 FROM customers_batchload k WHERE k.id = t.load_id AND k.status = 'loaded')",
    "customers_loaderror": "EXISTS (SELECT 1 FROM customers_batchload k WHERE k.id = t.load_id AND k.status = 'loaded')",
}
AUDIT = "accounts_auditevent"


def table_queries(
    columns: dict[str, list[tuple[str, str]]], references: dict[tuple[str, str], str]
) -> dict[str, str]:
    """SELECT of every table's compared projection. `columns`: table -> [(column,
    type)]; `references`: (table, column) -> the table it refers to."""
    queries = {}
    for name, cols in sorted(columns.items()):
        if name == AUDIT:
            continue
        exprs = []
        for col, typ in cols:
            if col == "id" or col in LEFT_OUT.get(name, ()) or typ.startswith("timestamp") or is_timing(col):
                continue
            if col.endswith("_enc") or typ == "tsvector":
                continue
            target = references.get((name, col))
            exprs.append(NATURAL[target].format(col=f'"{col}"') if target in NATURAL else f't."{col}"')
        where = f" WHERE {ROWS[name]}" if name in ROWS else ""
        queries[name] = f"SELECT {', '.join(exprs) or '1'} FROM {name} t{where}"
    if AUDIT in columns:
        # every audit event but the loads' attempts that did not load; a load's event
        # without its attempts and message, its target by business date
        queries[AUDIT] = (
            "SELECT action, actor_id, actor_username, target_type,"
            " CASE WHEN action = 'batch_loaded' THEN '' ELSE target_id END, target_repr,"
            " CASE WHEN action = 'batch_loaded' THEN details - 'attempts' - 'message' ELSE details END"
            f" FROM {AUDIT}"
            " WHERE action <> 'batch_loaded'"
            " OR (details->>'status' = 'loaded' OR details->>'status' IS NULL) AND NOT details ? 'after_load_again'"
        )
    return queries


def fingerprint(dsn: str) -> dict[str, tuple[int, str]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        cols: dict[str, list[tuple[str, str]]] = {}
        for table, col, typ in conn.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
            " ORDER BY c.table_name, c.ordinal_position"
        ):
            cols.setdefault(table, []).append((col, typ))
        refs = {
            (table, col): target
            for table, col, target in conn.execute(
                "SELECT cl.relname, a.attname, ft.relname FROM pg_constraint c"
                " JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class ft ON ft.oid = c.confrelid"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                " WHERE c.contype = 'f' AND cardinality(c.conkey) = 1"
            )
        }
        # references declared without a database constraint (db_constraint=False)
        for table, columns in cols.items():
            for col, _typ in columns:
                if col in ("customer_id", "merged_into_id") and (table, col) not in refs:
                    refs[(table, col)] = "customers_customer"
                if col == "account_id" and (table, col) not in refs:
                    refs[(table, col)] = "customers_account"
        return {name: table_digest(conn.execute(sql)) for name, sql in table_queries(cols, refs).items()}


# ------------------------------------------------------------------ the servers


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Postgres:
    def __init__(self) -> None:
        self.data = BASE / "pg"
        self.log = BASE / "pg.log"

    def dsn(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{PG_PORT}/{db}"

    def running(self) -> bool:
        return (self.data / "PG_VERSION").exists() and subprocess.run(
            _as_postgres([f"{PG_BIN}/pg_ctl", "status", "-D", str(self.data)]), capture_output=True
        ).returncode == 0

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            sh(_as_postgres([f"{PG_BIN}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "-N"]))  # fmt: skip
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(
                    f"\n# bench/chaos.py: a disposable cluster\nport = {PG_PORT}\n"
                    f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{BASE}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "shared_buffers = 64MB\nmax_connections = 40\n"
                )
        if not self.running():
            sh(
                _as_postgres(
                    [f"{PG_BIN}/pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30"]
                )
            )

    def restart(self, mode: str = "fast") -> None:
        """What `pg_ctl restart -m MODE` does, as a stop and a start: the restart
        would reuse the command line of the first start (postmaster.opts)."""
        sh(_as_postgres([f"{PG_BIN}/pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60"]))
        sh(
            _as_postgres(
                [f"{PG_BIN}/pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"]
            )
        )

    def stop(self) -> None:
        if self.running():
            sh(
                _as_postgres(
                    [f"{PG_BIN}/pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30"]
                )
            )

    def sql(self, statement: str, db: str = "postgres", params: Sequence[object] = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn(db), autocommit=True, connect_timeout=3) as conn:
            cur = conn.execute(statement, params or None)
            return cur.fetchall() if cur.description else []


class Redis:
    """redis-server on its own port. With `persistence="aof"` (the default) every
    write is appended and fsynced (appendfsync always): the queues, the
    unacknowledged tasks Celery keeps for redelivery and the task results survive a
    restart. Without it a restart empties the broker."""

    def __init__(self, persistence: str) -> None:
        self.persistence = persistence
        self.dir = BASE / "redis"
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{REDIS_PORT}/{db}"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        persist = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistence == "aof"
            else ["--appendonly", "no"]
        )
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
                *persist,
                "--logfile",
                str(BASE / "redis.log"),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(100):
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {REDIS_PORT} did not start (see {BASE / 'redis.log'})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # a clean shutdown: the append-only file is flushed
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen

    def children(self) -> list[int]:
        with contextlib.suppress(OSError):
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            return [int(p) for p in text.split()]
        return []


@dataclass
class Run:
    """One run of the nightly job against one database."""

    db: str
    pg: Postgres
    redis: Redis
    batches: list[Path]
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    ended: dict[str, tuple[str, object]] = field(default_factory=dict)  # task id -> (state, result)
    mark: tuple | None = None  # the load the worker was killed in
    after_loaded: set[str] = field(default_factory=set)  # dates given to `manage.py after_load`

    @property
    def inbox(self) -> Path:
        return BASE / f"inbox_{self.db}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
            "DATABASE_URL": self.pg.dsn(self.db),
            "REDIS_URL": self.redis.url(),
            "PII_KEY_FILE": str(BASE / "pii.keys"),
            "INGEST_INBOX": str(self.inbox),
            "INGEST_PYTHON_WORKERS": "1",  # the checks in the worker's process: 2 cores
            "PYTHONUNBUFFERED": "1",
        }

    def log(self, event: str, what: str) -> None:
        t = time.monotonic() - self.started
        self.events.append((t, event, what))
        print(f"  [{self.db} {t:6.1f}s] {event}: {what}", flush=True)

    def start_worker(self) -> Worker:
        n = len(self.workers) + 1
        name = f"chaos{n}-{self.db}@%h"
        logfile = open(BASE / f"worker-{self.db}-{n}.log", "w")  # noqa: SIM115  (kept by the process)
        proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "crm_portal",
                "worker",
                "-Q",
                ",".join(QUEUE_NAMES),
                "--concurrency",
                "1",
                "-n",
                name,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],  # fmt: skip
            cwd=ROOT,
            env=self.env(),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(name, proc)
        self.workers.append(worker)
        self.log("worker started", f"{name} pid {proc.pid}")
        return worker

    def stop_workers(self) -> None:
        for w in self.workers:
            if w.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(w.proc.pid, signal.SIGTERM)
        for w in self.workers:
            try:
                w.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(w.proc.pid, signal.SIGKILL)
                w.proc.wait()

    def enqueue_nightly(self, why: str) -> str:
        from celery import Celery

        app = Celery("chaos", broker=self.redis.url(), backend=self.redis.url())
        task_id = str(uuid.uuid4())
        app.send_task(NIGHTLY, queue="load", task_id=task_id)
        self.tasks.append(task_id)
        self.log("nightly job enqueued", f"{NIGHTLY} {task_id[:8]} ({why})")
        return task_id

    # ------------------------------------------------------------- observations

    def task_state(self, task_id: str) -> tuple[str, object]:
        try:
            raw = self.redis.client().get(f"celery-task-meta-{task_id}")
        except Exception:
            return "UNKNOWN", None
        if raw is None:
            return "PENDING", None
        meta = json.loads(raw)
        return meta.get("status", "UNKNOWN"), meta.get("result")

    def broker_idle(self) -> bool:
        try:
            client = self.redis.client()
            return not any(client.llen(q) for q in QUEUE_NAMES) and not client.hlen("unacked")
        except Exception:
            return False

    def writing_load(self) -> tuple[int, str, int, str, str] | None:
        """The load being written now, if any: (load id, business date, attempts,
        file, phase), seen from outside the worker: its record is running, a file of
        it is in a writing phase (set only inside the load's transaction) and a
        session of the database is inside a transaction."""
        try:
            rows = self.pg.sql(
                "SELECT l.id, l.business_date::text, l.attempts, f.name, f.phase,"
                " (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database()"
                "   AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL"
                "   AND a.backend_type = 'client backend')"
                " FROM customers_batchload l JOIN customers_batchfile f ON f.load_id = l.id"
                f" WHERE l.status = 'running' AND f.phase IN {WRITING!r}"
                " ORDER BY f.id DESC LIMIT 1",
                self.db,
            )
        except Exception:
            return None
        if not rows or not rows[0][5]:
            return None
        return rows[0][:5]

    def loads(self) -> list[tuple]:
        return self.pg.sql(
            "SELECT id, business_date::text, status, attempts, started_via, message FROM customers_batchload"
            " WHERE started_via = 'beat' ORDER BY id",
            self.db,
        )

    # ------------------------------------------------------------- the run

    def wait_until(
        self, condition: Callable[[], object], timeout: float, what: str, *, while_running: bool = False
    ) -> object:
        """Poll `condition` until it is true; with `while_running`, give up as soon as
        the nightly job has ended (the state waited for cannot come any more)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if while_running and self.tasks:
                state, result = self.task_state(self.tasks[-1])
                if state in ("SUCCESS", "FAILURE"):
                    raise RuntimeError(
                        f"{self.db}: the nightly job ended {state} before {what}: {_short(result)}"
                    )
            time.sleep(0.03)
        raise TimeoutError(f"{self.db}: {what} not seen within {timeout:.0f} s")

    def settled(self) -> bool:
        states = [self.task_state(t)[0] for t in self.tasks]
        return all(s in ("SUCCESS", "FAILURE") for s in states) and self.broker_idle()

    def remaining(self) -> list[str]:
        return sorted(p.name for p in self.inbox.iterdir() if p.is_dir() and p.name.isdigit())

    def execute(self, *, faults: Sequence[str], timeout: float) -> None:
        """The nightly job as beat starts it, the faults while it runs, and the wait
        for everything started to end: no step by hand."""
        shutil.rmtree(self.inbox, ignore_errors=True)
        self.inbox.mkdir(parents=True)
        for batch in self.batches:
            shutil.copytree(batch, self.inbox / batch.name)
        self.started = time.monotonic()
        self.start_worker()
        self.enqueue_nightly("as the beat schedule does")
        if faults:
            self._chaos([_iso(b.name) for b in self.batches], faults, timeout)
        self.wait_until(self.settled, timeout, "the nightly job's end")
        self._ended()

    def operator(self, dates: list[str], timeout: float) -> None:
        """What docs/core-banking-extract.md tells an administrator to do after an
        interrupted night: run the load again (the periodic task "Nightly core-banking
        load" started again: batches left in the inbox), then `manage.py after_load
        YYYYMMDD` for each loaded date whose jobs after the load never ended."""
        if self.remaining():
            self.log("operator", f"batches left in the inbox {self.remaining()}: nightly job started again")
            self.enqueue_nightly("operator re-run")
            self.wait_until(self.settled, timeout, "the re-run's end")
            self._ended()
        for day in self.without_after_load(dates):
            out = manage(["after_load", day.replace("-", "")], self.db, env=self.env())
            self.after_loaded.add(day)
            self.log("operator", f"manage.py after_load {day.replace('-', '')}: {out.strip()[:100]}")
        idle: list[bool] = []
        self.wait_until(
            lambda: idle.append(self.broker_idle()) or idle[-5:] == [True] * 5, timeout, "the jobs"
        )
        self.log("operator", "the jobs after the load ended")

    def without_after_load(self, dates: list[str]) -> list[str]:
        """The loaded dates whose jobs after the load never ended: their load is not
        marked done (`after_load_done_at`: set when every step of the chain has run
        for it, by the nightly job or by `after_load`)."""
        owed = {
            day
            for (day,) in self.pg.sql(
                "SELECT business_date::text FROM customers_batchload "
                "WHERE status = 'loaded' AND after_load_done_at IS NULL",
                self.db,
            )
        }
        return sorted(d for d in dates if d in owed)

    def _ended(self) -> None:
        for task_id in self.tasks:
            if task_id not in self.ended:
                self.ended[task_id] = state, result = self.task_state(task_id)
                self.log("nightly job ended", f"{task_id[:8]} {state}: {_short(result)}")

    def _chaos(self, dates: list[str], faults: Sequence[str], timeout: float) -> None:
        if "kill" in faults:
            self._kill_worker(dates[1], timeout)
        if "redis" in faults:
            self._restart_redis(timeout)
        if "postgres" in faults:
            self._restart_postgres(dates[-1], timeout)

    def _kill_worker(self, day: str, timeout: float) -> None:
        """kill -9 the task's process while the second batch is written (the first
        one committed), then start a new worker."""
        seen = self.wait_until(
            lambda: (w := self.writing_load()) and w[1] == day and w[4] == "merging" and w,
            timeout,
            f"the load of {day} writing",
            while_running=True,
        )
        assert isinstance(seen, tuple)
        self.mark = seen
        victim = self.workers[0]
        pids = victim.children()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.log(
            "kill -9 worker",
            f"load #{seen[0]} of {seen[1]} (attempt {seen[2]}) {seen[3]} {seen[4]}: "
            f"killed {victim.name}'s task process {pids}",
        )
        self.start_worker()

    def _restart_redis(self, timeout: float) -> None:
        """Restart Redis while a load runs (after a kill: the redelivered task)."""
        mark = self.mark
        again = self.wait_until(
            lambda: (w := self.writing_load()) and (mark is None or w[0] != mark[0] or w[2] > mark[2]) and w,
            timeout,
            "a load running",
            while_running=True,
        )
        assert isinstance(again, tuple)
        t0 = time.monotonic()
        self.redis.restart()
        self.log(
            "restart redis",
            f"load #{again[0]} of {again[1]} (attempt {again[2]}) {again[3]} {again[4]}; "
            f"down {time.monotonic() - t0:.1f} s, {self.redis.persistence} persistence",
        )

    def _restart_postgres(self, day: str, timeout: float) -> None:
        """Restart PostgreSQL while the last batch is written."""
        writing = self.wait_until(
            lambda: (w := self.writing_load()) and w[1] == day and w[4] in ("checking", "merging") and w,
            timeout,
            f"the load of {day} writing",
            while_running=True,
        )
        assert isinstance(writing, tuple)
        t0 = time.monotonic()
        self.pg.restart("fast")
        self.log(
            "restart postgresql",
            f"load #{writing[0]} of {writing[1]} (attempt {writing[2]}) {writing[3]} {writing[4]}; "
            f"pg_ctl stop -m fast + start took {time.monotonic() - t0:.1f} s",
        )


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}"


def _short(value: object, size: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= size else text[: size - 3] + "..."


# ------------------------------------------------------------------ set-up


def manage(args: list[str], db: str, *, env: dict[str, str] | None = None) -> str:
    env = env or {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
        "DATABASE_URL": Postgres().dsn(db),
        "PII_KEY_FILE": str(BASE / "pii.keys"),
        "INGEST_INBOX": str(BASE / "inbox_seed"),
        "INGEST_PYTHON_WORKERS": "1",
        "REDIS_URL": "",  # no broker: the seed's jobs run in this process
        "CELERY_BROKER_URL": "",
    }
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)}: exit {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def set_up(pg: Postgres, *, customers: int, batch_customers: int, batches: int) -> list[Path]:
    BASE.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(BASE, "postgres")
    pg.start()
    keys = BASE / "pii.keys"
    if not keys.exists():
        sh([PYTHON, "-c", "import sys; from pathlib import Path; from customers.crypto import generate_key_file;"
            " generate_key_file(Path(sys.argv[1]))", str(keys)], cwd=ROOT)  # fmt: skip
    # the seed is made again when the migrations change (a cached seed of an older schema)
    migrations = hashlib.sha256(
        "\n".join(sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/migrations/0*.py"))).encode()
    ).hexdigest()[:12]
    marker = f"seeded {customers} {migrations}"
    comment = pg.sql(
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{SEED_DB}'"
    )
    if not comment or comment[0][0] != marker:
        pg.sql(f"DROP DATABASE IF EXISTS {SEED_DB}")
        pg.sql(f"CREATE DATABASE {SEED_DB}")
        t0 = time.monotonic()
        manage(["migrate", "-v0"], SEED_DB)
        # seed_demo, with the demo's own batch written under BASE rather than var/demo
        seed = (
            "from django.core.management import call_command\n"
            "from django.test.utils import override_settings\n"
            f"with override_settings(DEMO_BATCH_DIR={str(BASE / 'demo')!r}):\n"
            f"    call_command('seed_demo', customers={customers})\n"
        )
        manage(["shell", "-c", seed], SEED_DB)
        pg.sql(f"COMMENT ON DATABASE {SEED_DB} IS '{marker}'")
        print(
            f"  seeded {SEED_DB}: migrate + seed_demo --customers {customers} in {time.monotonic() - t0:.0f} s"
        )
    day = pg.sql("SELECT max(business_date) FROM customers_batchload WHERE status = 'loaded'", SEED_DB)[0][0]
    out = BASE / "batches"
    paths = []
    for k in range(1, batches + 1):
        date = day + datetime.timedelta(days=k)
        path = out / f"{date:%Y%m%d}"
        stamp = path / ".customers"
        if not (stamp.exists() and stamp.read_text() == str(batch_customers)):
            shutil.rmtree(path, ignore_errors=True)
            manage(["make_extract", str(out), "--date", f"{date:%Y%m%d}", "--customers", str(batch_customers),
                    "--bad-rows", "20"], SEED_DB)  # fmt: skip
            stamp.write_text(str(batch_customers))
        paths.append(path)
    print(
        f"  seed business date {day}; batches {', '.join(p.name for p in paths)} ({batch_customers} customers each)"
    )
    return paths


def fresh_db(pg: Postgres, db: str) -> None:
    pg.sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    pg.sql(f"CREATE DATABASE {db} TEMPLATE {SEED_DB}")


# ------------------------------------------------------------------ the checks


def job_report(run: Run, dates: list[str]) -> tuple[list[str], list[str]]:
    """(lines describing each job and load, problems)."""
    lines, problems = [], []
    for task_id in run.tasks:
        state, result = run.ended.get(task_id, ("not ended", None))
        lines.append(f"task {task_id[:8]} {NIGHTLY}: {state} {_short(result, 300)}")
    loads = run.loads()
    for pk, day, status, attempts, via, message in loads:
        lines.append(f"load #{pk} {day} {status} attempts={attempts} via={via}: {message[:110]}")
    loaded = run.pg.sql(
        "SELECT business_date::text, count(*) FROM customers_batchload WHERE status = 'loaded'"
        " AND business_date >= %s GROUP BY 1 ORDER BY 1",
        run.db,
        [dates[0]],
    )
    per_day = dict(loaded)
    for day in dates:
        if per_day.get(day, 0) != 1:
            problems.append(f"{day}: {per_day.get(day, 0)} loaded records (want exactly 1)")
    stuck = [f"#{pk} {day}" for pk, day, status, *_rest in loads if status in ("running", "queued")]
    if stuck:
        problems.append(f"load records left unfinished: {', '.join(stuck)}")
    events = run.pg.sql(
        "SELECT details->>'business_date', count(*) FROM accounts_auditevent WHERE action = 'batch_loaded'"
        " AND details->>'status' = 'loaded' AND details->>'business_date' >= %s GROUP BY 1",
        run.db,
        [dates[0]],
    )
    for day, count in events:
        if count != 1:
            problems.append(f"{day}: {count} 'loaded' audit events (want exactly 1)")
    orphans = run.pg.sql(
        "SELECT count(*) FROM customers_loaderror e JOIN customers_batchload l ON l.id = e.load_id"
        " WHERE l.status <> 'loaded'",
        run.db,
    )[0][0]
    if orphans:
        problems.append(f"{orphans} error-report rows of loads that did not load")
    if run.remaining():
        problems.append(f"batches still in the inbox: {run.remaining()}")
    missing = run.without_after_load(dates)
    if missing:
        problems.append(f"the jobs after the load never ran for {', '.join(missing)}")
    last_state = run.ended.get(run.tasks[-1], ("not ended", None))[0]
    if last_state != "SUCCESS":
        problems.append(f"the last nightly job ended {last_state}")
    return lines, problems


def print_table(run: Run) -> None:
    print(f"\n{'event':<22} {'when':>7}  what happened")
    print(f"{'-' * 22} {'-' * 7}  {'-' * 60}")
    for t, event, what in run.events:
        print(f"{event:<22} {t:6.1f}s  {what}")


SHOWN = (
    "customers_customer",
    "customers_contactpoint",
    "customers_account",
    "customers_accountbalance",
    "customers_customerdailyaum",
    "customers_customermonthlyaum",
    "customers_batchload",
    "customers_batchfile",
    "customers_loaderror",
    AUDIT,
)


def print_fingerprints(clean: dict[str, tuple[int, str]], chaos: dict[str, tuple[int, str]]) -> None:
    print("Fingerprint (rows, md5) of the tables a load writes:")
    for name in SHOWN:
        a, b = clean.get(name), chaos.get(name)
        mark = "=" if a == b else "DIFFERS"
        print(
            f"  {name:<30} clean {a[0] if a else '-':>8} {a[1][:12] if a else '':<12}"
            f"  chaos {b[0] if b else '-':>8} {b[1][:12] if b else '':<12} {mark}"
        )
    print(f"  ... and {len(clean) - len(SHOWN)} other tables compared the same way")


def verdict(label: str, problems: list[str], differing: list[str]) -> bool:
    ok = not problems and not differing
    print(f"\n{label}: {'PASS' if ok else 'FAIL'}")
    for p in problems:
        print(f"  job: {p}")
    for d in differing:
        print(f"  differs: {d}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=3000, help="customers seeded (seed_demo)")
    parser.add_argument("--batch-customers", type=int, default=8000, help="customers in each batch")
    parser.add_argument("--batches", type=int, default=3, help="business dates loaded by the nightly job")
    parser.add_argument("--redis-persistence", choices=("aof", "none"), default="aof")
    parser.add_argument(
        "--faults", default="kill,redis,postgres", help="which faults, of kill,redis,postgres (default all)"
    )
    parser.add_argument("--no-chaos", action="store_true", help="the second run without faults (control)")
    parser.add_argument("--no-operator", action="store_true", help="no operator steps after a FAIL")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for each stage")
    parser.add_argument("--keep", action="store_true", help="leave PostgreSQL running (--stop stops it)")
    parser.add_argument("--stop", action="store_true", help="stop a cluster left by --keep, and exit")
    args = parser.parse_args(argv)
    faults = [] if args.no_chaos else [f for f in args.faults.split(",") if f]
    if args.batches < 2 or not set(faults) <= {"kill", "redis", "postgres"}:
        parser.error("--batches must be 2 or more; --faults names kill, redis or postgres")

    pg, redis_server = Postgres(), Redis(args.redis_persistence)
    if args.stop:
        pg.stop()
        return 0
    began = time.monotonic()
    runs: list[Run] = []
    try:
        print(f"chaos: PostgreSQL {PG_PORT} ({pg.data}), Redis {REDIS_PORT}, {os.cpu_count()} CPUs")
        batches = set_up(
            pg, customers=args.customers, batch_customers=args.batch_customers, batches=args.batches
        )
        shutil.rmtree(redis_server.dir, ignore_errors=True)
        redis_server.start()
        dates = [_iso(b.name) for b in batches]

        clean = Run(db="chaos_a", pg=pg, redis=redis_server, batches=batches)
        runs.append(clean)
        fresh_db(pg, clean.db)
        print(f"\n{clean.db}: clean run")
        try:
            clean.execute(faults=[], timeout=args.timeout)
        finally:
            clean.stop_workers()
        clean_print = fingerprint(pg.dsn(clean.db))
        _lines, clean_problems = job_report(clean, dates)
        clean.log("fingerprint", f"{len(clean_print)} tables")

        redis_server.client().flushall()
        chaos = Run(db="chaos_b", pg=pg, redis=redis_server, batches=batches)
        runs.append(chaos)
        fresh_db(pg, chaos.db)
        print(f"\n{chaos.db}: run with faults {', '.join(faults) or 'none'}")
        try:
            chaos.execute(faults=faults, timeout=args.timeout)
            chaos_print = fingerprint(pg.dsn(chaos.db))
            chaos.log("fingerprint", f"{len(chaos_print)} tables")
            lines, problems = job_report(chaos, dates)
            problems += [f"clean run: {p}" for p in clean_problems]
            differing = compare(clean_print, chaos_print)
            after: tuple[list[str], list[str], dict[str, tuple[int, str]]] | None = None
            if (problems or differing) and not args.no_operator:
                chaos.operator(dates, args.timeout)
                operator_print = fingerprint(pg.dsn(chaos.db))
                chaos.log("fingerprint", f"{len(operator_print)} tables, after the operator's steps")
                after = (*job_report(chaos, dates), operator_print)
        finally:
            chaos.stop_workers()

        print_table(chaos)
        print("\nJobs and loads of the chaos run, as the faults left them:")
        for line in lines:
            print(f"  {line}")
        print()
        print_fingerprints(clean_print, chaos_print)
        ok = verdict("VERDICT (no step by hand)", problems, differing)
        if after is not None:
            op_lines, op_problems, operator_print = after
            print("\nJobs and loads after the operator's steps:")
            for line in op_lines:
                print(f"  {line}")
            print()
            print_fingerprints(clean_print, operator_print)
            verdict("AFTER THE OPERATOR'S STEPS", op_problems, compare(clean_print, operator_print))
        print(f"\n{time.monotonic() - began:.0f} s in all")
        return 0 if ok else 1
    finally:
        for run in runs:
            run.stop_workers()
        redis_server.stop()
        if not args.keep:
            pg.stop()


if __name__ == "__main__":
    sys.exit(main())

"""Crash safety and one load at a time: a load killed midway (a real process killed
with SIGKILL, or its database connection dropped) leaves nothing of the batch
visible, and running it again ends in exactly the state of one clean load (digests
of the tables compared); the redelivery cap; the lock."""

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import translation

from customers.choices import BatchStatus
from customers.ingest.runner import LOCK_KEY, LoadBusy, batch_load_create, ingest_run
from customers.models import BatchFile, BatchLoad, Customer, LoadError
from customers.tasks import ingest_load_task
from tests.customers.ingest_helpers import batch, digest, load, wipe

ROOT = Path(__file__).resolve().parents[2]


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a killed process's transaction and the advisory lock need PostgreSQL (CI runs it)")


def _dsn() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


INTERRUPTED = "Interrupted: its process ended before it finished; nothing of it was written."


def _said(text: str, message: str) -> bool:
    """Whether `message` is `text`, in English or in the portal's language."""
    with translation.override("zh-hans"):  # the portal's (crm_portal/settings/base.py)
        chinese = translation.gettext(text)
    return message in (text, chinese)


def _start_paused(path: Path, point: str, *, seconds: float = 3600) -> subprocess.Popen:
    """`manage.py import_extract` in a child process that parks inside its load
    transaction at `point`; returns once it is parked there."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.test",
        "DATABASE_URL": _dsn(),
        "INGEST_TEST_PAUSE_AT": point,
        "INGEST_TEST_PAUSE_SECONDS": str(seconds),
        "INGEST_AFTER_LOAD_TASK": "",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_extract", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([proc.stderr], [], [], 1)
        if ready:
            line = proc.stderr.readline()
            seen.append(line)
            if line.startswith(f"INGEST PAUSED AT {point}"):
                return proc
            if not line and proc.poll() is not None:
                break
    proc.kill()
    pytest.fail(f"the load did not reach {point}: {''.join(seen)[-3000:]}")


@pytest.fixture
def no_sessions_left_behind():
    """The child loads' sessions end before the test database is dropped."""
    yield
    if connection.vendor != "postgresql":
        return
    with psycopg.connect(_dsn(), autocommit=True) as other:
        for _ in range(100):
            others = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name NOT LIKE 'pytest%%'"
                " AND backend_type = 'client backend'"
            ).fetchone()[0]
            if others <= 1:  # the test's own connection
                return
            time.sleep(0.1)


def _wait_for_lock_release() -> None:
    """A killed client's backend ends (and releases its locks) as soon as it sees the
    closed socket; wait for that."""
    with psycopg.connect(_dsn(), autocommit=True) as other:
        for _ in range(100):
            if other.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                other.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
                return
            time.sleep(0.1)
    pytest.fail("the killed load's session still holds the lock")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_killed_load_run_again_gives_the_state_of_one_clean_load(
    org, tmp_path, settings, no_sessions_left_behind
):
    _postgres_only()
    settings.INGEST_AFTER_LOAD_TASK = ""
    path = batch(tmp_path, customers=300, bad_rows=24).path
    # the reference: one clean load
    assert load(path).status == BatchStatus.LOADED
    clean = digest()
    wipe()
    for point in ("customer:staged", "customer:merged", "account:merged"):
        # when a load is killed at that point (SIGKILL: no clean-up runs)
        proc = _start_paused(path, point)
        try:
            running = BatchLoad.objects.get(status=BatchStatus.RUNNING)
            # progress is visible while it runs (committed outside the load's transaction)
            assert BatchFile.objects.filter(load=running, progress__gt=0).exists()
            # but nothing of the batch is
            assert not Customer.objects.exists() and not LoadError.objects.exists()
        finally:
            proc.kill()
            proc.wait(timeout=30)
        _wait_for_lock_release()
        # then still nothing of it is visible
        assert not Customer.objects.exists() and not LoadError.objects.exists()
        assert BatchLoad.objects.get(pk=running.pk).status == BatchStatus.RUNNING  # as it was left
    # and running it again ends where one clean load ends
    again = load(path)
    assert again.status == BatchStatus.LOADED, again.message
    assert digest() == clean
    # the killed loads are recorded as interrupted
    interrupted = BatchLoad.objects.exclude(pk=again.pk)
    assert interrupted.count() == 3
    # (each by the process that found it dead: the test's, in English, or a load's, in
    # the portal's language)
    assert all(o.status == BatchStatus.FAILED and _said(INTERRUPTED, o.message) for o in interrupted), [
        o.message for o in interrupted
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_dropped_database_connection_fails_the_load_and_writes_nothing(
    org, tmp_path, settings, no_sessions_left_behind
):
    _postgres_only()
    settings.INGEST_AFTER_LOAD_TASK = ""
    path = batch(tmp_path, customers=120, bad_rows=12).path
    load(path)
    clean = digest()
    wipe()
    proc = _start_paused(path, "account:staged", seconds=3)
    try:
        with psycopg.connect(_dsn(), autocommit=True) as admin:
            dropped = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state = 'idle in transaction'"
            ).fetchall()
        assert dropped
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == 1
    assert "failed and wrote nothing" in err
    failed = BatchLoad.objects.get()
    assert failed.status == BatchStatus.FAILED
    assert not Customer.objects.exists()
    assert load(path).status == BatchStatus.LOADED
    assert digest() == clean


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_one_load_at_a_time_postgres(org, tmp_path):
    _postgres_only()
    path = batch(tmp_path, customers=10).path
    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        refused = load(path)
        assert refused.status == BatchStatus.REFUSED and "Another load is running" in refused.message
        queued = batch_load_create(source=path, started_via="upload")
        with pytest.raises(LoadBusy):
            ingest_run(queued.pk)
        queued.refresh_from_db()
        assert queued.status == BatchStatus.QUEUED and queued.attempts == 0  # waits, no attempt counted
        other.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    assert ingest_run(queued.pk, notify=False).status == BatchStatus.LOADED


@pytest.mark.django_db
def test_one_load_at_a_time_sqlite(org, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite lock (a running load of a live process)")
    path = batch(tmp_path, customers=10).path
    BatchLoad.objects.create(
        source=str(path),
        started_via="command",
        status=BatchStatus.RUNNING,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    refused = load(path)
    assert refused.status == BatchStatus.REFUSED and "Another load is running" in refused.message


@pytest.mark.django_db
def test_a_load_left_running_by_a_dead_process_is_marked_interrupted(org, tmp_path):
    path = batch(tmp_path, customers=10).path
    dead = BatchLoad.objects.create(
        source=str(path), started_via="beat", status=BatchStatus.RUNNING, worker="gone-host:1", attempts=1
    )
    assert load(path).status == BatchStatus.LOADED
    dead.refresh_from_db()
    assert dead.status == BatchStatus.FAILED and _said(INTERRUPTED, dead.message)


@pytest.mark.django_db
def test_redelivery_cap_stops_and_alerts(org, tmp_path, settings):
    from accounts.audit import Action
    from accounts.models import AuditEvent

    settings.INGEST_MAX_ATTEMPTS = 3
    path = batch(tmp_path, customers=10).path
    # a load whose worker was lost three times (each start counted, none finished)
    poisoned = BatchLoad.objects.create(
        source=str(path), started_via="upload", status=BatchStatus.RUNNING, attempts=3, worker="gone-host:1"
    )
    # when Celery delivers it a fourth time
    assert ingest_load_task.delay(poisoned.pk).get() == BatchStatus.FAILED
    # then it stops, writes nothing and alerts
    poisoned.refresh_from_db()
    assert poisoned.status == BatchStatus.FAILED and poisoned.attempts == 4
    assert "Gave up after 3 attempts" in poisoned.message
    assert not Customer.objects.exists()
    event = AuditEvent.objects.get(action=Action.BATCH_LOADED, target_id=str(poisoned.pk))
    assert event.details["alert"] == "redelivery cap reached"
    # and a redelivery after that does nothing more
    assert ingest_load_task.delay(poisoned.pk).get() == BatchStatus.FAILED
    poisoned.refresh_from_db()
    assert poisoned.attempts == 4


@pytest.mark.django_db
def test_a_redelivered_load_counts_its_attempts_and_finishes(org, tmp_path):
    path = batch(tmp_path, customers=10).path
    lost_once = BatchLoad.objects.create(
        source=str(path), started_via="upload", status=BatchStatus.RUNNING, attempts=1, worker="gone-host:1"
    )
    assert ingest_load_task.delay(lost_once.pk).get() == BatchStatus.LOADED
    lost_once.refresh_from_db()
    assert lost_once.attempts == 2
    # a task delivered again after it finished does nothing
    assert ingest_load_task.delay(lost_once.pk).get() == BatchStatus.LOADED
    assert BatchLoad.objects.get(pk=lost_once.pk).attempts == 2

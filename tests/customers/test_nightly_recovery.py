"""The nightly job recovers from the faults of a night: a worker killed after a batch
was committed (its jobs after the load never ran, and the batch has left the inbox)
and a database restarted in the middle of a load (the job retries, and the load
left `running` by the dead attempt is taken over)."""

import datetime
import importlib

import pytest
from celery.exceptions import Retry
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import OperationalError, connections
from django.utils import timezone

from crm_portal import tasks as portal_tasks
from customers.choices import BatchStatus
from customers.ingest import runner
from customers.models import BatchLoad, Customer, CustomerDailyAum
from tests.customers.ingest_helpers import DAY, batch, load

NEXT = DAY + datetime.timedelta(days=1)


@pytest.fixture
def recorded_steps(monkeypatch):
    """The post-load steps replaced by one that records the dates it is given."""
    calls: list[list[datetime.date]] = []
    monkeypatch.setattr(
        portal_tasks, "POST_LOAD_STEPS", (("record", lambda dates: calls.append(list(dates))),)
    )
    return calls


def _loaded_by_a_killed_run(path) -> BatchLoad:
    """A batch loaded and archived by a nightly run killed before its jobs after the
    load: committed, out of the inbox, not marked."""
    record = load(path, via="beat")
    assert record.status == BatchStatus.LOADED
    BatchLoad.objects.filter(pk=record.pk).update(after_load_done_at=None)
    return record


@pytest.mark.django_db
def test_the_next_nightly_job_runs_the_jobs_a_killed_run_never_ran(org, tmp_path, settings):
    settings.INGEST_INBOX = tmp_path / "inbox"
    settings.INGEST_INBOX.mkdir()
    record = _loaded_by_a_killed_run(batch(tmp_path / "earlier", customers=15).path)
    assert not CustomerDailyAum.objects.filter(business_date=DAY).exists()

    report = portal_tasks.nightly_load.delay().get()

    assert report["loads"] == []  # nothing waited in the inbox
    assert report["post_load"] == {name: "ok" for name, _step in portal_tasks.POST_LOAD_STEPS}
    assert CustomerDailyAum.objects.filter(business_date=DAY).exists()
    assert not Customer.objects.exclude(aum_date=DAY).exists()
    record.refresh_from_db()
    assert record.after_load_done_at is not None
    # done once: the next night has nothing to run
    assert portal_tasks.nightly_load.delay().get() == {"loads": [], "post_load": {}}


@pytest.mark.django_db
def test_owed_dates_run_in_date_order_with_the_newly_loaded_ones(org, tmp_path, settings, recorded_steps):
    settings.INGEST_INBOX = tmp_path / "inbox"
    _loaded_by_a_killed_run(batch(tmp_path / "earlier", customers=10).path)
    batch(settings.INGEST_INBOX, day=NEXT, customers=10)

    report = portal_tasks.nightly_load.delay().get()

    assert [entry["status"] for entry in report["loads"]] == [BatchStatus.LOADED]
    assert recorded_steps == [[DAY, NEXT]]
    assert not BatchLoad.objects.filter(status=BatchStatus.LOADED, after_load_done_at__isnull=True).exists()
    portal_tasks.nightly_load.delay().get()
    assert recorded_steps == [[DAY, NEXT]]


@pytest.mark.django_db
def test_a_failed_step_leaves_the_date_owed_to_the_next_night(org, tmp_path, settings, monkeypatch):
    settings.INGEST_INBOX = tmp_path / "inbox"
    record = _loaded_by_a_killed_run(batch(tmp_path / "earlier", customers=10).path)

    def broken(dates):
        raise RuntimeError("step down")

    monkeypatch.setattr(portal_tasks, "POST_LOAD_STEPS", (("broken", broken),))
    assert portal_tasks.nightly_load.delay().get()["post_load"] == {"broken": "failed"}
    record.refresh_from_db()
    assert record.after_load_done_at is None

    monkeypatch.setattr(portal_tasks, "POST_LOAD_STEPS", (("fixed", lambda dates: None),))
    assert portal_tasks.nightly_load.delay().get()["post_load"] == {"fixed": "ok"}
    record.refresh_from_db()
    assert record.after_load_done_at is not None


@pytest.mark.django_db
def test_batches_loaded_long_ago_are_not_caught_up(org, tmp_path, settings, recorded_steps):
    settings.INGEST_INBOX = tmp_path / "inbox"
    settings.INGEST_AFTER_LOAD_CATCH_UP_DAYS = 7
    record = _loaded_by_a_killed_run(batch(tmp_path / "earlier", customers=10).path)
    BatchLoad.objects.filter(pk=record.pk).update(finished_at=timezone.now() - datetime.timedelta(days=8))

    assert portal_tasks.nightly_load.delay().get()["post_load"] == {}
    assert recorded_steps == []


@pytest.mark.django_db
def test_the_after_load_command_marks_the_date_done(org, tmp_path, recorded_steps):
    record = _loaded_by_a_killed_run(batch(tmp_path, customers=10).path)
    call_command("after_load", DAY.strftime("%Y%m%d"))
    assert recorded_steps == [[DAY]]
    record.refresh_from_db()
    assert record.after_load_done_at is not None


@pytest.mark.django_db
def test_the_migration_marks_the_batches_loaded_before_it_done(org, tmp_path):
    record = _loaded_by_a_killed_run(batch(tmp_path, customers=5).path)
    failed = BatchLoad.objects.create(source="x", started_via="beat", status=BatchStatus.FAILED)
    migration = importlib.import_module("customers.migrations.0019_batchload_after_load_done_at")
    migration.mark_loaded_batches_done(django_apps, None)
    record.refresh_from_db()
    failed.refresh_from_db()
    assert record.after_load_done_at == record.finished_at
    assert failed.after_load_done_at is None


# --- a lost database connection -------------------------------------------------


def _database_restarts_once(monkeypatch):
    """The first load's transaction dies with its connection, as when PostgreSQL
    restarts mid-load: the load record stays `running`."""
    real_run = runner.BatchLoader.run
    state = {"failed": False}

    def run(self):
        if not state["failed"]:
            state["failed"] = True
            raise OperationalError("server closed the connection unexpectedly")
        return real_run(self)

    wrapper = connections["default"]
    real_usable = wrapper.is_usable

    def usable():
        if state["failed"] and not state.get("seen"):
            state["seen"] = True  # the connection is found dead once, after the failure
            return False
        return real_usable()

    monkeypatch.setattr(runner.BatchLoader, "run", run)
    monkeypatch.setattr(wrapper, "is_usable", usable)


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_mid_load_retries_and_takes_over_the_running_load(
    org, tmp_path, settings, monkeypatch, recorded_steps
):
    settings.INGEST_INBOX = tmp_path / "inbox"
    path = batch(settings.INGEST_INBOX, customers=10).path
    _database_restarts_once(monkeypatch)

    with pytest.raises(Retry) as retry:  # eager tasks raise the retry they ask for
        portal_tasks.nightly_load.delay()
    assert retry.value.when == 30  # the default: 30 seconds later
    (left,) = BatchLoad.objects.all()
    assert left.status == BatchStatus.RUNNING and path.exists()

    report = retry.value.sig.apply().get()  # the retry, as the worker runs it

    (record,) = BatchLoad.objects.all()  # the dead attempt's record, not a second one
    assert record.pk == left.pk
    assert record.status == BatchStatus.LOADED and record.attempts == 2
    assert [entry["status"] for entry in report["loads"]] == [BatchStatus.LOADED]
    assert not path.exists() and (settings.INGEST_INBOX / "archive" / path.name).is_dir()
    assert recorded_steps == [[DAY]] and record.after_load_done_at is not None
    assert Customer.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_the_retries_after_a_lost_database_are_bounded(org, tmp_path, settings, monkeypatch):
    settings.INGEST_INBOX = tmp_path / "inbox"
    settings.NIGHTLY_LOAD_DB_RETRIES = 2
    settings.NIGHTLY_LOAD_DB_RETRY_SECONDS = 7
    batch(settings.INGEST_INBOX, customers=5)

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(runner, "ingest_run", down)
    attempt = portal_tasks.nightly_load.s()
    countdowns = []
    for _retry in range(2):
        with pytest.raises(Retry) as retry:
            attempt.apply()
        countdowns.append(retry.value.when)
        attempt = retry.value.sig
    assert countdowns == [7, 7]
    with pytest.raises(OperationalError):  # the third failure in a row fails the job
        attempt.apply()


@pytest.mark.django_db
def test_a_database_error_that_keeps_the_connection_fails_the_load_as_before(
    org, tmp_path, settings, monkeypatch
):
    """A statement timeout is the batch's load failing, not the database gone: no retry."""
    settings.INGEST_INBOX = tmp_path / "inbox"
    path = batch(settings.INGEST_INBOX, customers=5).path

    def timeout(self):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(runner.BatchLoader, "run", timeout)
    report = portal_tasks.nightly_load.delay().get()
    assert [entry["status"] for entry in report["loads"]] == [BatchStatus.FAILED]
    assert path.exists()
    assert "statement timeout" in BatchLoad.objects.get().message


@pytest.mark.django_db(transaction=True)
def test_a_database_lost_during_the_jobs_after_the_load_retries_them(org, tmp_path, settings, monkeypatch):
    settings.INGEST_INBOX = tmp_path / "inbox"
    record = _loaded_by_a_killed_run(batch(tmp_path / "earlier", customers=5).path)
    ran = []

    def restarted(dates):
        raise OperationalError("terminating connection due to administrator command")

    steps = (("first", restarted), ("second", lambda dates: ran.append(dates)))
    monkeypatch.setattr(portal_tasks, "POST_LOAD_STEPS", steps)
    monkeypatch.setattr(connections["default"], "is_usable", lambda: False)
    with pytest.raises(Retry) as retry:
        portal_tasks.nightly_load.delay()
    assert ran == []  # not run on the dead connection
    record.refresh_from_db()
    assert record.after_load_done_at is None

    monkeypatch.undo()  # the database is back, and the step works again
    monkeypatch.setattr(portal_tasks, "POST_LOAD_STEPS", (("first", lambda dates: None), steps[1]))
    assert retry.value.sig.apply().get()["post_load"] == {"first": "ok", "second": "ok"}
    assert ran == [[DAY]]
    record.refresh_from_db()
    assert record.after_load_done_at is not None

"""The nightly chain (crm_portal.nightly_load): every complete batch of the inbox in
business-date order, archived once loaded, stopping at one that does not load, then
the post-load steps (AUM, RFM, data quality); the after-load task started after
commit for command and upload loads; the beat entry; a real Celery worker running a
load (CI)."""

import datetime
import os

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from crm_portal import tasks as portal_tasks
from crm_portal.schedule import DEFAULT_SCHEDULE, ensure_default_schedule
from customers.choices import BatchStatus
from customers.ingest.runner import batch_load_create
from customers.models import AccountBalance, BatchLoad, Customer, CustomerDailyAum
from tests.customers.ingest_helpers import DAY, batch
from tests.test_celery_worker import worker  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_nightly_load_takes_the_inbox_in_date_order_then_refreshes(org, tmp_path, settings):
    settings.INGEST_INBOX = tmp_path / "inbox"
    second = batch(settings.INGEST_INBOX, day=DAY + datetime.timedelta(days=1), customers=20).path
    first = batch(settings.INGEST_INBOX, day=DAY, customers=20).path
    incomplete = batch(settings.INGEST_INBOX, day=DAY + datetime.timedelta(days=2), customers=20).path
    (incomplete / "BATCH.ok").unlink()
    report = portal_tasks.nightly_load.delay().get()
    loads = list(BatchLoad.objects.order_by("pk"))
    assert [(load.business_date, load.status, load.started_via) for load in loads] == [
        (DAY, BatchStatus.LOADED, "beat"),
        (DAY + datetime.timedelta(days=1), BatchStatus.LOADED, "beat"),
    ]
    # loaded batches are archived, the incomplete one waits
    assert not first.exists() and not second.exists() and incomplete.exists()
    assert (settings.INGEST_INBOX / "archive" / first.name).is_dir()
    # post-load: AUM for both days, and the customers carry the newest day's
    assert report["post_load"] == {name: "ok" for name, _step in portal_tasks.POST_LOAD_STEPS}
    assert {"aum", "data_quality"} <= set(report["post_load"])
    assert CustomerDailyAum.objects.filter(business_date=DAY).exists()
    newest = DAY + datetime.timedelta(days=1)
    assert not Customer.objects.exclude(aum_date=newest).exists()
    # a second run finds nothing to do
    assert portal_tasks.nightly_load.delay().get()["loads"] == []


def test_nightly_load_stops_at_a_batch_that_does_not_load(org, tmp_path, settings):
    settings.INGEST_INBOX = tmp_path / "inbox"
    broken = batch(settings.INGEST_INBOX, day=DAY, customers=10).path
    later = batch(settings.INGEST_INBOX, day=DAY + datetime.timedelta(days=1), customers=10).path
    (broken / "BATCH.ctl").write_text((broken / "BATCH.ctl").read_text().replace("|10|", "|11|", 1))
    report = portal_tasks.nightly_load.delay().get()
    assert [entry["status"] for entry in report["loads"]] == [BatchStatus.FAILED]
    assert broken.exists() and later.exists()  # the later date must not overtake it
    assert not Customer.objects.exists()
    assert report["post_load"] == {}


def test_an_interrupted_nightly_run_reuses_its_load_and_counts_the_attempt(org, tmp_path, settings):
    settings.INGEST_INBOX = tmp_path / "inbox"
    path = batch(settings.INGEST_INBOX, customers=10).path
    lost = BatchLoad.objects.create(
        source=str(path), started_via="beat", status=BatchStatus.RUNNING, attempts=1, worker="gone-host:1"
    )
    portal_tasks.nightly_load.delay().get()
    lost.refresh_from_db()
    assert lost.status == BatchStatus.LOADED and lost.attempts == 2
    assert BatchLoad.objects.count() == 1


def test_the_after_load_task_starts_once_the_load_is_committed(
    org, tmp_path, settings, django_capture_on_commit_callbacks, monkeypatch
):
    started = []
    monkeypatch.setattr(portal_tasks, "run_post_load", lambda dates: started.append(list(dates)) or {})
    path = batch(tmp_path, customers=10).path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("import_extract", str(path))
    assert started == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert started == [[DAY]]


def test_post_load_refreshes_aum_with_the_newest_date_last(org, tmp_path):
    from tests.customers.ingest_helpers import load

    load(batch(tmp_path, day=DAY + datetime.timedelta(days=1), customers=10).path)
    load(batch(tmp_path, day=DAY, customers=10).path, forced=True)
    portal_tasks.run_post_load([DAY])  # an older date loaded by force
    assert CustomerDailyAum.objects.filter(business_date=DAY).exists()
    assert not Customer.objects.exclude(aum_date=DAY + datetime.timedelta(days=1)).exists()


def test_nightly_load_is_scheduled_at_two_and_editable(db):
    task, cron = DEFAULT_SCHEDULE["Nightly core-banking load"]
    assert task == "crm_portal.nightly_load" and cron == {"minute": "0", "hour": "2"}
    ensure_default_schedule()
    periodic = PeriodicTask.objects.get(name="Nightly core-banking load")
    assert (periodic.crontab.hour, periodic.crontab.minute) == ("2", "0")
    from crm_portal.celery import app

    app.loader.import_default_modules()
    assert {"crm_portal.nightly_load", "crm_portal.after_load", "customers.ingest_load"} <= set(app.tasks)


def test_celery_is_configured_as_a_reliable_runner():
    assert django_settings.CELERY_TASK_ACKS_LATE and django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    # longer than the longest load (a million customers load in minutes)
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 3600
    from customers.tasks import ingest_load_task

    assert ingest_load_task.acks_late and ingest_load_task.reject_on_worker_lost


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_loads_a_batch(worker, org, tmp_path):  # noqa: F811
    if not django_settings.CELERY_BROKER_URL or connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_WORKER"):
            pytest.fail("REQUIRE_WORKER is set but there is no Redis broker and PostgreSQL database")
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL")
    from crm_portal.celery import app

    path = batch(tmp_path, customers=15).path
    record = batch_load_create(source=path, started_via="upload")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        status = app.send_task("customers.ingest_load", args=[record.pk]).get(timeout=120)
    except Exception:
        worker.terminate()
        pytest.fail(f"worker did not load: {worker.communicate(timeout=20)[0][-3000:]}")
    finally:
        app.conf.task_always_eager = eager
    assert status == BatchStatus.LOADED
    assert Customer.objects.count() == 15 and AccountBalance.objects.exists()

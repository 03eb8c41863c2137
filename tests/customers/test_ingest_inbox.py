"""The nightly job reads its inbox from the INGEST_INBOX setting as the settings
module makes it (`env.path`: django-environ's `Path`, not a pathlib one): every
batch waiting there loads and is archived. Before, the job failed at once with
"'Path' object has no attribute 'is_dir'" in every deployed configuration, and the
inbox was never loaded."""

import datetime

import environ
import pytest

from crm_portal import tasks as portal_tasks
from customers.choices import BatchStatus
from customers.ingest.control import archive_batch, waiting_batches
from customers.models import BatchLoad
from tests.customers.ingest_helpers import DAY, batch

pytestmark = pytest.mark.django_db


def test_the_nightly_job_loads_an_inbox_set_as_the_settings_make_it(org, tmp_path, settings):
    settings.INGEST_INBOX = environ.Env().path("CHAOS_UNSET_INBOX", default=str(tmp_path / "inbox"))
    assert not hasattr(settings.INGEST_INBOX, "is_dir")  # what the settings module gives
    first = batch(tmp_path / "inbox", day=DAY, customers=10).path
    second = batch(tmp_path / "inbox", day=DAY + datetime.timedelta(days=1), customers=10).path
    report = portal_tasks.nightly_load.delay().get()
    assert [entry["status"] for entry in report["loads"]] == [BatchStatus.LOADED, BatchStatus.LOADED]
    assert list(BatchLoad.objects.order_by("business_date").values_list("business_date", "status")) == [
        (DAY, BatchStatus.LOADED),
        (DAY + datetime.timedelta(days=1), BatchStatus.LOADED),
    ]
    assert not first.exists() and (tmp_path / "inbox" / "archive" / first.name).is_dir()
    assert not second.exists() and (tmp_path / "inbox" / "archive" / second.name).is_dir()


def test_inbox_helpers_take_any_path_like(tmp_path):
    inbox = environ.Path(str(tmp_path / "inbox"))
    assert waiting_batches(inbox) == []  # no inbox yet: nothing waits, nothing fails
    path = batch(tmp_path / "inbox", day=DAY, customers=3).path
    assert waiting_batches(inbox) == [path]
    assert waiting_batches(str(tmp_path / "inbox")) == [path]
    moved = archive_batch(path, inbox)
    assert moved == tmp_path / "inbox" / "archive" / path.name and moved.is_dir()
    assert waiting_batches(inbox) == []

"""The jobs that follow a load: started once a loaded batch is committed, and again
by an administrator for a loaded business date. A loaded batch records when they
last ran to their end (`after_load_done_at`): a run cut short (a worker killed
after the batch was committed) leaves it empty, and the nightly job runs them for
every recent loaded date still without it."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from accounts.audit import Action, audit

from ..choices import BatchStatus
from ..models import BatchLoad

logger = logging.getLogger(__name__)


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


# How far back (days since the load finished) the nightly job looks for loaded
# batches whose jobs never ran to their end: older ones are left to an operator.
AFTER_LOAD_CATCH_UP_DAYS = 7


def after_load_owed() -> list[datetime.date]:
    """The business dates of recent loaded batches whose jobs after the load have not
    run to their end, oldest first."""
    days = int(getattr(settings, "INGEST_AFTER_LOAD_CATCH_UP_DAYS", AFTER_LOAD_CATCH_UP_DAYS))
    since = timezone.now() - datetime.timedelta(days=days)
    dates = (
        BatchLoad.objects.filter(
            status=BatchStatus.LOADED,
            after_load_done_at__isnull=True,
            finished_at__gte=since,
            business_date__isnull=False,
        )
        .values_list("business_date", flat=True)
        .distinct()
        .order_by("business_date")
    )
    return [day for day in dates if day is not None]


def after_load_mark_done(dates: list[datetime.date]) -> int:
    """Record that the jobs after the load ran to their end for these business dates
    (every loaded batch of them). Returns the number of loads marked."""
    return BatchLoad.objects.filter(status=BatchStatus.LOADED, business_date__in=list(dates)).update(
        after_load_done_at=timezone.now()
    )

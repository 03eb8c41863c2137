"""The jobs that follow a load: started once a loaded batch is committed, and again
by an administrator for a loaded business date."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings

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

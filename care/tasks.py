"""Thin tasks: a service called, its counts out. Each is harmless to run twice."""

from __future__ import annotations

from celery import shared_task

from . import outbox_tasks  # noqa: F401  (the outbox's tasks, for Celery's discovery)


@shared_task(name="care.run_alerts", acks_late=True)
def run_alerts_task(day: str | None = None) -> dict:
    """Every alert rule for a business date (default: the last loaded), then the
    escalation. After a load it runs as a post-load step (crm_portal.tasks
    POST_LOAD_STEPS); this task is for a run by hand or from the admin."""
    import datetime

    from care.engine import alerts_after_load, default_business_date

    business_date = datetime.date.fromisoformat(day) if day else default_business_date()
    return alerts_after_load([business_date])


@shared_task(name="care.daily_alerts")
def daily_alerts_task() -> dict:
    """The rules that need no new batch (birthdays, maturities, risk assessments,
    overdue contacts) for today, and the escalation of alerts left open past due:
    they come due on days without a load too."""
    from care.engine import alerts_daily

    return alerts_daily()

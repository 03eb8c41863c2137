"""The default beat schedule, in one place. Rows are created when missing and never
overwritten, so a time an administrator changed in the admin stays changed. A row is
named in the portal's language (the names below are message ids); a row named in
English by an earlier version is renamed, never created twice."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_celery_beat.models import CrontabSchedule, PeriodicTask

# name -> (task, crontab fields)
DEFAULT_SCHEDULE: dict[str, tuple[str, dict[str, str]]] = {
    gettext_noop("Clear expired sessions"): (
        "accounts.clear_expired_sessions",
        {"minute": "30", "hour": "3"},
    ),
    gettext_noop("Delete expired customer export files"): (
        "customers.export_expire",
        {"minute": "15"},
    ),
    # Loads every complete core-banking batch of INGEST_INBOX, then the post-load
    # steps (crm_portal.tasks.POST_LOAD_STEPS: AUM, RFM, data quality...).
    gettext_noop("Nightly core-banking load"): (
        "crm_portal.nightly_load",
        {"minute": "0", "hour": "2"},
    ),
    # Jobs that need no new batch: a contact falls overdue and a risk assessment
    # expires on a weekend or when the extract is late too. They also run after
    # every load (POST_LOAD_STEPS); running them twice changes nothing.
    gettext_noop("Daily overdue-contact warnings"): (
        "vip.contact_warnings",
        {"minute": "0", "hour": "6"},
    ),
    # The alert rules that need no batch (birthdays, maturities, risk assessments,
    # overdue contacts) for today, and the escalation of alerts left open past due.
    gettext_noop("Daily alerts and escalation"): (
        "care.daily_alerts",
        {"minute": "30", "hour": "6"},
    ),
    gettext_noop("Daily data-quality scan"): (
        "customers.quality_scan",
        {"minute": "15", "hour": "6"},
    ),
    gettext_noop("Remove expired customer shares"): (
        "vip.expire_shares",
        {"minute": "45"},
    ),
    # Messages due (queued, held until the quiet hours end, retries): sent under the
    # contact policy at the moment of sending (care.services.outbox).
    gettext_noop("Send due care messages"): (
        "care.send_due_messages",
        {"minute": "*/5"},
    ),
    # Birthday greetings and maturity notices from the open alerts, once per alert.
    gettext_noop("Care messages from alerts"): (
        "care.messages_from_alerts",
        {"minute": "30", "hour": "7"},
    ),
    # The churn model trained again on the bank's history, monthly (analysis.training);
    # the nightly analysis scores with the newest one.
    gettext_noop("Monthly churn model training"): (
        "analysis.train_churn_model",
        {"minute": "0", "hour": "4", "day_of_month": "1"},
    ),
}


def ensure_default_schedule() -> None:
    from django.conf import settings

    for english, (task, cron) in DEFAULT_SCHEDULE.items():
        name = _(english)
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        if name != english and PeriodicTask.objects.filter(name=english, task=task).update(name=name):
            continue  # an earlier version's row, named in English: renamed, its times kept
        schedule, _created = CrontabSchedule.objects.get_or_create(
            minute=cron.get("minute", "*"),
            hour=cron.get("hour", "*"),
            day_of_week=cron.get("day_of_week", "*"),
            day_of_month=cron.get("day_of_month", "*"),
            month_of_year=cron.get("month_of_year", "*"),
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(name=name, task=task, crontab=schedule)


def ensure_schedule_after_migrate(sender, **kwargs) -> None:
    # Sent once per app with models; the beat app is the one whose tables we fill.
    if sender.name == "django_celery_beat":
        ensure_default_schedule()

"""Thin tasks of the outbox: a service called, its counts out; each harmless to run
twice (or twice at once). Registered with Celery through care.tasks, which imports
this module."""

from celery import shared_task


@shared_task(name="care.send_due_messages")
def send_due_messages_task() -> dict:
    """Every few minutes: send what is due under the contact policy."""
    from care.services.outbox import message_send_due

    return message_send_due()


@shared_task(name="care.messages_from_alerts")
def messages_from_alerts_task(day: str | None = None) -> dict:
    """Daily: queue the birthday greetings and maturity notices of open alerts."""
    import datetime

    from care.services.outbox import care_messages_from_alerts

    return care_messages_from_alerts(day=datetime.date.fromisoformat(day) if day else None)

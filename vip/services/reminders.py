"""Reminders: written for a user when something about their customers needs their
attention (a tier change, a customer given or shared to them, a transfer decided),
and marked done by that user."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from customers.models import Customer

from ..models import Reminder


def remind(*, user: User | None, customer: Customer | None, kind: str, detail: str = "") -> None:
    """One reminder (once per user, customer, kind and day)."""
    if user is None:
        return
    Reminder.objects.get_or_create(
        user=user,
        customer=customer,
        kind=kind,
        due_date=timezone.localdate(),
        defaults={"detail": detail[:200]},
    )


def reminder_done(*, reminder: Reminder, by: User) -> Reminder:
    if reminder.user_id != by.pk:
        raise PermissionDenied(_("This is not your reminder."))
    if reminder.done_at is None:
        done = Reminder.objects.filter(pk=reminder.pk, done_at__isnull=True).update(done_at=timezone.now())
        reminder.refresh_from_db()
        if done:
            audit(
                Action.REMINDER_DONE,
                actor=by,
                target=reminder,
                details={"kind": reminder.kind, "customer": reminder.customer_id},
            )
    return reminder

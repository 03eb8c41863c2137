"""A user's open reminders, as text for the pages (the home panel, the book, the
customer 360 view)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import User
from customers.models import Customer
from customers.panels import PanelItem

from ..choices import ReminderKind
from ..models import Reminder
from .levels import tier_label, tier_names


@dataclass
class ReminderRow:
    reminder: Reminder
    text: str
    customer: Customer | None


def _reminder_text(reminder: Reminder, names: dict[str, str]) -> str:
    detail = reminder.detail or ""
    kind = reminder.kind
    if kind == ReminderKind.TIER_CHANGED and ">" in detail:
        old, new = detail.split(">", 1)
        return _("Tier changed: %(old)s → %(new)s") % {
            "old": tier_label(old, names),
            "new": tier_label(new, names),
        }
    if kind == ReminderKind.POTENTIAL_VIP:
        return _("Close to the next tier or growing fast: a potential VIP")
    if kind == ReminderKind.CONTACT_OVERDUE:
        if not detail:
            return _("Contact overdue (a major customer of your book)")
        return _("Contact overdue (%(tier)s service standard)") % {"tier": tier_label(detail, names)}
    if kind == ReminderKind.TEAM_OVERDUE and ":" in detail:
        manager, count = detail.split(":", 1)
        return _("Manager %(no)s has %(n)s overdue contacts with major customers") % {
            "no": manager,
            "n": count,
        }
    if kind == ReminderKind.CUSTOMER_ASSIGNED:
        return _("Now in your care (assigned by %(no)s)") % {"no": detail}
    if kind == ReminderKind.CUSTOMER_SHARED:
        return _("Shared with you for a time by %(no)s") % {"no": detail}
    if kind == ReminderKind.TRANSFER_DECIDED:
        return _("Your transfer request was %(what)s") % {
            "what": _("approved") if detail == "approved" else _("rejected")
        }
    return str(ReminderKind(kind).label) if kind in ReminderKind.values else kind


def open_reminders(
    user: User, limit: int = 20, names: dict[str, str] | None = None
) -> tuple[list[ReminderRow], int]:
    """The user's open reminders, newest first, about customers they may (still)
    see; and how many there are in all. Two queries plus the level names."""
    reminders = Reminder.objects.visible_to(user).filter(done_at__isnull=True)
    total = reminders.count()
    names = names if names is not None else tier_names()
    rows = [
        ReminderRow(r, _reminder_text(r, names), r.customer)
        for r in reminders.select_related("customer").order_by("-due_date", "-id")[:limit]
    ]
    return rows, total


def customer_reminders(customer: Customer, user: User) -> list[PanelItem]:
    """The 360 view's panel: the viewer's open reminders about this customer (the
    customer is already in the viewer's scope). One query, plus the level names
    when a tier change is among them."""
    reminders = list(
        Reminder.objects.filter(user=user, customer=customer, done_at__isnull=True).order_by(
            "-due_date", "-id"
        )[:10]
    )
    names = tier_names() if any(r.kind == ReminderKind.TIER_CHANGED for r in reminders) else {}
    return [PanelItem(_reminder_text(r, names), when=r.due_date) for r in reminders]

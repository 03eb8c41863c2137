"""Reminders: told to a user when something about their customers needs their
attention (a tier change, a customer given or shared to them, a transfer decided).
The VIP area announces them (`vip.events`); the alerts of keep close keep them and
let the user work them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from customers.models import Customer

from .. import events


def remind(*, user: User | None, customer: Customer | None, kind: str, figures: dict[str, Any]) -> None:
    """One reminder for `user` (once per customer, kind and day: the alert's event)."""
    events.announce(kind=kind, user=user, customer=customer, figures=figures, day=timezone.localdate())

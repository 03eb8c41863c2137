"""The home-page widgets of customers (core.widgets): the user's book (count and AUM
of the customers in their scope) and the core-banking loads that failed."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from core import widgets
from core.widgets import Widget

from .choices import BatchStatus

# How far back the failed-loads widget looks.
FAILED_LOAD_DAYS = 30
FAILED_LOADS_SHOWN = 5


# Who keeps the figures of the books (the VIP area, registered from its
# AppConfig.ready()): a function of the user answering {"count", "aum", "as_of"},
# or None when it cannot (not built yet), and the widget counts the customers.
_BOOK_FIGURES: list[Callable[[Any], dict[str, Any] | None]] = []


def register_book_figures(provider: Callable[[Any], dict[str, Any] | None]) -> None:
    _BOOK_FIGURES[:] = [provider]


def _book(user, day: datetime.date) -> dict[str, Any]:
    """Count and AUM of the customers in the user's scope (a merged record is its
    survivor, counted once): kept figures, else one aggregate query."""
    from .models import Customer

    for provider in _BOOK_FIGURES:
        kept = provider(user)
        if kept is not None:
            return kept
    figures = (
        Customer.objects.visible_to(user)
        .filter(merged_into__isnull=True)
        .aggregate(count=Count("pk"), aum=Sum("aum"))
    )
    return {"count": figures["count"], "aum": figures["aum"] or 0, "as_of": None}


def _failed_loads(user, day: datetime.date) -> dict[str, Any]:
    """Loads of the last 30 days that failed or were refused, newest first, and
    their number: one query (a window count beside the rows)."""
    from .models import BatchLoad

    since = timezone.now() - datetime.timedelta(days=FAILED_LOAD_DAYS)
    failed = BatchLoad.objects.filter(
        Q(status__in=(BatchStatus.FAILED, BatchStatus.REFUSED)), created_at__gte=since
    ).order_by("-created_at", "-pk")
    loads = list(
        failed.only("business_date", "status", "created_at", "message").annotate(total=Window(Count("pk")))[
            :FAILED_LOADS_SHOWN
        ]
    )
    return {
        "loads": loads,
        "count": loads[0].total if loads else 0,
        "days": FAILED_LOAD_DAYS,
        "may_open": user.has_perm("customers.view_batchload"),
    }


def _reads_loads(user) -> bool:
    # the administrator runs the loads; the auditor reads their outcome
    return user.has_perm("customers.view_batchload") or user.has_perm("accounts.view_auditevent")


MY_CUSTOMERS = widgets.register(
    Widget(
        key="my_customers",
        title=_("My customers"),
        template="crm_portal/panels/my_customers.html",
        app="customers",
        defaults={Role.CLIENT_MANAGER: 70, Role.BRANCH_HEAD: 10},
        permission="customers.view_customer",
        context=_book,
    )
)
FAILED_LOADS = widgets.register(
    Widget(
        key="failed_loads",
        title=_("Failed loads"),
        template="crm_portal/widgets/failed_loads.html",
        app="customers",
        defaults={Role.SYSTEM_ADMIN: 20, Role.AUDITOR: 20},
        predicate=_reads_loads,
        context=_failed_loads,
    )
)

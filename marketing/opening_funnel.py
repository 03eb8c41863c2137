"""The account-opening funnel (开户漏斗): of the requests recorded in a period, how many
were appointed, opened and sold, per branch (where the request was recorded) and
per requesting manager.

- requested: every request recorded in the period;
- appointed: it has had an appointment (`appointment_at` set);
- opened: an account confirmed it (status opened);
- sold: opened, and its sale's amount is more than zero (an account opened empty
  is no sale yet);
- cancelled: status cancelled;
- overdue: still open, and flagged overdue or past the overdue rule today
  (`openings.overdue_condition`);
- rates: appointed, opened and sold as a share of requested.

A client manager sees their own requests, a branch head those recorded at the
branches they oversee, head office every one; always within the data scope. One
grouped query per table.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.exports import neutralise

from .choices import OPEN_OPENING_STATUSES, OpeningStatus
from .models import OpeningRequest
from .openings import overdue_condition

BY = ("branch", "manager")
STAGES = ("requested", "appointed", "opened", "sold")


@dataclass
class FunnelRow:
    label: str
    branch: str = ""
    requested: int = 0
    appointed: int = 0
    opened: int = 0
    sold: int = 0
    cancelled: int = 0
    overdue: int = 0
    amount: Decimal = field(default_factory=Decimal)

    def _rate(self, n: int) -> float:
        return round(100 * n / self.requested, 1) if self.requested else 0.0

    @property
    def appointed_rate(self) -> float:
        return self._rate(self.appointed)

    @property
    def opened_rate(self) -> float:
        return self._rate(self.opened)

    @property
    def sold_rate(self) -> float:
        return self._rate(self.sold)


@dataclass
class Funnel:
    start: datetime.date
    end: datetime.date
    by_branch: list[FunnelRow]
    by_manager: list[FunnelRow]
    total: FunnelRow


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def funnel_requests(user, *, start: datetime.date, end: datetime.date) -> QuerySet[OpeningRequest]:
    """The requests recorded from `start` to `end` (both included) the user's funnel
    counts."""
    requests = OpeningRequest.objects.visible_to(user).filter(
        created_at__gte=_day_start(start), created_at__lt=_day_start(end + datetime.timedelta(days=1))
    )
    scope = data_scope(user)
    if scope.kind is ScopeKind.OWN:
        return requests.filter(manager=user)
    if scope.kind is ScopeKind.SUBTREE:
        return requests.filter(branch__in=visible_branches(user))
    return requests


def _figures(today: datetime.date) -> dict[str, Any]:
    opened = Q(status=OpeningStatus.OPENED)
    return {
        "requested": Count("pk"),
        "appointed": Count("pk", filter=Q(appointment_at__isnull=False)),
        "opened": Count("pk", filter=opened),
        "sold": Count("pk", filter=opened & Q(sale__amount__gt=0)),
        "cancelled": Count("pk", filter=Q(status=OpeningStatus.CANCELLED)),
        "overdue": Count(
            "pk",
            filter=Q(status__in=OPEN_OPENING_STATUSES, flagged_at__isnull=False) | overdue_condition(today),
        ),
        "amount": Coalesce(Sum("sale__amount", filter=opened), Value(Decimal("0"))),
    }


def _rows(requests: QuerySet[OpeningRequest], by: str, today: datetime.date) -> list[FunnelRow]:
    if by == "branch":
        grouped = requests.values("branch_id").annotate(label=Coalesce("branch__name", Value("")))
    else:
        grouped = requests.values("manager_id").annotate(
            label=Coalesce(NullIf("manager__display_name", Value("")), "manager__username"),
            branch_name=Coalesce("manager__branch__name", Value("")),
        )
    rows = []
    for r in grouped.annotate(**_figures(today)).order_by():
        rows.append(
            FunnelRow(
                label=r["label"],
                branch=r.get("branch_name", ""),
                **{k: r[k] for k in (*STAGES, "cancelled", "overdue", "amount")},
            )
        )
    return sorted(rows, key=lambda r: (-r.requested, -r.sold, r.label))


def _total(rows: list[FunnelRow]) -> FunnelRow:
    total = FunnelRow(label=_("Total"))
    for row in rows:
        for name in (*STAGES, "cancelled", "overdue"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.amount += row.amount
    return total


def opening_funnel(
    user, *, start: datetime.date, end: datetime.date, today: datetime.date | None = None
) -> Funnel:
    """The funnel of the requests recorded from `start` to `end` the user may see,
    per branch and per manager, with the totals. Two queries."""
    today = today or timezone.localdate()
    requests = funnel_requests(user, start=start, end=end)
    by_branch = _rows(requests, "branch", today)
    by_manager = _rows(requests, "manager", today)
    return Funnel(start=start, end=end, by_branch=by_branch, by_manager=by_manager, total=_total(by_branch))


def funnel_chart(funnel: Funnel) -> dict[str, Any]:
    """The chart's data (static/js/marketing_charts.js draws the "funnel" kind)."""
    total = funnel.total
    return {
        "kind": "funnel",
        "labels": [
            pgettext("opening funnel", "Requested"),
            pgettext("opening funnel", "Appointed"),
            pgettext("opening funnel", "Opened"),
            pgettext("opening funnel", "Sold"),
        ],
        "values": [total.requested, total.appointed, total.opened, total.sold],
    }


MAX_EXPORT_ROWS = 5000  # per sheet; a funnel has one row per branch or manager


def funnel_workbook(funnel: Funnel) -> bytes:
    """The funnel as an Excel workbook: a sheet per branch and per manager, with the
    period and the totals (aggregates only; text cells neutralised)."""
    workbook = Workbook(write_only=True)
    header = [
        pgettext("opening funnel", "Requested"),
        pgettext("opening funnel", "Appointed"),
        pgettext("opening funnel", "Opened"),
        pgettext("opening funnel", "Sold"),
        pgettext("opening funnel", "Cancelled"),
        pgettext("opening funnel", "Overdue"),
        _("Appointed (%)"),
        _("Opened (%)"),
        _("Sold (%)"),
        _("Sales amount (CNY)"),
    ]

    def figures(row: FunnelRow) -> list[Any]:
        return [
            row.requested,
            row.appointed,
            row.opened,
            row.sold,
            row.cancelled,
            row.overdue,
            row.appointed_rate,
            row.opened_rate,
            row.sold_rate,
            row.amount,
        ]

    period = _("Recorded %(start)s – %(end)s") % {
        "start": funnel.start.isoformat(),
        "end": funnel.end.isoformat(),
    }
    sheets = (
        (_("By branch"), [_("Branch")], funnel.by_branch, lambda r: [r.label]),
        (_("By manager"), [_("Manager"), _("Branch")], funnel.by_manager, lambda r: [r.label, r.branch]),
    )
    for title, names, rows, label in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([neutralise(period)])
        sheet.append([neutralise(h) for h in [*names, *header]])
        for row in rows[:MAX_EXPORT_ROWS]:
            sheet.append([neutralise(v) for v in [*label(row), *figures(row)]])
        total = [funnel.total.label, *([""] * (len(names) - 1))]
        sheet.append([neutralise(v) for v in [*total, *figures(funnel.total)]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

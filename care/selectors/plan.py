"""Reads of the work plan and the visit journal, each starting from the model's
`visible_to(user)`.

A recurring plan item is one row with its rule; `occurrence_dates` turns it into the
days it falls on between two dates (a monthly item on the 31st falls on the last day
of a shorter month), so a page reads the rows that touch its dates and expands them
in Python: a month's calendar is one query whatever the rules."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.scope import ScopeKind, data_scope, visible_branches

from ..choices import PlanRecurrence, PlanStatus
from ..holidays import DayMark, day_marks
from ..models import JournalEntry, PlanItem

# The longest span one read of the plan expands (a month's grid is at most 42 days).
MAX_SPAN_DAYS = 93


@dataclass(frozen=True)
class Occurrence:
    """One day a plan item falls on."""

    item: PlanItem
    day: datetime.date
    done: bool

    @property
    def sort_key(self) -> tuple:
        return (self.day, self.item.start_time or datetime.time.min, self.item.pk)


def _add_months(day: datetime.date, months: int, anchor_day: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(anchor_day, last))


def occurrence_dates(item: PlanItem, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The days from `start` to `end` (both included) on which the item falls."""
    first = item.start_date
    if item.recurrence == PlanRecurrence.NONE or item.recur_until is None:
        return [first] if start <= first <= end else []
    last = min(item.recur_until, end)
    days: list[datetime.date] = []
    if item.recurrence == PlanRecurrence.WEEKLY:
        # the first occurrence on or after `start`, in steps of a week from the first
        skip = max(0, (start - first).days + 6) // 7
        day = first + datetime.timedelta(weeks=skip)
        while day <= last:
            if day >= start:
                days.append(day)
            day += datetime.timedelta(weeks=1)
        return days
    n = max(0, (start.year - first.year) * 12 + start.month - first.month - 1)
    while True:
        day = _add_months(first, n, first.day)
        if day > last:
            return days
        if day >= start:
            days.append(day)
        n += 1


def plan_items_between(items: QuerySet, start: datetime.date, end: datetime.date) -> QuerySet:
    """The rows of `items` (already narrowed to a user) that may fall between the two
    dates: one-off items on one of them, recurring ones whose rule overlaps them."""
    one_off = Q(recurrence=PlanRecurrence.NONE, start_date__range=(start, end))
    recurring = ~Q(recurrence=PlanRecurrence.NONE) & Q(start_date__lte=end, recur_until__gte=start)
    return items.filter(one_off | recurring).exclude(status=PlanStatus.CANCELLED)


def plan_occurrences(
    *, user, start: datetime.date, end: datetime.date, owner: User | None = None
) -> list[Occurrence]:
    """The occurrences of `owner`'s plan (default: the user's own) between the two
    dates, in order of day and time; one query."""
    if (end - start).days > MAX_SPAN_DAYS or end < start:
        raise ValueError("span out of range")
    owner = owner or user
    items = plan_items_between(
        PlanItem.objects.visible_to(user).filter(owner=owner), start, end
    ).select_related("customer")
    occurrences = []
    for item in items:
        for day in occurrence_dates(item, start, end):
            done = item.status == PlanStatus.DONE or day.isoformat() in item.done_dates
            occurrences.append(Occurrence(item=item, day=day, done=done))
    occurrences.sort(key=lambda o: o.sort_key)
    return occurrences


def plan_for_day(user, day: datetime.date) -> list[Occurrence]:
    """The user's own plan of one day (the home page's "today's plan")."""
    return plan_occurrences(user=user, start=day, end=day)


# --- the calendar ----------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: datetime.date
    mark: DayMark | None
    in_month: bool = True
    is_today: bool = False
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class CalendarPage:
    """A week (one row of days) or a month (rows of Monday-to-Sunday weeks)."""

    view: str  # "week" or "month"
    start: datetime.date
    end: datetime.date
    weeks: list[list[CalendarDay]]
    previous: str  # the query value of the page before ("2026-W22", "2026-05")
    next: str
    owner: User


def week_value(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_value(day: datetime.date) -> str:
    return f"{day.year}-{day.month:02d}"


def parse_week(value: str) -> datetime.date:
    """The Monday of an ISO week "YYYY-Www" (ValueError when it is not one)."""
    year, _sep, week = value.partition("-W")
    return datetime.date.fromisocalendar(int(year), int(week), 1)


def parse_month(value: str) -> datetime.date:
    """The first day of a month "YYYY-MM" (ValueError when it is not one)."""
    year, _sep, month = value.partition("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(value)
    return datetime.date(int(year), int(month), 1)


def _grid(
    user, owner: User, start: datetime.date, end: datetime.date, month: int | None
) -> list[list[CalendarDay]]:
    today = timezone.localdate()
    marks = day_marks(start, end)
    days: dict[datetime.date, CalendarDay] = {}
    day = start
    while day <= end:
        days[day] = CalendarDay(
            day=day, mark=marks.get(day), in_month=month is None or day.month == month, is_today=day == today
        )
        day += datetime.timedelta(days=1)
    for occurrence in plan_occurrences(user=user, start=start, end=end, owner=owner):
        days[occurrence.day].occurrences.append(occurrence)
    ordered = list(days.values())
    return [ordered[i : i + 7] for i in range(0, len(ordered), 7)]


def calendar_week(*, user, monday: datetime.date, owner: User | None = None) -> CalendarPage:
    owner = owner or user
    end = monday + datetime.timedelta(days=6)
    return CalendarPage(
        view="week",
        start=monday,
        end=end,
        weeks=_grid(user, owner, monday, end, None),
        previous=week_value(monday - datetime.timedelta(days=7)),
        next=week_value(monday + datetime.timedelta(days=7)),
        owner=owner,
    )


def calendar_month(*, user, first: datetime.date, owner: User | None = None) -> CalendarPage:
    owner = owner or user
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    start = first - datetime.timedelta(days=first.weekday())
    end = last + datetime.timedelta(days=6 - last.weekday())
    return CalendarPage(
        view="month",
        start=start,
        end=end,
        weeks=_grid(user, owner, start, end, first.month),
        previous=month_value(first - datetime.timedelta(days=1)),
        next=month_value(last + datetime.timedelta(days=1)),
        owner=owner,
    )


# --- one plan item, team members ------------------------------------------------------------


def access_plan_item(user, pk: int, *, for_change: bool) -> PlanItem:
    """A plan item the user may see (404 otherwise); to change it, the user's own."""
    items = PlanItem.objects.visible_to(user).select_related("customer", "owner")
    if for_change:
        items = items.filter(owner=user)
    try:
        return items.get(pk=pk)
    except PlanItem.DoesNotExist:
        raise Http404 from None


def team_members(user) -> QuerySet:
    """The managers whose plan and journal the user reads besides their own: a branch
    head's team (active users at a branch of the subtree), head office everyone;
    none for a client manager."""
    scope = data_scope(user)
    if scope.kind not in (ScopeKind.SUBTREE, ScopeKind.ALL):
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, branch__in=visible_branches(user))
        .exclude(pk=user.pk)
        .order_by("employee_no")
    )


def team_member(user, employee_no: str) -> User:
    """A manager of the user's team by employee number (404 otherwise)."""
    found = team_members(user).filter(employee_no=employee_no).first()
    if found is None:
        raise Http404
    return found


# --- the journal --------------------------------------------------------------------------


def journal_list(
    *,
    user,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    customer_no: str = "",
    purpose: str = "",
    manager: User | None = None,
) -> QuerySet:
    """Journal entries the user may read, newest first: a client manager's own; a
    branch head's team's (or one manager's); filtered by day, customer and purpose."""
    entries = JournalEntry.objects.visible_to(user)
    if data_scope(user).kind is ScopeKind.OWN:
        entries = entries.filter(manager=user)
    if manager is not None:
        entries = entries.filter(manager=manager)
    if date_from is not None:
        entries = entries.filter(visited_at__gte=_start_of(date_from))
    if date_to is not None:
        entries = entries.filter(visited_at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    if customer_no:
        entries = entries.filter(customer__customer_no=customer_no)
    if purpose:
        entries = entries.filter(purpose=purpose)
    return (
        entries.select_related("customer", "manager")
        .prefetch_related("products")
        .order_by("-visited_at", "-pk")
    )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

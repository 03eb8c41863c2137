"""The alert rules of docs/alerts.md through the Django ORM and Python, on any
database (the embedded SQLite of the demo): the same Alert rows as the set-based
statements of care.rules (PostgreSQL) for the same data and parameters.

Each rule reads the customers a primary-key range at a time (`BATCH` customers),
decides in Python and writes with `bulk_create(ignore_conflicts=True)`: the unique
constraint `alert_once_per_event` keeps a second evaluation from adding anything, as
ON CONFLICT does for the statements. The overdue-contact rule ranks each manager's
book, so it reads a few managers' books at a time instead; the overdue rule reads the
day's loan statuses (the accounts whose status changed) a batch of accounts at a
time. Memory stays bounded by the batch, whatever the number of customers.

The Python parts of care.rules are reused: the context, the lunar birthdays, the
maturing categories. Whom an alert is for is decided as in `INSERT_ALERTS`: the
customer's manager of record if an active user, else the head of the nearest branch
at or above the home branch that has one (the lowest id when two)."""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone

from accounts.roles import Role
from core.months import month_back
from customers.choices import AccountStatus, AssignmentRole, BirthdayCalendar, CustomerStatus, RiskClass

from .choices import AlertKind, AlertPriority, AlertStatus
from .models import Alert
from .rules import MATURING_CATEGORIES, Context, _transactions_reach, lunar_birthdays

# Customers per batch (and the size of every IN list: below SQLite's variable limit).
BATCH = 900
# Managers whose books are ranked together (the overdue-contact rule).
MANAGER_BATCH = 20

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Hit:
    """One event of a rule, as the statements' `hits` name it."""

    customer_id: int
    event_key: str
    event_date: datetime.date
    due_date: datetime.date
    valid_until: datetime.date | None
    figures: dict[str, Any]
    branch_id: int | None
    manager_id: int | None
    # the alert's priority, where the rule gives each its own (else the kind's)
    priority: int | None = None
    # the event of a copy for the branch head, where the rule wants one: written when
    # the alert is someone else's (as the statement's hits do)
    head_copy: str | None = None


def _days(day: datetime.date, n: int) -> datetime.date:
    return day + datetime.timedelta(days=n)


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _money(amount: Decimal) -> str:
    """A numeric(18, 2) as PostgreSQL writes it: "123.40"."""
    return format(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _live() -> QuerySet[Any]:
    from customers.models import Customer

    return Customer.objects.filter(merged_into__isnull=True).exclude(status=CustomerStatus.CLOSED)


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def customer_ranges(size: int = BATCH) -> Iterator[tuple[int, int]]:
    """[first, last] primary keys of successive runs of `size` customers."""
    from customers.models import Customer

    last = None
    while True:
        query = Customer.objects.order_by("pk")
        if last is not None:
            query = query.filter(pk__gt=last)
        ids = list(query.values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids[0], ids[-1]
        last = ids[-1]


# --- whom for ------------------------------------------------------------------------------


def _branch_paths() -> dict[int, str]:
    from accounts.models import Branch

    return dict(Branch.objects.values_list("pk", "path"))


def _heads() -> list[tuple[int, int]]:
    """(branch, user) of every active branch head."""
    from accounts.models import User

    return list(
        User.objects.filter(is_active=True, groups__name=Role.BRANCH_HEAD.value, branch__isnull=False)
        .values_list("branch_id", "pk")
        .distinct()
    )


def _upward(branch_id: int, paths: dict[int, str], by_path: dict[str, int]) -> Iterator[int]:
    """The branches at or above `branch_id`, nearest first (`starts_with(b.path, up.path)`)."""
    path = paths.get(branch_id)
    if path is None:
        return
    for length in range(len(path), 0, -1):
        up = by_path.get(path[:length])
        if up is not None:
            yield up


class Assignees:
    """The assignee of `INSERT_ALERTS`, read once per evaluation (branches are few)."""

    def __init__(self) -> None:
        paths = _branch_paths()
        by_path = {path: pk for pk, path in paths.items()}
        lowest: dict[int, int] = {}
        for branch_id, user_id in _heads():
            lowest[branch_id] = min(user_id, lowest.get(branch_id, user_id))
        self.branch_head: dict[int, int] = {}
        for branch_id in paths:
            for up in _upward(branch_id, paths, by_path):
                if up in lowest:
                    self.branch_head[branch_id] = lowest[up]
                    break

    def resolve(self, hits: list[Hit]) -> dict[tuple[int, str], int | None]:
        from accounts.models import User

        managers = {h.manager_id for h in hits if h.manager_id is not None}
        active = set(User.objects.filter(pk__in=managers, is_active=True).values_list("pk", flat=True))
        return {
            (h.customer_id, h.event_key): (
                h.manager_id
                if h.manager_id in active
                else (self.branch_head.get(h.branch_id) if h.branch_id is not None else None)
            )
            for h in hits
        }


def _write(ctx: Context, kind: str, hits: Iterable[Hit], assignees: Assignees) -> None:
    """Raise the alerts of `hits` (the first of each event; existing events are left)."""
    unique: dict[tuple[int, str], Hit] = {}
    for hit in hits:
        unique.setdefault((hit.customer_id, hit.event_key), hit)
    if not unique:
        return
    rows = list(unique.values())
    whom = assignees.resolve(rows)
    copies = []
    for h in rows:
        head = assignees.branch_head.get(h.branch_id) if h.branch_id is not None else None
        if h.head_copy and head is not None and whom[(h.customer_id, h.event_key)] not in (None, head):
            copies.append(replace(h, event_key=h.head_copy, manager_id=None, head_copy=None))
            whom[(h.customer_id, h.head_copy)] = head
    rows.extend(copy for copy in copies if (copy.customer_id, copy.event_key) not in unique)
    priority = ctx.rules.priorities.get(kind, 2)
    Alert.objects.bulk_create(
        [
            Alert(
                kind=kind,
                customer_id=h.customer_id,
                event_key=h.event_key,
                event_date=h.event_date,
                due_date=h.due_date,
                valid_until=h.valid_until,
                priority=h.priority or priority,
                assignee_id=whom[(h.customer_id, h.event_key)],
                branch_id=h.branch_id,
                figures=h.figures,
                status=AlertStatus.OPEN,
                outcome="",
                close_note="",
                created_at=ctx.now,
            )
            for h in rows
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )


# --- the rules (each yields its hits batch by batch) ---------------------------------------------


def birthday_hits(ctx: Context) -> Iterator[list[Hit]]:
    from customers.models import Customer
    from marketing.segments import birthday_keys

    day, n = ctx.day, ctx.rules.birthday_days
    until = _days(day, n)
    keys = birthday_keys(day, n)
    solar = (
        _live()
        .filter(birth_date__isnull=False, birthday_calendar=BirthdayCalendar.SOLAR)
        .annotate(birthday_key=ExtractMonth("birth_date") * 100 + ExtractDay("birth_date"))
        .filter(birthday_key__in=keys)
    )
    for first, last in customer_ranges():
        hits = []
        for pk, birth, branch, manager in solar.filter(pk__gte=first, pk__lte=last).values_list(
            "pk", "birth_date", "home_branch_id", "primary_manager_id"
        ):
            for year in (day.year, day.year + 1):
                if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
                    on = datetime.date(year, 2, 28)
                else:
                    on = datetime.date(year, birth.month, birth.day)
                if day <= on <= until and on > birth:
                    figures = {"birthday": on.isoformat(), "age": year - birth.year, "calendar": "solar"}
                    hits.append(Hit(pk, str(year), on, on, _days(on, 1), figures, branch, manager))
        yield hits
    found = lunar_birthdays(day, n)
    for chunk in _chunks(found):
        # the customers' home branch and manager of record, in one query
        held = {
            pk: (branch, manager)
            for pk, branch, manager in Customer.objects.filter(
                pk__in=[f.customer_id for f in chunk]
            ).values_list("pk", "home_branch_id", "primary_manager_id")
        }
        yield [
            Hit(
                f.customer_id,
                str(f.lunar_year),
                f.day,
                f.day,
                _days(f.day, 1),
                {"birthday": f.day.isoformat(), "age": f.age, "calendar": "lunar"},
                *held[f.customer_id],
            )
            for f in chunk
            if f.customer_id in held
        ]


def maturity_hits(ctx: Context) -> Iterator[list[Hit]]:
    from customers.models import Account

    accounts = Account.objects.filter(
        status=AccountStatus.OPEN,
        category__in=[str(c) for c in MATURING_CATEGORIES],
        maturity_date__range=(ctx.day, _days(ctx.day, ctx.rules.maturity_days)),
        customer__merged_into__isnull=True,
    ).exclude(customer__status=CustomerStatus.CLOSED)
    for first, last in customer_ranges():
        rows = accounts.filter(customer_id__gte=first, customer_id__lte=last).values_list(
            "pk",
            "customer_id",
            "account_no",
            "category",
            "maturity_date",
            "cny_balance",
            "customer__home_branch_id",
            "customer__primary_manager_id",
        )
        yield [
            Hit(
                customer,
                f"{pk}:{matures.isoformat()}",
                matures,
                matures,
                matures,
                {
                    "account_tail": account_no[-4:],
                    "category": category,
                    "maturity_date": matures.isoformat(),
                    "amount": _money(balance),
                },
                branch,
                manager,
            )
            for pk, customer, account_no, category, matures, balance, branch, manager in rows
        ]


def risk_expiry_hits(ctx: Context) -> Iterator[list[Hit]]:
    day, validity = ctx.day, ctx.rules.validity_days
    people = _live().filter(
        risk_expiry__isnull=False, risk_expiry__lte=_days(day, ctx.rules.risk_expiry_days)
    )
    for first, last in customer_ranges():
        hits = []
        for pk, expiry, branch, manager in people.filter(pk__gte=first, pk__lte=last).values_list(
            "pk", "risk_expiry", "home_branch_id", "primary_manager_id"
        ):
            due = max(expiry, day)
            figures = {"expiry_date": expiry.isoformat(), "expired": expiry < day}
            hits.append(
                Hit(pk, expiry.isoformat(), expiry, due, _days(due, validity), figures, branch, manager)
            )
        yield hits


def _percent(now: Decimal, before: Decimal) -> str:
    """round((now - before) * 100 / before, 1)::text (half away from zero)."""
    with localcontext() as context:
        context.prec = 40
        value = (now - before) * 100 / before
    return format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")


def large_outflow_hits(ctx: Context) -> Iterator[list[Hit]]:
    from customers.models import CustomerDailyAum

    day, rules = ctx.day, ctx.rules
    back = _days(day, -rules.outflow_lookback_days)
    since = CustomerDailyAum.objects.filter(business_date__lte=back).aggregate(m=Max("business_date"))["m"]
    if since is None:
        return
    amount, percent = Decimal(rules.outflow_amount), Decimal(rules.outflow_percent)
    today = CustomerDailyAum.objects.filter(business_date=day, customer__merged_into__isnull=True).exclude(
        customer__status=CustomerStatus.CLOSED
    )
    for first, last in customer_ranges():
        rows = list(
            today.filter(customer_id__gte=first, customer_id__lte=last).values_list(
                "customer_id", "aum", "customer__home_branch_id", "customer__primary_manager_id"
            )
        )
        if not rows:
            continue
        ids = [row[0] for row in rows]
        before = dict(
            CustomerDailyAum.objects.filter(business_date=since, customer_id__in=ids).values_list(
                "customer_id", "aum"
            )
        )
        alerted = set(
            Alert.objects.filter(
                kind=AlertKind.LARGE_OUTFLOW, customer_id__in=ids, event_date__gt=back, event_date__lt=day
            ).values_list("customer_id", flat=True)
        )
        hits = []
        for customer, aum, branch, manager in rows:
            then = before.get(customer)
            if then is None or then <= 0 or customer in alerted:
                continue
            fall = then - aum
            if fall >= amount and fall * 100 >= then * percent:
                figures = {
                    "aum_before": _money(then),
                    "aum_now": _money(aum),
                    "change": _money(aum - then),
                    "percent": _percent(aum, then),
                    "since": since.isoformat(),
                }
                hits.append(
                    Hit(
                        customer,
                        day.isoformat(),
                        day,
                        day,
                        _days(day, rules.validity_days),
                        figures,
                        branch,
                        manager,
                    )
                )
        yield hits


def dormancy_hits(ctx: Context) -> Iterator[list[Hit]]:
    from customers.models import Customer
    from marketing.models import MarketingProfile

    day, validity = ctx.day, ctx.rules.validity_days
    back = _days(day, -ctx.rules.dormancy_days)
    history = _transactions_reach(back)
    people = Customer.objects.filter(
        merged_into__isnull=True, status__in=[CustomerStatus.DORMANT, CustomerStatus.ACTIVE]
    )
    for first, last in customer_ranges():
        rows = list(
            people.filter(pk__gte=first, pk__lte=last).values_list(
                "pk", "status", "open_date", "home_branch_id", "primary_manager_id"
            )
        )
        if not rows:
            continue
        ids = [row[0] for row in rows]
        profiles = dict(
            MarketingProfile.objects.filter(customer_id__in=ids).values_list("customer_id", "last_txn_date")
        )
        spells: dict[int, list[datetime.date]] = defaultdict(list)
        for customer, raised in Alert.objects.filter(
            kind=AlertKind.DORMANCY, customer_id__in=ids, event_key__startswith="status:"
        ).values_list("customer_id", "event_date"):
            spells[customer].append(raised)
        hits = []
        for pk, status, opened, branch, manager in rows:
            last_txn = profiles.get(pk)
            if status == CustomerStatus.DORMANT:
                if any(last_txn is None or raised >= last_txn for raised in spells.get(pk, ())):
                    continue
                since = last_txn or opened
                figures = {
                    "reason": "status",
                    "last_transaction": _iso(last_txn),
                    "days": (day - since).days if since is not None else 0,
                }
                key = f"status:{day.isoformat()}"
            else:
                if pk not in profiles:
                    continue
                idle = (last_txn is not None and last_txn <= back) or (
                    last_txn is None and history and (opened or back) <= back
                )
                if not idle:
                    continue
                figures = {
                    "reason": "no_transaction",
                    "last_transaction": _iso(last_txn),
                    "days": (day - (last_txn or opened or back)).days,
                }
                key = f"idle:{last_txn.isoformat() if last_txn else 'never'}"
            hits.append(Hit(pk, key, day, day, _days(day, validity), figures, branch, manager))
        yield hits


def tier_change_hits(ctx: Context) -> Iterator[list[Hit]]:
    from vip.models import TierChange

    day = ctx.day
    changes = TierChange.objects.filter(effective_date=day, customer__merged_into__isnull=True).exclude(
        customer__status=CustomerStatus.CLOSED
    )
    for first, last in customer_ranges():
        latest: dict[int, Hit] = {}
        for customer, from_tier, to_tier, branch, manager in (
            changes.filter(customer_id__gte=first, customer_id__lte=last)
            .order_by("customer_id", "-pk")
            .values_list(
                "customer_id",
                "from_tier",
                "to_tier",
                "customer__home_branch_id",
                "customer__primary_manager_id",
            )
        ):
            if customer not in latest:
                figures = {"from": from_tier, "to": to_tier}
                latest[customer] = Hit(
                    customer,
                    day.isoformat(),
                    day,
                    day,
                    _days(day, ctx.rules.validity_days),
                    figures,
                    branch,
                    manager,
                )
        yield list(latest.values())


def _amount_of_cents(cents: int, window: int) -> str:
    """(cents / (window * 100.0))::numeric(18, 2)::text."""
    with localcontext() as context:
        context.prec = 40
        return _money(Decimal(cents) / Decimal(window * 100))


def downgrade_warning_hits(ctx: Context) -> Iterator[list[Hit]]:
    """care.rules.downgrade_warning in Python: the window sums of the observation
    period from the monthly averages, in whole cents."""
    from customers.models import CustomerMonthlyAum
    from vip.evaluation import current_rules
    from vip.models import TierOverride

    rules = current_rules()
    w, n = rules.window, rules.observation
    if n < 2 or not rules.levels:
        return
    day = ctx.day
    reference = day.replace(day=1)
    thresholds = {level.code: level.threshold_cents * w for level in rules.levels}
    first_month, last_month = month_back(reference, n + w - 2), reference
    windows = [(month_back(reference, o + w - 1), month_back(reference, o)) for o in range(n)]
    effective = {k: month_back(reference, -(n - k)) for k in range(1, n)}
    people = (
        _live()
        .filter(tier__in=list(thresholds))
        .exclude(
            pk__in=TierOverride.objects.filter(ended_on__isnull=True, expires_on__gt=day).values(
                "customer_id"
            )
        )
    )
    for first, last in customer_ranges():
        rows = list(
            people.filter(pk__gte=first, pk__lte=last).values_list(
                "pk", "tier", "home_branch_id", "primary_manager_id"
            )
        )
        if not rows:
            continue
        months: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
        for customer, month, average in CustomerMonthlyAum.objects.filter(
            customer_id__in=[row[0] for row in rows], month__range=(first_month, last_month)
        ).values_list("customer_id", "month", "avg_aum"):
            months[customer].append((month, int((average * 100).to_integral_value(rounding=ROUND_HALF_UP))))
        hits = []
        for pk, tier, branch, manager in rows:
            cents = thresholds[tier]
            sums: list[int | None] = []
            for a, b in windows:
                inside = [c for month, c in months.get(pk, ()) if a <= month <= b]
                sums.append(sum(inside) if inside else None)
            s0 = sums[0] or 0
            reached = [k for k in range(1, n) if sums[k] is not None and sums[k] >= cents]  # type: ignore[operator]
            if s0 >= cents or not reached:
                continue
            on = effective[reached[0]]
            figures = {
                "tier": tier,
                "threshold": _amount_of_cents(cents, w),
                "aum": _amount_of_cents(s0, w),
                "effective_date": on.isoformat(),
            }
            hits.append(Hit(pk, on.isoformat(), day, on, on, figures, branch, manager))
        yield hits


def contact_overdue_hits(ctx: Context) -> Iterator[list[Hit]]:
    """care.rules' CONTACT_OVERDUE_HITS: each manager's book ranked by AUM, a few
    managers at a time."""
    from customers.models import CustomerAssignment, Interaction
    from vip.models import TierPolicy
    from vip.standards import CONTACT_KINDS, contact_intervals

    day, validity = ctx.day, ctx.rules.validity_days
    per_tier, default_days = contact_intervals()
    share = TierPolicy.current().major_share_pct
    zone = ZoneInfo(settings.TIME_ZONE)
    book = _live().filter(primary_manager__isnull=False)
    managers = sorted(set(book.values_list("primary_manager_id", flat=True).order_by()))
    for group in _chunks(managers, MANAGER_BATCH):
        by_manager: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
        for pk, manager, branch, tier in (
            book.filter(primary_manager_id__in=group)
            .order_by("primary_manager_id", "-aum", "-pk")
            .values_list("pk", "primary_manager_id", "home_branch_id", "tier")
        ):
            by_manager[manager].append((pk, branch, tier))
        major: list[tuple[int, int, int | None, str]] = []
        for manager, customers in by_manager.items():
            size = len(customers)
            for position, (pk, branch, tier) in enumerate(customers, start=1):
                if tier != "" or (position - 1) * 100 < size * share:
                    major.append((pk, manager, branch, tier))
        for chunk in _chunks(major):
            ids = [row[0] for row in chunk]
            starts: dict[int, list[datetime.date]] = defaultdict(list)
            for customer, start in CustomerAssignment.objects.filter(
                customer_id__in=ids, role=AssignmentRole.PRIMARY, end_date__isnull=True
            ).values_list("customer_id", "start_date"):
                starts[customer].append(start)
            contacts = {
                customer: timezone.localtime(at, zone).date()
                for customer, at in Interaction.objects.filter(
                    customer_id__in=ids, kind__in=[str(k) for k in CONTACT_KINDS]
                )
                .values("customer_id")
                .annotate(at=Max("occurred_at"))
                .values_list("customer_id", "at")
                if at is not None
            }
            waiting = set(
                Alert.objects.filter(
                    kind=AlertKind.CONTACT_OVERDUE,
                    customer_id__in=ids,
                    status__in=[AlertStatus.OPEN, AlertStatus.SNOOZED],
                ).values_list("customer_id", flat=True)
            )
            hits = []
            for pk, manager, branch, tier in chunk:
                if pk in waiting:
                    continue
                days = per_tier.get(tier, default_days)
                last_contact = contacts.get(pk)
                for start in starts.get(pk, ()):
                    if not (
                        _days(start, days) < day and (last_contact is None or _days(last_contact, days) < day)
                    ):
                        continue
                    since = _days(last_contact or start, days)
                    figures = {
                        "tier": tier,
                        "last_contact": _iso(last_contact),
                        "standard_days": days,
                        "overdue_since": since.isoformat(),
                    }
                    hits.append(
                        Hit(
                            pk,
                            since.isoformat(),
                            since,
                            since,
                            _days(since, validity),
                            figures,
                            branch,
                            manager,
                        )
                    )
            yield hits


def overdue_hits(ctx: Context) -> Iterator[list[Hit]]:
    """care.rules' OVERDUE_HITS: the loan statuses of the day (a batch of accounts at
    a time), each with the account's status before."""
    from customers.models import LoanStatus

    day, rules = ctx.day, ctx.rules
    valid_until = _days(day, rules.validity_days)
    normal = ctx.rules.priorities.get(AlertKind.OVERDUE, 2)
    before = LoanStatus.objects.filter(account_id=OuterRef("account_id"), business_date__lt=day).order_by(
        "-business_date"
    )
    changed = (
        LoanStatus.objects.filter(business_date=day, account__customer__merged_into__isnull=True)
        .exclude(account__customer__status=CustomerStatus.CLOSED)
        .annotate(
            days_before=Subquery(before.values("overdue_days")[:1]),
            class_before=Subquery(before.values("risk_class")[:1]),
        )
        .order_by("account_id")
    )
    last = None
    while True:
        page = changed if last is None else changed.filter(account_id__gt=last)
        rows = list(
            page.values_list(
                "account_id",
                "overdue_days",
                "overdue_amount",
                "risk_class",
                "days_before",
                "class_before",
                "account__customer_id",
                "account__account_no",
                "account__category",
                "account__customer__home_branch_id",
                "account__customer__primary_manager_id",
            )[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        hits = []
        for (
            account,
            overdue_days,
            overdue_amount,
            risk_class,
            days_before,
            class_before,
            customer,
            account_no,
            category,
            branch,
            manager,
        ) in rows:
            days_before = days_before or 0
            class_before = class_before or int(RiskClass.NORMAL)
            tail = account_no[-4:]
            crossed = [t for t in rules.overdue_thresholds if days_before < t <= overdue_days]
            if crossed:
                threshold = max(crossed)
                start = _days(day, 1 - overdue_days)
                figures = {
                    "account": account,
                    "tail": tail,
                    "category": category,
                    "days": overdue_days,
                    "amount": _money(overdue_amount),
                    "threshold": threshold,
                }
                priority = AlertPriority.HIGH if overdue_days >= rules.overdue_high_days else normal
                key = f"due:{account}:{start.isoformat()}:{threshold}"
                hits.append(
                    Hit(
                        customer, key, day, day, valid_until, figures, branch, manager, priority=int(priority)
                    )
                )
            if risk_class >= rules.overdue_class and risk_class > class_before:
                figures = {
                    "account": account,
                    "tail": tail,
                    "category": category,
                    "class": risk_class,
                    "from": class_before,
                }
                key = f"class:{account}:{day.isoformat()}:{risk_class}"
                hits.append(
                    Hit(
                        customer,
                        key,
                        day,
                        day,
                        valid_until,
                        figures,
                        branch,
                        manager,
                        priority=int(AlertPriority.HIGH),
                        head_copy=f"{key}:head",
                    )
                )
        yield hits


HITS: dict[str, Callable[[Context], Iterator[list[Hit]]]] = {
    AlertKind.BIRTHDAY: birthday_hits,
    AlertKind.MATURITY: maturity_hits,
    AlertKind.RISK_EXPIRY: risk_expiry_hits,
    AlertKind.LARGE_OUTFLOW: large_outflow_hits,
    AlertKind.DORMANCY: dormancy_hits,
    AlertKind.TIER_CHANGE: tier_change_hits,
    AlertKind.DOWNGRADE_WARNING: downgrade_warning_hits,
    AlertKind.CONTACT_OVERDUE: contact_overdue_hits,
    AlertKind.OVERDUE: overdue_hits,
}


def evaluate(kind: str, ctx: Context, assignees: Assignees | None = None) -> int:
    """Raise the alerts of one rule for `ctx.day`; returns how many are new. Call it
    inside a transaction (care.engine does), as the statements run."""
    assignees = assignees or Assignees()
    before = Alert.objects.filter(kind=kind).count()
    for hits in HITS[kind](ctx):
        _write(ctx, kind, hits, assignees)
    return Alert.objects.filter(kind=kind).count() - before


def escalate(*, today: datetime.date, days: int, now: datetime.datetime | None = None) -> int:
    """care.rules.escalate through the ORM: an alert open (or snoozed, from the end of
    its snooze) past its due date by `days` goes to the head of the nearest branch at or
    above its branch that has one other than its assignee (the lowest id). Once."""
    now = now or timezone.now()
    cutoff = _days(today, -days)
    paths = _branch_paths()
    by_path = {path: pk for pk, path in paths.items()}
    heads: dict[int, list[int]] = defaultdict(list)
    for branch_id, user_id in _heads():
        heads[branch_id].append(user_id)
    due = (
        Alert.objects.filter(
            status__in=[AlertStatus.OPEN, AlertStatus.SNOOZED],
            escalated_at__isnull=True,
            branch__isnull=False,
            due_date__lte=cutoff,
        )
        .exclude(kind=AlertKind.OWN)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=cutoff))
    )
    escalated, last = 0, 0
    while True:
        rows = list(
            due.filter(pk__gt=last).order_by("pk").values_list("pk", "branch_id", "assignee_id")[:BATCH]
        )
        if not rows:
            return escalated
        last = rows[-1][0]
        to: dict[int, list[int]] = defaultdict(list)
        for pk, branch_id, assignee_id in rows:
            for up in _upward(branch_id, paths, by_path):
                others = [h for h in heads.get(up, ()) if h != assignee_id]
                if others:
                    to[min(others)].append(pk)
                    break
        for head, ids in to.items():
            escalated += Alert.objects.filter(pk__in=ids, escalated_at__isnull=True).update(
                escalated_at=now, escalated_to_id=head
            )

"""The figures the book and report pages read instead of counting a million
customers on every request (`vip.models.BookFigure`, `TierMonthFigure`,
`TierMigrationFigure`, `WonLostDayFigure`, `FigureBuild`; read by
`vip.selectors.figures`).

- `figures_rebuild()` builds them again from the customers and the tier history,
  set-based, in one transaction (pages read the previous figures until it
  commits): every night after the tier evaluation (crm_portal.tasks), after a tier
  evaluation run by hand, and by `manage.py vip_figures`.
- `figures_follow(customer_ids)` is wrapped by the services around what changes
  these customers' manager of record, tier or VIP status: it locks the customers,
  takes their share out of the figures before and puts it back after, in the same
  transaction, so that the figures stay equal to a count of the live tables.

What no service here writes (a load's AUM and new customers, a merge, the
assignment history imported by performance) waits for the next build: the pages
say when the figures were built. Before the first build the pages count the live
tables.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.months import month_back
from customers.models import Customer

from ..choices import VipStatus
from ..evaluation import latest_business_date
from ..models import (
    BookFigure,
    FigureBuild,
    TierChange,
    TierMigrationFigure,
    TierMonthFigure,
    VipStatusChange,
    WonLostDayFigure,
)

# The months the report offers for its tier migration (vip.filters.month_choices).
REPORT_MONTHS = 24

# Beyond this many customers a service's change is followed by a whole build (one
# grouped scan) rather than customer by customer (a manager's book recalled).
FOLLOW_AT_MOST = 2000

# The tier each customer held at each month end, from the history as spans (a
# change holds until the customer's next one, by date then id, as the report's
# "last change up to that day" reads it), counted per month, home branch and tier.
# The months come as a UNION ALL of (month, month end) pairs: portable SQL.
TIER_MONTHS_SQL = """
INSERT INTO vip_tiermonthfigure (month, home_branch_id, tier, customers)
SELECT m.month, c.home_branch_id, s.to_tier, COUNT(*)
  FROM (SELECT customer_id, to_tier, effective_date,
               LEAD(effective_date) OVER (PARTITION BY customer_id ORDER BY effective_date, id) AS next_date
          FROM vip_tierchange) s
  JOIN ({months}) m
    ON s.effective_date <= m.month_end AND (s.next_date IS NULL OR s.next_date > m.month_end)
  JOIN customers_customer c ON c.id = s.customer_id AND c.merged_into_id IS NULL
 WHERE s.to_tier <> ''
 GROUP BY m.month, c.home_branch_id, s.to_tier
"""

# The customers whose tier changed between two of the report's month ends, per pair
# of months (the first before the second), home branch and (tier then, tier at the
# second end), counted: the tier migration beside the month figures above, which
# every customer not counted here kept. Each customer with a change after the
# oldest month end is marked at each month end (`n`, oldest 0) with the tier held
# then and how many changes led to it; the months holding one mark are a stretch
# (`held`; "" and 0 before the first change). Between a month of one stretch and
# a month of a later stretch the customer moved: the customers are counted per
# pair of stretches first (a few per customer, most customers alike), and only
# these counts are spread over the pairs of months. One statement.
TIER_MIGRATIONS_SQL = """
WITH months (month, month_end, n) AS ({months}),
     spans AS (
         SELECT customer_id, to_tier, effective_date,
                LEAD(effective_date) OVER w AS next_date, ROW_NUMBER() OVER w AS changes
           FROM vip_tierchange
          WHERE customer_id IN (SELECT customer_id FROM vip_tierchange
                                 WHERE effective_date > %s AND effective_date <= %s)
         WINDOW w AS (PARTITION BY customer_id ORDER BY effective_date, id)),
     marks AS (
         SELECT s.customer_id, s.to_tier, s.changes, m.n
           FROM spans s
           JOIN months m
             ON s.effective_date <= m.month_end AND (s.next_date IS NULL OR s.next_date > m.month_end)),
     held AS (
         SELECT customer_id, changes, to_tier, MIN(n) AS first_n, MAX(n) AS last_n
           FROM marks
          GROUP BY customer_id, changes, to_tier
         UNION ALL
         SELECT customer_id, 0, '', 0, MIN(n) - 1
           FROM marks
          GROUP BY customer_id
         HAVING MIN(n) > 0),
     moves AS (
         SELECT c.home_branch_id, x.to_tier AS from_tier, x.first_n AS from_first, x.last_n AS from_last,
                y.to_tier AS to_tier, y.first_n AS to_first, y.last_n AS to_last, COUNT(*) AS customers
           FROM held x
           JOIN held y ON y.customer_id = x.customer_id AND y.changes > x.changes
           JOIN customers_customer c ON c.id = x.customer_id AND c.merged_into_id IS NULL
          GROUP BY c.home_branch_id, x.to_tier, x.first_n, x.last_n, y.to_tier, y.first_n, y.last_n)
INSERT INTO vip_tiermigrationfigure (month_from, month_to, home_branch_id, from_tier, to_tier, customers)
SELECT a.month, b.month, v.home_branch_id, v.from_tier, v.to_tier, SUM(v.customers)
  FROM moves v
  JOIN months a ON a.n BETWEEN v.from_first AND v.from_last
  JOIN months b ON b.n BETWEEN v.to_first AND v.to_last
 GROUP BY a.month, b.month, v.home_branch_id, v.from_tier, v.to_tier
"""

# Each day's VIPs registered and liquidated and customers who came into a tier or
# dropped out of every tier, per home branch, from both histories at once (merged
# records too: the report's won and lost counts every change in the scope).
WON_LOST_DAYS_SQL = """
INSERT INTO vip_wonlostdayfigure (day, home_branch_id, registered, liquidated, entered, dropped)
SELECT d.day, c.home_branch_id, SUM(d.registered), SUM(d.liquidated), SUM(d.entered), SUM(d.dropped)
  FROM (SELECT customer_id, effective_date AS day,
               CASE WHEN to_status = 'registered' THEN 1 ELSE 0 END AS registered,
               CASE WHEN to_status = 'liquidated' THEN 1 ELSE 0 END AS liquidated,
               0 AS entered, 0 AS dropped
          FROM vip_vipstatuschange
         WHERE to_status IN ('registered', 'liquidated')
        UNION ALL
        SELECT customer_id, effective_date, 0, 0,
               CASE WHEN from_tier = '' THEN 1 ELSE 0 END, CASE WHEN to_tier = '' THEN 1 ELSE 0 END
          FROM vip_tierchange
         WHERE from_tier = '' AND to_tier <> '' OR to_tier = '' AND from_tier <> '') d
  JOIN customers_customer c ON c.id = d.customer_id
 GROUP BY d.day, c.home_branch_id
"""


def report_months(today: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """The report's months, (first day, month end) each, this one first: a month
    ends on its last day, the current one today (as `selectors.month_end`)."""
    first = today.replace(day=1)
    months = []
    for back in range(REPORT_MONTHS):
        month = month_back(first, back)
        following = month_back(month, -1)
        months.append((month, min(following - datetime.timedelta(days=1), today)))
    return months


@transaction.atomic
def figures_rebuild(*, business_date: datetime.date | None = None) -> FigureBuild:
    """Build every kept figure again; returns the build (when, for which business
    date, which months, how long)."""
    started = time.perf_counter()
    today = timezone.localdate()
    months = report_months(today)
    BookFigure.objects.all().delete()
    grouped = (
        Customer.objects.filter(merged_into__isnull=True)
        .order_by()
        .values("primary_manager", "home_branch", "tier")
        .annotate(
            n=Count("pk"), aum=Sum("aum"), registered=Count("pk", filter=Q(vip_status=VipStatus.REGISTERED))
        )
    )
    BookFigure.objects.bulk_create(
        (
            BookFigure(
                manager_id=row["primary_manager"],
                home_branch_id=row["home_branch"],
                tier=row["tier"],
                customers=row["n"],
                aum=row["aum"] or Decimal("0"),
                registered=row["registered"],
            )
            for row in grouped
        ),
        batch_size=2000,
    )
    TierMonthFigure.objects.all().delete()
    TierMigrationFigure.objects.all().delete()
    pairs = " UNION ALL ".join("SELECT %s AS month, %s AS month_end" for _ in months)
    with connection.cursor() as cursor:
        cursor.execute(TIER_MONTHS_SQL.format(months=pairs), [value for pair in months for value in pair])
        # the same months numbered, oldest 0
        numbered = [(month, end, n) for n, (month, end) in enumerate(reversed(months))]
        cursor.execute(
            TIER_MIGRATIONS_SQL.format(months=" UNION ALL ".join("SELECT %s, %s, %s" for _ in numbered)),
            [*(value for row in numbered for value in row), numbered[0][1], numbered[-1][1]],
        )
    WonLostDayFigure.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(WON_LOST_DAYS_SQL)
    FigureBuild.objects.all().delete()
    return FigureBuild.objects.create(
        built_at=timezone.now(),
        business_date=business_date or latest_business_date(),
        months=[month.isoformat() for month, _end in months],
        seconds=round(time.perf_counter() - started, 3),
    )


# --- following a service's change -------------------------------------------------------------

BookKey = tuple[int | None, int, str]  # manager, home branch, tier
BookShare = tuple[int, Decimal, int]  # customers, AUM, registered


def _book_shares(ids: list[int]) -> dict[BookKey, BookShare]:
    rows = (
        Customer.objects.filter(pk__in=ids, merged_into__isnull=True)
        .order_by()
        .values("primary_manager", "home_branch", "tier")
        .annotate(
            n=Count("pk"), aum=Sum("aum"), registered=Count("pk", filter=Q(vip_status=VipStatus.REGISTERED))
        )
    )
    return {
        (row["primary_manager"], row["home_branch"], row["tier"]): (
            row["n"],
            row["aum"] or Decimal("0"),
            row["registered"],
        )
        for row in rows
    }


Changes = list[tuple[datetime.date, str]]  # a customer's tier changes, oldest first: (date, tier)


def _histories(ids: list[int], up_to: datetime.date) -> tuple[dict[int, Changes], dict[int, int]]:
    """These customers' tier changes up to `up_to`, and the home branch of those
    not merged."""
    history: dict[int, Changes] = defaultdict(list)
    for customer_id, day, tier in (
        TierChange.objects.filter(customer_id__in=ids, effective_date__lte=up_to)
        .order_by("customer_id", "effective_date", "id")
        .values_list("customer_id", "effective_date", "to_tier")
    ):
        history[customer_id].append((day, tier))
    branches = dict(
        Customer.objects.filter(pk__in=list(history), merged_into__isnull=True).values_list(
            "pk", "home_branch"
        )
    )
    return history, branches


def _mark(changes: Changes, month_end: datetime.date) -> tuple[str, int]:
    """The tier held at `month_end` ("" none) and how many changes led to it."""
    held = [tier for day, tier in changes if day <= month_end]
    return (held[-1] if held else ""), len(held)


def _month_shares(
    history: dict[int, Changes], branches: dict[int, int], month_end: datetime.date
) -> Counter[tuple[int, str]]:
    """(home branch, tier) of these customers (`_histories`) by their last tier
    change up to `month_end`; nobody without a tier then."""
    held = ((pk, _mark(changes, month_end)[0]) for pk, changes in history.items())
    return Counter((branches[pk], tier) for pk, tier in held if tier and pk in branches)


def _migration_shares(
    history: dict[int, Changes],
    branches: dict[int, int],
    earlier: list[tuple[datetime.date, datetime.date]],
    month_end: datetime.date,
) -> Counter[tuple[datetime.date, int, str, str]]:
    """(first month, home branch, tier then, tier at `month_end`) of these
    customers (`_histories`) for each of the `earlier` (month, month end) after
    which their tier changed up to `month_end`: their rows of `TierMigrationFigure`
    to this month."""
    shares: Counter[tuple[datetime.date, int, str, str]] = Counter()
    for pk, changes in history.items():
        if pk not in branches:
            continue
        tier, count = _mark(changes, month_end)
        for month, end in earlier:
            before, count_before = _mark(changes, end)
            if count > count_before:
                shares[(month, branches[pk], before, tier)] += 1
    return shares


def _apply_book(before: dict[BookKey, BookShare], after: dict[BookKey, BookShare]) -> None:
    changes: dict[BookKey, list] = defaultdict(lambda: [0, Decimal("0"), 0])
    for sign, shares in ((-1, before), (1, after)):
        for key, (n, aum, registered) in shares.items():
            change = changes[key]
            change[0] += sign * n
            change[1] += sign * aum
            change[2] += sign * registered
    for (manager, branch, tier), (n, aum, registered) in changes.items():
        if not (n or aum or registered):
            continue
        _add_to(
            BookFigure,
            {"manager_id": manager, "home_branch_id": branch, "tier": tier},
            customers=n,
            aum=aum,
            registered=registered,
        )


def _add_to(model, keys: dict, **amounts) -> None:
    """Adds `amounts` to the kept row of `model` with `keys` (the first, should there
    be two), or makes that row."""
    rows = model.objects.filter(**keys)
    added = {field: F(field) + amount for field, amount in amounts.items()}
    if not model.objects.filter(pk__in=rows.values("pk")[:1]).update(**added):
        model.objects.create(**keys, **amounts)


def _apply_month(month: datetime.date, before: Counter, after: Counter) -> None:
    for branch, tier in set(before) | set(after):
        change = after[(branch, tier)] - before[(branch, tier)]
        if not change:
            continue
        _add_to(TierMonthFigure, {"month": month, "home_branch_id": branch, "tier": tier}, customers=change)


def _apply_migration(month: datetime.date, before: Counter, after: Counter) -> None:
    for key in set(before) | set(after):
        change = after[key] - before[key]
        if not change:
            continue
        month_from, branch, from_tier, to_tier = key
        keys = {
            "month_from": month_from,
            "month_to": month,
            "home_branch_id": branch,
            "from_tier": from_tier,
            "to_tier": to_tier,
        }
        _add_to(TierMigrationFigure, keys, customers=change)


DayKey = tuple[datetime.date, int]  # day, home branch


def _day_shares(ids: list[int]) -> Counter[tuple[DayKey, int]]:
    """These customers' changes counted as `WonLostDayFigure` counts them, by
    (day, home branch) and figure: 0 registered, 1 liquidated, 2 came into a
    tier, 3 dropped out of every tier."""
    shares: Counter[tuple[DayKey, int]] = Counter()
    statuses = {VipStatus.REGISTERED: 0, VipStatus.LIQUIDATED: 1}
    for day, branch, status in VipStatusChange.objects.filter(
        customer_id__in=ids, to_status__in=list(statuses)
    ).values_list("effective_date", "customer__home_branch", "to_status"):
        shares[((day, branch), statuses[status])] += 1
    for day, branch, from_tier in (
        TierChange.objects.filter(customer_id__in=ids)
        .filter(Q(from_tier="") & ~Q(to_tier="") | Q(to_tier="") & ~Q(from_tier=""))
        .values_list("effective_date", "customer__home_branch", "from_tier")
    ):
        shares[((day, branch), 2 if not from_tier else 3)] += 1
    return shares


def _apply_days(before: Counter, after: Counter) -> None:
    changes: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, figure in set(before) | set(after):
        changes[key][figure] += after[(key, figure)] - before[(key, figure)]
    for (day, branch), change in changes.items():
        if not any(change):
            continue
        registered, liquidated, entered, dropped = change
        _add_to(
            WonLostDayFigure,
            {"day": day, "home_branch_id": branch},
            registered=registered,
            liquidated=liquidated,
            entered=entered,
            dropped=dropped,
        )


@contextmanager
def figures_follow(customer_ids: Iterable[int]) -> Iterator[None]:
    """Keep the figures equal to the live tables across the change made inside the
    block to these customers (their manager of record, tier or VIP status). To be
    used inside the service's transaction; locks the customers in id order, as
    every assignment write does. The tier history can only change today, so of the
    month figures only the current month's moves, and of the migrations only those
    to the current month."""
    ids = sorted(set(customer_ids))
    build = FigureBuild.objects.first() if ids else None
    if build is None:
        yield
        return
    if len(ids) > FOLLOW_AT_MOST:
        yield
        figures_rebuild(business_date=build.business_date)
        return
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    today = timezone.localdate()
    month = today.replace(day=1)
    follow_month = month.isoformat() in build.months
    # the migrations from each earlier month built to this one
    earlier = [(m, end) for m, end in report_months(today) if m < month and m.isoformat() in build.months]
    book_before = _book_shares(ids)
    days_before = _day_shares(ids)
    if follow_month:
        history, branches = _histories(ids, today)
        month_before = _month_shares(history, branches, today)
        migration_before = _migration_shares(history, branches, earlier, today)
    yield
    _apply_book(book_before, _book_shares(ids))
    _apply_days(days_before, _day_shares(ids))
    if follow_month:
        history, branches = _histories(ids, today)
        _apply_month(month, month_before, _month_shares(history, branches, today))
        _apply_migration(month, migration_before, _migration_shares(history, branches, earlier, today))

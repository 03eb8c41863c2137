"""The figures the book and report pages read instead of counting a million
customers on every request (`vip.models.BookFigure`, `TierMonthFigure`,
`FigureBuild`; read by `vip.selectors.figures`).

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
from ..models import BookFigure, FigureBuild, TierChange, TierMonthFigure

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
    pairs = " UNION ALL ".join("SELECT %s AS month, %s AS month_end" for _ in months)
    with connection.cursor() as cursor:
        cursor.execute(TIER_MONTHS_SQL.format(months=pairs), [value for pair in months for value in pair])
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


def _month_shares(ids: list[int], month_end: datetime.date) -> Counter[tuple[int, str]]:
    """(home branch, tier) of these customers by their last tier change up to
    `month_end`; nobody without a tier then."""
    last: dict[int, str] = {}
    for customer_id, tier in (
        TierChange.objects.filter(customer_id__in=ids, effective_date__lte=month_end)
        .order_by("customer_id", "effective_date", "id")
        .values_list("customer_id", "to_tier")
    ):
        last[customer_id] = tier
    branches = dict(
        Customer.objects.filter(pk__in=list(last), merged_into__isnull=True).values_list("pk", "home_branch")
    )
    return Counter((branches[pk], tier) for pk, tier in last.items() if tier and pk in branches)


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
        rows = BookFigure.objects.filter(manager_id=manager, home_branch_id=branch, tier=tier)
        updated = BookFigure.objects.filter(pk__in=rows.values("pk")[:1]).update(
            customers=F("customers") + n, aum=F("aum") + aum, registered=F("registered") + registered
        )
        if not updated:
            BookFigure.objects.create(
                manager_id=manager,
                home_branch_id=branch,
                tier=tier,
                customers=n,
                aum=aum,
                registered=registered,
            )


def _apply_month(month: datetime.date, before: Counter, after: Counter) -> None:
    for branch, tier in set(before) | set(after):
        change = after[(branch, tier)] - before[(branch, tier)]
        if not change:
            continue
        updated = TierMonthFigure.objects.filter(month=month, home_branch_id=branch, tier=tier).update(
            customers=F("customers") + change
        )
        if not updated:
            TierMonthFigure.objects.create(month=month, home_branch_id=branch, tier=tier, customers=change)


@contextmanager
def figures_follow(customer_ids: Iterable[int]) -> Iterator[None]:
    """Keep the figures equal to the live tables across the change made inside the
    block to these customers (their manager of record, tier or VIP status). To be
    used inside the service's transaction; locks the customers in id order, as
    every assignment write does. The tier history can only change today, so of the
    month figures only the current month's moves."""
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
    book_before = _book_shares(ids)
    month_before = _month_shares(ids, today) if follow_month else Counter()
    yield
    _apply_book(book_before, _book_shares(ids))
    if follow_month:
        _apply_month(month, month_before, _month_shares(ids, today))

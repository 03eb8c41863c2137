"""Benchmark: the credit-risk reports' figures (credit.risk_figures) for the whole bank
over 24 months, against the same figures computed with grouped ORM queries per
month, side by side in one run; the nightly refresh; and the report page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_credit \\
        .venv/bin/python bench/credit.py --prepare      # once: the loans' history
    DATABASE_URL=... .venv/bin/python bench/credit.py [--page-samples 200]

On a seeded bench database (bench/seed_customers.py: customers and their accounts
with one business date of balances; it is changed: loan statuses and month-end
balances are written, the figure tables rewritten).

`--prepare` (set-based, a few statements; run once): for every account, as the
nightly load stores a day's balances (every account, one date at a time), its
balance at the last weekday of each of the 23 months before the business date (the
balance then grows back towards the day's by 1% a month; a month end reads its 2.2
million rows at 1,000,000 customers, not only the loans'), and about 0.4 change-log
rows (`customers.LoanStatus`) per customer over the 24 months: delinquency episodes
starting on a random day, rolling from 15 to 45, 75 and 105 days past due a month
at a time (classified normal, special mention, substandard, doubtful), most of them
cured after their last stage (a row back to current).

1. the rebuild of 24 months (`risk_figures_rebuild`): from the history (what
   `manage.py credit_risk_figures` runs, and the first night after go-live: every
   month end's snapshot written from the status change log and that day's
   balances), then from the month-end snapshots that keeps (what the nightly steps
   leave; `--from-snapshots`): wall time and rows written;
2. the nightly refresh after a load of the business date (the current month's
   snapshot and figures; the previous month end's snapshot read as kept) and after
   a late batch (the previous month's last day with it: two snapshots written);
3. the fair alternative, in the same run: the same per-month figures (accounts and
   balance per branch, product line, bucket and class) with one grouped ORM query
   per month end (the status as a subquery of the latest row on or before it, the
   balance as a subquery of the month's balance date), and the roll rates from one
   `values_list` of every account's bucket per month end, paired in Python (no
   vintages: less work than ours);
4. the report page (/credit/reports/) through django.test.Client as head office
   and as a branch head, with random branches, product lines and months: p50 / p95
   and queries.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONTHS = 24


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def say(message: str) -> None:
    print(message, flush=True)


def last_weekday(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


# The month-end balances of every loan and card: the day's balance, 1% less per
# month back (a loan amortises; the seed has no history of its own).
MONTH_END_BALANCES_SQL = """
    INSERT INTO customers_accountbalance (business_date, account_id, balance, cny_balance)
    SELECT %(day)s, a.id, ROUND(a.cny_balance * %(factor)s, 2), ROUND(a.cny_balance * %(factor)s, 2)
      FROM customers_account a
     WHERE a.open_date IS NULL OR a.open_date <= %(day)s
    ON CONFLICT DO NOTHING
"""

# Delinquency episodes: per loan or card, 0 to 2 episodes (random), each starting on
# a random day of the 24 months, with 1 to 4 monthly stages (15, 45, 75, 105 days
# past due) and, for 6 in 10, a cure a month after the last stage.
STATUS_HISTORY_SQL = """
    INSERT INTO customers_loanstatus (account_id, business_date, overdue_days, overdue_amount, risk_class)
    SELECT e.account_id, e.start + 30 * s.stage,
           CASE WHEN s.stage < e.stages THEN 15 + 30 * s.stage ELSE 0 END,
           CASE WHEN s.stage < e.stages THEN ROUND(e.balance * 0.01 * (s.stage + 1), 2) ELSE 0 END,
           CASE WHEN s.stage = e.stages THEN 1
                ELSE (ARRAY[1, 2, 3, 4])[s.stage + 1] END
      FROM (SELECT a.id AS account_id, a.cny_balance AS balance,
                   %(as_of)s::date - (random() * 720)::int AS start,
                   (ARRAY[1, 1, 1, 2, 2, 3, 4])[1 + floor(random() * 7)::int] AS stages,
                   random() < 0.6 AS cured
              FROM customers_account a
              JOIN generate_series(1, 2) n ON true
             WHERE a.category IN ({credit}) AND random() < %(share)s) e
      JOIN generate_series(0, 4) s(stage) ON s.stage < e.stages OR (s.stage = e.stages AND e.cured)
     WHERE e.start + 30 * s.stage <= %(as_of)s::date
    ON CONFLICT DO NOTHING
"""


def prepare(as_of: datetime.date) -> None:
    from django.db import connection, transaction

    from core.months import month_back, month_end
    from customers.choices import CREDIT_CATEGORIES
    from customers.models import Customer

    credit = ", ".join(f"'{c}'" for c in sorted(CREDIT_CATEGORIES))
    customers = Customer.objects.count()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        balances = 0
        for back in range(1, MONTHS):
            day = last_weekday(month_end(month_back(as_of.replace(day=1), back)))
            factor = Decimal(1) + Decimal("0.01") * back
            cursor.execute(MONTH_END_BALANCES_SQL, {"day": day, "factor": factor})
            balances += cursor.rowcount
        cursor.execute("DELETE FROM customers_loanstatus")
        # about 0.4 rows a customer: accounts per customer x episodes x rows per episode
        cursor.execute(f"SELECT COUNT(*) FROM customers_account WHERE category IN ({credit})")
        accounts = cursor.fetchone()[0]
        rows_per_episode = 2.3
        share = min(1.0, 0.4 * customers / max(accounts, 1) / 2 / rows_per_episode)
        cursor.execute(STATUS_HISTORY_SQL.format(credit=credit), {"as_of": as_of, "share": share})
        statuses = cursor.rowcount
        cursor.execute("ANALYZE customers_loanstatus")
        cursor.execute("ANALYZE customers_accountbalance")
    say(
        f"prepared in {time.perf_counter() - started:.1f} s: {balances:,} month-end balances, "
        f"{accounts:,} loans and cards, {statuses:,} status rows ({statuses / customers:.2f} a customer)"
    )


def orm_figures(as_of: datetime.date) -> tuple[int, int]:
    """The figures and roll rates of the 24 months, the obvious way: per month end one
    grouped ORM query with the status and balance as subqueries, and every account's
    bucket read to pair with the month before. Returns the groups and the pairs."""
    from django.db.models import (
        Case,
        Count,
        DecimalField,
        IntegerField,
        OuterRef,
        Q,
        Subquery,
        Sum,
        Value,
        When,
    )
    from django.db.models.functions import Coalesce

    from core.months import month_back
    from credit.buckets import BUCKET_LIMITS, OverdueBucket
    from credit.risk_figures import month_ends, window_start
    from customers.choices import CREDIT_CATEGORIES, AccountStatus
    from customers.models import Account, AccountBalance, LoanStatus

    groups, pairs = 0, 0
    previous: dict[int, int] | None = None
    for end in month_ends(month_back(window_start(as_of, MONTHS), 1), as_of):
        latest = LoanStatus.objects.filter(account=OuterRef("pk"), business_date__lte=end.as_of).order_by(
            "-business_date"
        )
        days = Coalesce(Subquery(latest.values("overdue_days")[:1]), Value(0))
        balance = Coalesce(
            Subquery(
                AccountBalance.objects.filter(account=OuterRef("pk"), business_date=end.balance_date).values(
                    "cny_balance"
                )[:1]
            ),
            Value(0),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )
        bucket = Case(
            *[When(days__lte=most, then=Value(int(b))) for most, b in BUCKET_LIMITS],
            default=Value(int(OverdueBucket.DAYS_90_PLUS)),
            output_field=IntegerField(),
        )
        on_book = (
            Account.objects.filter(category__in=CREDIT_CATEGORIES)
            .filter(Q(open_date__isnull=True) | Q(open_date__lte=end.as_of))
            .annotate(
                days=days,
                risk_class=Coalesce(Subquery(latest.values("risk_class")[:1]), Value(1)),
                month_balance=balance,
                bucket=bucket,
            )
            .exclude(status=AccountStatus.CLOSED, month_balance=0, days=0)
        )
        groups += len(
            on_book.values("branch_id", "category", "bucket", "risk_class").annotate(
                accounts=Count("pk"), total=Sum("month_balance")
            )
        )
        buckets = dict(on_book.values_list("pk", "bucket"))
        if previous is not None:
            rolls = Counter((previous[pk], b) for pk, b in buckets.items() if pk in previous)
            pairs += sum(rolls.values())
        previous = buckets
    return groups, pairs


def page_times(client, queries: list[dict]) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, counts = [], []
    for query in queries:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/credit/reports/", query)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, query)
        counts.append(len(captured))
    return times, counts


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepare", action="store_true", help="write the loans' history (once)")
    parser.add_argument("--page-samples", type=int, default=200)
    parser.add_argument("--skip-orm", action="store_true", help="leave out the ORM alternative")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.scope import visible_branches
    from credit.reports import PRODUCT_LINES, figure_months, month_label
    from credit.risk_figures import risk_figures_rebuild, risk_figures_refresh
    from customers.choices import CREDIT_CATEGORIES
    from customers.models import Account, Customer, LoanStatus
    from vip.evaluation import current_business_date

    as_of = current_business_date()
    if args.prepare:
        prepare(as_of)
        return

    customers = Customer.objects.count()
    credit_accounts = Account.objects.filter(category__in=CREDIT_CATEGORIES).count()
    statuses = LoanStatus.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    say(
        f"== credit-risk figures as of {as_of}: {customers:,} customers, {credit_accounts:,} loans and cards, "
        f"{statuses:,} status rows; {version}, shared_buffers {buffers}, {os.cpu_count()} cores"
    )

    started = time.perf_counter()
    written = risk_figures_rebuild(as_of=as_of, months=MONTHS, from_history=True)
    history = time.perf_counter() - started
    say(f"rebuild of {MONTHS} months from the history (set-based): {history:.1f} s  {written}")
    started = time.perf_counter()
    written = risk_figures_rebuild(as_of=as_of, months=MONTHS, from_history=False)
    rebuild = time.perf_counter() - started
    say(f"rebuild of {MONTHS} months from the kept month-end snapshots: {rebuild:.1f} s  {written}")

    started = time.perf_counter()
    written = risk_figures_refresh([as_of], as_of=as_of)
    say(f"nightly refresh (the current month): {time.perf_counter() - started:.1f} s  {written}")
    late = as_of.replace(day=1) - datetime.timedelta(days=1)
    started = time.perf_counter()
    written = risk_figures_refresh([last_weekday(late), as_of], as_of=as_of)
    say(f"nightly refresh after a late batch (two months): {time.perf_counter() - started:.1f} s  {written}")

    if not args.skip_orm:
        started = time.perf_counter()
        groups, pairs = orm_figures(as_of)
        orm = time.perf_counter() - started
        say(
            f"ORM alternative, grouped query per month end + roll pairs in Python (no vintages): {orm:.1f} s "
            f"({groups:,} groups, {pairs:,} pairs; {orm / history:.1f}x the rebuild from the history)"
        )

    rng = random.Random(args.seed)
    months = [month_label(m) for m in figure_months()]
    for username in ("demo_bm", "demo_bh"):
        user = User.objects.get(username=username)
        branches = [""] + list(visible_branches(user).values_list("code", flat=True))
        queries = [
            {
                "branch": rng.choice(branches),
                "category": rng.choice(["", "", *PRODUCT_LINES]),
                "month": rng.choice(["", *months]),
            }
            for _ in range(args.page_samples)
        ]
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        page_times(client, queries[:10])  # warm-up
        times, counts = page_times(client, queries)
        say(
            f"report page as {username} ({len(branches) - 1} branches in scope): p50 {statistics.median(times):.1f} ms, "
            f"p95 {pct(times, 0.95):.1f} ms, max {max(times):.1f} ms, {max(counts)} queries"
        )


if __name__ == "__main__":
    main()

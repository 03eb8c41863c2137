"""Benchmark: the nightly customer analysis at bank scale, against the per-customer
ORM computation a Django developer would write, side by side in one run; the
churn model's training on the bank's history; and what the analysis panel adds to
the customer 360 page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/analysis.py [--sample 500] [--page-samples 100] [--train]

On a seeded bench database (bench/seed_customers.py: customers, accounts, 13 months
of monthly AUM, transactions; it is changed: the analysis tables are rewritten).
`--prepare` (once, untimed beyond its print) records the seeded days of daily AUM as
loaded batches, computes the marketing profile, writes the demo's product catalogue and the month's performance figures
(the contribution the analysis reads), and, since the seeded history has no customer
who leaves, writes some into it so that a model has something to learn: one customer in
forty leaves in one of the nine months before the last three, another one in forty
in one of the last three months (their month-average AUM falls over the three months
before, then to 3%; four in ten of them complained the month before the fall); one
in twenty others falls less and recovers, one in ten of them having complained
(`write_leavers`: at the month end scored three months before a departure, leavers
and the others overlap, so the back-test has something to tell).

1. the nightly run (`analysis.services.analyse_customers` as of the business date):
   every customer scored (`analysis.scoring.score_customers`), the next best
   products (`analysis.recommend.recommend_products`), the save lists' alerts;
   wall time per step and customers per second;
2. the alternatives, in the same run: the fair one, the same inputs read with one
   grouped ORM query per source table and combined customer by customer in Python
   (no scoring, no reasons: less work than ours); and the naive one, a query per
   source table per customer, on `--sample` random customers, extrapolated;
3. with `--train`: the churn model trained on the history (`analysis.training.train`),
   its wall time and the customer-months it read;
4. the customer 360 page (`/customers/<no>/`, through django.test.Client as head
   office) on `--page-samples` random customers, with the analysis panel and with
   it taken off the page: p50 / p95 and queries, and the difference.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def say(message: str) -> None:
    print(message, flush=True)


def orm_features(customer_id: int, as_of: datetime.date) -> dict:
    """One customer's inputs, the obvious way: a query per source."""
    from django.db.models import Count, Max, Q, Sum

    from care.models import JournalEntry
    from core.months import month_back
    from customers.choices import InteractionKind
    from customers.models import (
        Account,
        CustomerAssignment,
        CustomerMonthlyAum,
        Interaction,
        TransactionSummary,
    )
    from performance.models import CustomerResult

    month = as_of.replace(day=1)
    aum = {
        m.month: m.avg_aum
        for m in CustomerMonthlyAum.objects.filter(
            customer_id=customer_id, month__gte=month_back(month, 12), month__lte=month
        )
    }
    ninety = as_of - datetime.timedelta(days=90)
    txns = TransactionSummary.objects.filter(customer_id=customer_id)
    recent = txns.filter(business_date__gt=ninety, business_date__lte=as_of).aggregate(n=Sum("txn_count"))
    before = txns.filter(
        business_date__gt=ninety - datetime.timedelta(days=90), business_date__lte=ninety
    ).aggregate(n=Sum("txn_count"))
    last = txns.filter(business_date__lte=as_of).aggregate(d=Max("business_date"))
    matured = list(
        Account.objects.filter(customer_id=customer_id, maturity_date__gt=ninety, maturity_date__lte=as_of)
    )
    year = as_of - datetime.timedelta(days=365)
    talks = Interaction.objects.filter(customer_id=customer_id, occurred_at__date__gt=year).aggregate(
        complaints=Count("pk", filter=Q(kind=InteractionKind.COMPLAINT)),
        requests=Count("pk", filter=Q(kind=InteractionKind.SERVICE_REQUEST)),
    )
    rated = JournalEntry.objects.filter(customer_id=customer_id, satisfaction__isnull=False).count()
    moved = CustomerAssignment.objects.filter(customer_id=customer_id, start_date__gt=ninety).exists()
    contribution = CustomerResult.objects.filter(customer_id=customer_id).aggregate(
        total=Sum("liability") + Sum("asset") + Sum("intermediary")
    )
    return {
        "aum": aum,
        "recent": recent,
        "before": before,
        "last": last,
        "matured": len(matured),
        "talks": talks,
        "rated": rated,
        "moved": moved,
        "contribution": contribution,
    }


# Who leaves in the prepared history: (leavers, those who fall the same way and
# recover, the earliest month back a leaver leaves, how many months the leavers
# spread over). One set leaves 4 to 12 months back; the other in the last 3 months,
# which the back-test (scored 3 months before the newest known outcome) sees.
LEAVERS = ((0, 7, 4, 9), (20, 27, 1, 3))


def write_leavers(cursor, month, leave: int, recover: int, first: int, spread: int) -> tuple[int, int]:
    """One set of customers who leave (customer id = `leave` modulo 40) and who fall
    and recover (`recover`), in the monthly AUM history before `month`.

    A leaver leaving in month k (months back) has month-average AUM at 55-95% of
    before in month k+3, 50% in k+2, 30% in k+1, then 3%; a recovering customer
    75-95% in k+3, 85% in k+2, 90% in k+1, then as before. Four leavers in ten and
    one recovering customer in ten complained in month k+4. So at k+3, the month
    end the model scores three months before the departure, the two overlap: a
    leaver falls further and complains more often, not always."""
    is_leaver, is_recovering = f"c.customer_id %% 40 = {leave}", f"c.customer_id %% 40 = {recover}"
    # b: months back from the business date's month; k: the month a leaver leaves;
    # v: 0-4, how far the first month falls (independent of k)
    back = (
        "((EXTRACT(YEAR FROM %s::date) - EXTRACT(YEAR FROM c.month)) * 12"
        " + EXTRACT(MONTH FROM %s::date) - EXTRACT(MONTH FROM c.month))"
    )
    k = f"((c.customer_id / 40) %% {spread} + {first})"
    v = "((c.customer_id / 400) %% 5)"
    factor = (
        f"CASE WHEN {is_leaver} THEN (CASE WHEN {back} <= {k} THEN 0.03 WHEN {back} = {k} + 1 THEN 0.30 "
        f"WHEN {back} = {k} + 2 THEN 0.50 WHEN {back} = {k} + 3 THEN 0.55 + 0.10 * {v} ELSE 1 END) "
        f"ELSE (CASE WHEN {back} = {k} + 1 THEN 0.90 WHEN {back} = {k} + 2 THEN 0.85 "
        f"WHEN {back} = {k} + 3 THEN 0.75 + 0.05 * {v} ELSE 1 END) END"
    )
    update = (
        f"UPDATE customers_customermonthlyaum c SET avg_aum = ROUND(avg_aum * {factor}, 2), "
        f"end_aum = ROUND(end_aum * {factor}, 2) WHERE {is_leaver} OR {is_recovering}"
    )
    cursor.execute(update, [month] * update.count("%s"))
    changed = cursor.rowcount
    cursor.execute(
        "INSERT INTO customers_interaction (customer_id, kind, occurred_at, subject, notes, created_at) "
        "SELECT c.id, 'complaint', (date_trunc('month', %s::date) - make_interval(months => "
        f"((c.id / 40) %% {spread} + {first} + 4)::int) + interval '10 days'), 'bench complaint', '', now() "
        f"FROM customers_customer c WHERE (c.id %% 40 = {leave} AND (c.id / 40) %% 10 < 4) "
        f"OR (c.id %% 40 = {recover} AND (c.id / 40) %% 10 = 0)",
        [month],
    )
    return changed, cursor.rowcount


def prepare() -> None:
    from django.db import connection, transaction

    from customers.models import BatchLoad, CustomerDailyAum
    from demo.catalogue import seed_catalogue
    from marketing.rfm import profile_refresh
    from performance.services import performance_run
    from vip.evaluation import current_business_date

    started = time.perf_counter()
    days = sorted(CustomerDailyAum.objects.values_list("business_date", flat=True).distinct())
    BatchLoad.objects.bulk_create(
        [
            BatchLoad(business_date=day, source=f"bench/{day:%Y%m%d}", status="loaded", started_via="bench")
            for day in days
            if not BatchLoad.objects.filter(business_date=day).exists()
        ]
    )
    as_of = current_business_date()
    profile_refresh(as_of)
    products = seed_catalogue(as_of)  # the demo catalogue: the products the accounts hold
    say(
        f"batches recorded for {len(days)} days, marketing profile, catalogue {products}: "
        f"{time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    version = performance_run(f"{as_of:%Y-%m}")
    say(
        f"performance figures of {as_of:%Y-%m}: {version.counted_days} days, {time.perf_counter() - started:.1f} s"
    )
    month = as_of.replace(day=1)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        changed = complaints = 0
        for leavers in LEAVERS:
            rows, complained = write_leavers(cursor, month, *leavers)
            changed, complaints = changed + rows, complaints + complained
    say(
        f"prepared: {changed:,} monthly AUM rows changed, {complaints:,} complaints, {time.perf_counter() - started:.1f} s"
    )


def orm_grouped_features(as_of: datetime.date) -> int:
    """Every customer's inputs the careful ORM way: one grouped query per source
    (month-average AUM of the months compared, transactions in two windows and the
    last one, matured accounts, complaints and service requests, new managers,
    contribution), combined customer by customer in Python. Returns the customers."""
    from django.db.models import Count, Max, Q, Sum

    from core.months import month_back
    from customers.choices import InteractionKind
    from customers.models import (
        Account,
        Customer,
        CustomerAssignment,
        CustomerMonthlyAum,
        Interaction,
        TransactionSummary,
    )
    from performance.models import CustomerResult

    month = as_of.replace(day=1)
    wanted = {month_back(month, n): n for n in (0, 1, 2, 3, 6, 12)}
    aum: dict[int, dict[int, tuple]] = {}
    for customer_id, m, avg, end in CustomerMonthlyAum.objects.filter(month__in=list(wanted)).values_list(
        "customer_id", "month", "avg_aum", "end_aum"
    ):
        aum.setdefault(customer_id, {})[wanted[m]] = (avg, end)
    ninety = as_of - datetime.timedelta(days=90)
    txns = {
        row["customer_id"]: row
        for row in TransactionSummary.objects.filter(
            business_date__gt=ninety - datetime.timedelta(days=90), business_date__lte=as_of
        )
        .values("customer_id")
        .annotate(
            recent=Sum("txn_count", filter=Q(business_date__gt=ninety)),
            before=Sum("txn_count", filter=Q(business_date__lte=ninety)),
            last=Max("business_date"),
        )
    }
    matured = dict(
        Account.objects.filter(maturity_date__gt=ninety, maturity_date__lte=as_of, status="C")
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    year = as_of - datetime.timedelta(days=365)
    talks = {
        row["customer_id"]: row
        for row in Interaction.objects.filter(
            occurred_at__date__gt=year, kind__in=[InteractionKind.COMPLAINT, InteractionKind.SERVICE_REQUEST]
        )
        .values("customer_id")
        .annotate(
            complaints=Count("pk", filter=Q(kind=InteractionKind.COMPLAINT)),
            requests=Count("pk", filter=Q(kind=InteractionKind.SERVICE_REQUEST)),
        )
    }
    moved = set(
        CustomerAssignment.objects.filter(start_date__gt=ninety, start_date__lte=as_of).values_list(
            "customer_id", flat=True
        )
    )
    contribution = dict(
        CustomerResult.objects.values("customer_id")
        .annotate(total=Sum("liability") + Sum("asset") + Sum("intermediary"))
        .values_list("customer_id", "total")
    )
    count = 0
    for customer_id in Customer.objects.values_list("pk", flat=True).iterator(chunk_size=20000):
        months = aum.get(customer_id, {})
        now, before = months.get(0, (0, 0))[0], months.get(3, (0, 0))[0]
        txn = txns.get(customer_id) or {}
        talk = talks.get(customer_id) or {}
        (
            (now / before - 1) if before else None,
            matured.get(customer_id, 0),
            (as_of - txn["last"]).days if txn.get("last") else None,
            talk.get("complaints", 0),
            talk.get("requests", 0),
            customer_id in moved,
            contribution.get(customer_id, 0),
        )
        count += 1
    return count


def page_times(client, numbers: list[str]) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], []
    for number in numbers:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(f"/customers/{number}/")
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries.append(len(captured))
    return times, queries


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=500, help="customers of the ORM baseline")
    parser.add_argument("--page-samples", type=int, default=100)
    parser.add_argument("--train", action="store_true", help="also train the churn model on the history")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prepare", action="store_true", help="write customers who leave into the history")
    parser.add_argument(
        "--pages-only", action="store_true", help="only the 360 page with and without the panel"
    )
    args = parser.parse_args()
    setup()
    if args.prepare:
        prepare()
        return

    from django.test import Client

    from accounts.models import User
    from analysis.services import analyse_customers
    from customers import panels
    from customers.models import Customer
    from vip.evaluation import current_business_date

    as_of = current_business_date()
    customers = Customer.objects.count()
    say(f"== customer analysis as of {as_of}, {customers:,} customers")

    if args.train and not args.pages_only:
        from analysis.training import train

        started = time.perf_counter()
        outcome = train()
        say(f"training: {time.perf_counter() - started:.1f} s  {outcome}")

    rng = random.Random(args.seed)
    if not args.pages_only:
        started = time.perf_counter()
        timings = analyse_customers(as_of)
        night = time.perf_counter() - started
        say(f"nightly analysis: {night:.1f} s ({customers / night:,.0f} customers/s)  {timings}")

        ids = list(Customer.objects.order_by("?").values_list("id", flat=True)[: args.sample])
        started = time.perf_counter()
        for customer_id in ids:
            orm_features(customer_id, as_of)
        per = (time.perf_counter() - started) / max(len(ids), 1)
        say(
            f"ORM per customer (features only, no scoring): {per * 1000:.1f} ms each on {len(ids)} customers, "
            f"extrapolated {per * customers:,.0f} s for all ({per * customers / night:,.0f}x the set-based run)"
        )
        started = time.perf_counter()
        read = orm_grouped_features(as_of)
        grouped = time.perf_counter() - started
        say(
            f"ORM grouped by customer (features only, no scoring, no reasons): {grouped:.1f} s for {read:,} "
            f"customers ({grouped / night:.2f}x the whole set-based run)"
        )

    numbers = list(
        Customer.objects.filter(analysis__isnull=False).values_list("customer_no", flat=True)[:5000]
    )
    numbers = rng.sample(numbers, min(args.page_samples, len(numbers)))
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="demo_bm"))
    page_times(client, numbers[:10])  # warm-up
    # each customer's page with and without the panel, one after the other in a
    # random order, so that caches and the machine's load favour neither
    saved = dict(panels._sections)
    assert "analysis" in saved, "the analysis section is registered as 'analysis'"
    with_panel, with_queries, without_panel, without_queries = [], [], [], []
    try:
        for number in numbers:
            for shown in rng.sample([True, False], 2):
                panels._sections.clear()
                panels._sections.update({k: v for k, v in saved.items() if shown or k != "analysis"})
                times, queries = page_times(client, [number])
                (with_panel if shown else without_panel).extend(times)
                (with_queries if shown else without_queries).extend(queries)
    finally:
        panels._sections.clear()
        panels._sections.update(saved)
    say(
        f"360 page with the analysis panel: p50 {statistics.median(with_panel):.1f} ms, "
        f"p95 {pct(with_panel, 0.95):.1f} ms, {max(with_queries)} queries"
    )
    say(
        f"360 page without it:              p50 {statistics.median(without_panel):.1f} ms, "
        f"p95 {pct(without_panel, 0.95):.1f} ms, {max(without_queries)} queries"
    )
    say(
        f"the panel adds: p50 {statistics.median(with_panel) - statistics.median(without_panel):+.1f} ms, "
        f"p95 {pct(with_panel, 0.95) - pct(without_panel, 0.95):+.1f} ms"
    )
    # the panel alone: its section (the row, the reasons, the products) and its template
    from django.template.loader import render_to_string

    from analysis.panels import customer_panel

    bm = User.objects.get(username="demo_bm")
    alone = []
    for customer in Customer.objects.filter(customer_no__in=numbers):
        started = time.perf_counter()
        section = customer_panel(customer, bm)
        assert section is not None
        render_to_string(section.template, section.context)
        alone.append((time.perf_counter() - started) * 1000)
    say(
        f"the panel alone (its queries, reasons and template): p50 {statistics.median(alone):.1f} ms, p95 {pct(alone, 0.95):.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Benchmark: a period's performance figures (performance.engine) at bank scale,
against the plain ORM per-manager aggregation, side by side in one run.

    psql -c "CREATE DATABASE crm_perf TEMPLATE crm_bench"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_perf \\
        .venv/bin/python bench/performance.py --prepare [--managers 2000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_perf .venv/bin/python bench/performance.py

On a copy of a seeded bench database (bench/seed_customers.py; it is changed):
`--prepare` (once, not timed beyond its own print) makes `--managers` client managers
over the outlets, gives nine customers in ten a manager of record from 1 January
(one in fifty moves to another manager on 16 November, one in a hundred has an
assisting manager with 30%), writes a month of daily balances (the seeded day's
balances, moved a little each business day, for 30 October and every weekday of
November 2026: about 47 million rows at a million customers), intermediary income
for three customers in a hundred each day, the per-customer day rows the load
derives from the balances, and a loaded batch record for each of those days.

Then, timed:
0. the night before: the month, the quarter and the year computed whole up to the
   last Friday (27 November; untimed beyond its print);
1. the load of Monday 30 November derives its per-customer day rows
   (`customers.aum.write_daily_figures`, a step of the load's AUM refresh);
2. the nightly run (`performance.services.refresh_after_load`, what the jobs after
   a load run): the month, the quarter and the year each extended by that day, the
   day's figures computed once (by the first) and added to each period's rows;
3. the full computation of the month (every counted day, every customer, every
   manager), its figures written;
4. the baselines: the plain ORM a Django developer would write, one aggregation per
   manager (`AccountBalance` rows of the manager's current customers in the month,
   summed by category group, and their income) on a sample of managers,
   extrapolated to all of them. It is not the definition (no carry-forward over
   weekends, no transfer split by days, no split credit, no pool): it is the
   cost of the obvious loop; and (5.) the same as one aggregation grouped by
   manager, the set-based ORM a careful developer would write instead.
Prints wall time, rows written and the ratio. `--night` stops after step 2 (the night
alone, while working on it); the figures to report come from a full run. `--day` picks
the day the night adds: by default Monday 30 November (three days: Friday's balances
stand for the weekend), `--day 2026-11-27` a Tuesday-to-Friday night (one day, one
batch); the night before then counts up to the day before it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAYS = [datetime.date(2026, 10, 30)] + [
    datetime.date(2026, 11, d) for d in range(1, 31) if datetime.date(2026, 11, d).weekday() < 5
]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def say(message: str) -> None:
    print(message, flush=True)


def prepare(managers: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.models import Branch, BranchLevel, User
    from accounts.roles import Role
    from customers.aum import write_daily_figures
    from customers.models import BatchLoad
    from customers.partitions import ensure_partitions

    started = time.perf_counter()
    outlets = list(Branch.objects.filter(level=BranchLevel.OUTLET).order_by("path"))
    group = Group.objects.get(name=Role.CLIENT_MANAGER)
    with transaction.atomic():
        made = User.objects.bulk_create(
            [
                User(
                    username=f"bench_cm{i:05d}",
                    employee_no=f"B{i:05d}",
                    display_name=f"Manager {i}",
                    branch=outlets[i % len(outlets)],
                    password=make_password(None),
                    is_active=True,
                    status="active",
                )
                for i in range(managers)
            ]
        )
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=u.pk, group_id=group.pk) for u in made]
        )
        ids = [u.pk for u in made]
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_managers (n INTEGER, id BIGINT)")
            cursor.executemany("INSERT INTO bench_managers VALUES (%s, %s)", list(enumerate(ids)))
            cursor.execute("DELETE FROM customers_customerassignment")
            cursor.execute("CREATE UNIQUE INDEX ON bench_managers (n)")
            cursor.execute(
                "UPDATE customers_customer c SET primary_manager_id = m.id FROM bench_managers m "
                "WHERE m.n = c.id %% %s AND c.id %% 10 <> 0",
                [managers],
            )
            cursor.execute("UPDATE customers_customer SET primary_manager_id = NULL WHERE id %% 10 = 0", [])
            cursor.execute(
                "INSERT INTO customers_customerassignment (customer_id, manager_id, role, start_date, end_date, "
                "reason, created_at) SELECT id, primary_manager_id, 'primary', DATE '2026-01-01', "
                "CASE WHEN id %% 50 = 1 THEN DATE '2026-11-15' END, 'bench', now() "
                "FROM customers_customer WHERE primary_manager_id IS NOT NULL",
                [],
            )
            cursor.execute(
                "INSERT INTO customers_customerassignment (customer_id, manager_id, role, start_date, reason, "
                "created_at) SELECT c.id, m.id, 'primary', DATE '2026-11-16', 'bench', now() "
                "FROM customers_customer c JOIN bench_managers m ON m.n = (c.id + 7) %% %s "
                "WHERE c.primary_manager_id IS NOT NULL AND c.id %% 50 = 1",
                [managers],
            )
            cursor.execute(
                "INSERT INTO customers_customerassignment (customer_id, manager_id, role, credit_share, "
                "start_date, reason, created_at) SELECT c.id, m.id, 'secondary', 30, DATE '2026-01-01', "
                "'bench', now() FROM customers_customer c JOIN bench_managers m ON m.n = (c.id + 3) %% %s "
                "WHERE c.primary_manager_id IS NOT NULL AND c.id %% 100 = 3",
                [managers],
            )
            say(f"  managers and assignments: {time.perf_counter() - started:.0f} s")
            cursor.execute("SELECT max(business_date) FROM customers_accountbalance")
            (seeded,) = cursor.fetchone()
            # the months' partitions of the daily history, as the load makes them
            ensure_partitions(DAYS[0])
            ensure_partitions(DAYS[-1])
            for day in DAYS:
                cursor.execute(
                    "INSERT INTO customers_accountbalance (business_date, account_id, balance, cny_balance) "
                    "SELECT %s, account_id, round(balance * (1 + ((account_id + %s) %% 7 - 3) / 1000.0), 2), "
                    "round(cny_balance * (1 + ((account_id + %s) %% 7 - 3) / 1000.0), 2) "
                    "FROM customers_accountbalance WHERE business_date = %s ON CONFLICT DO NOTHING",
                    [day, day.day, day.day, seeded],
                )
                cursor.execute(
                    "INSERT INTO customers_incomeentry (business_date, customer_id, income_type, cny_amount) "
                    "SELECT %s, id, 'AGENCY_FUND', round((id %% 997) / 3.0, 2) FROM customers_customer "
                    "WHERE (id + %s) %% 33 = 0",
                    [day, day.day],
                )
                say(f"  balances and income of {day}: {time.perf_counter() - started:.0f} s")
        for day in DAYS:
            write_daily_figures(day)  # what the load derives from the day's balances
        say(f"  customer-day rows: {time.perf_counter() - started:.0f} s")
        BatchLoad.objects.bulk_create(
            [
                BatchLoad(
                    business_date=day, source=f"bench/{day:%Y%m%d}", status="loaded", started_via="bench"
                )
                for day in DAYS
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_accountbalance")
        cursor.execute("VACUUM ANALYZE customers_customerassignment")
        cursor.execute("VACUUM ANALYZE customers_incomeentry")
        cursor.execute("VACUUM ANALYZE customers_customerdailyaum")
    say(f"prepared in {time.perf_counter() - started:.0f} s")


def plain_per_manager(sample: int) -> tuple[float, int]:
    """The obvious ORM loop over a sample of managers: (seconds per manager, queries)."""
    from django.db import connection
    from django.db.models import Q, Sum

    from accounts.models import User
    from customers.models import AccountBalance, IncomeEntry
    from performance.engine import AUM, DEPOSIT, LOAN

    managers = list(User.objects.filter(username__startswith="bench_cm").order_by("pk"))
    picked = random.Random(5).sample(managers, min(sample, len(managers)))
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        for manager in picked:
            rows = AccountBalance.objects.filter(
                account__customer__primary_manager=manager,
                business_date__gte=datetime.date(2026, 11, 1),
                business_date__lte=datetime.date(2026, 11, 30),
            )
            rows.aggregate(
                deposit=Sum("cny_balance", filter=Q(account__category__in=DEPOSIT)),
                loan=Sum("cny_balance", filter=Q(account__category__in=LOAN)),
                aum=Sum("cny_balance", filter=Q(account__category__in=AUM)),
            )
            IncomeEntry.objects.filter(
                customer__primary_manager=manager, business_date__month=11, business_date__year=2026
            ).aggregate(total=Sum("cny_amount"))
    return (time.perf_counter() - started) / len(picked), queries


def plain_grouped() -> tuple[float, int]:
    """The set-based ORM a competent Django developer would write instead of the loop:
    one aggregation of the month's balances grouped by the customer's current manager
    and category group, and one of the income (seconds, managers). Like the loop it
    is not the definition (no carry-forward, no transfer split by days, no split
    credit, no pool), so it does less than the engine."""
    from django.db.models import Q, Sum

    from customers.models import AccountBalance, IncomeEntry
    from performance.engine import AUM, DEPOSIT, LOAN

    started = time.perf_counter()
    month = {
        "business_date__gte": datetime.date(2026, 11, 1),
        "business_date__lte": datetime.date(2026, 11, 30),
    }
    rows = list(
        AccountBalance.objects.filter(**month)
        .values("account__customer__primary_manager")
        .annotate(
            deposit=Sum("cny_balance", filter=Q(account__category__in=DEPOSIT)),
            loan=Sum("cny_balance", filter=Q(account__category__in=LOAN)),
            aum=Sum("cny_balance", filter=Q(account__category__in=AUM)),
        )
        .order_by()
    )
    list(
        IncomeEntry.objects.filter(**month)
        .values("customer__primary_manager")
        .annotate(total=Sum("cny_amount"))
        .order_by()
    )
    return time.perf_counter() - started, len(rows)


def pages(samples: int) -> None:
    """p50/p95 of the figures pages and API at this size, through the Django test
    client (templates rendered, middleware run), after a warm-up."""
    import statistics

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from performance.models import CustomerResult, ManagerResult, Period
    from performance.selectors import shown_version

    version = shown_version(Period.objects.get(code="2026-11"))
    manager = (
        ManagerResult.objects.filter(version=version, manager__isnull=False)
        .order_by("-total")
        .first()
        .manager
    )
    customer = (
        CustomerResult.objects.filter(version=version, manager=manager)
        .order_by("customer_id")
        .first()
        .customer
    )
    head_office, branch_head = User.objects.get(username="demo_bm"), User.objects.get(username="demo_bh")
    paths = [
        (head_office, "team board, head office (every manager)", "/performance/?period=2026-11"),
        (
            head_office,
            "team board, head office, by total, page 20",
            "/performance/?period=2026-11&sort=-total&page=20",
        ),
        (branch_head, "team board, a sub-branch head", "/performance/?period=2026-11"),
        (manager, "a client manager's own figures", "/performance/?period=2026-11"),
        (
            head_office,
            "a manager's customers",
            f"/performance/managers/{manager.employee_no}/?period=2026-11",
        ),
        (
            manager,
            "a customer's credited days (drill-down)",
            f"/performance/managers/{manager.employee_no}/days/{customer.customer_no}/?period=2026-11",
        ),
        (head_office, "branch ranking, outlets", "/performance/branches/?period=2026-11&level=outlet"),
        (head_office, "API managers, first page", "/api/v1/performance/managers/?period=2026-11"),
        (manager, "API scorecard of the caller", "/api/v1/performance/scorecard/?period=2026-11"),
    ]
    say(f"{'page':52} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for user, label, path in paths:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        status = client.get(path).status_code
        for _ in range(3):
            client.get(path)
        times, queries = [], []
        for _ in range(samples):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            queries.append(len(ctx.captured_queries))
        times.sort()
        p95 = statistics.quantiles(times, n=20)[-1]
        say(
            f"{label:52} {status:>6} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
            f"{statistics.median(queries):8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--pages", action="store_true", help="time the pages (after a run)")
    parser.add_argument("--baselines", action="store_true", help="time only the two ORM baselines")
    parser.add_argument("--samples", type=int, default=30, help="requests per page")
    parser.add_argument("--managers", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20, help="managers of the ORM baseline")
    parser.add_argument(
        "--day",
        default=DAYS[-1].isoformat(),
        help="the day the night adds (default Monday 30 November: Friday's balances stand for the weekend; "
        "a Tuesday to Friday adds one day)",
    )
    parser.add_argument(
        "--night", action="store_true", help="time only the night before and the nightly run (steps 0 to 2)"
    )
    args = parser.parse_args()
    setup()
    from django.db import connection

    from accounts.models import User
    from customers.models import AccountBalance, BatchLoad, Customer
    from performance.models import CustomerResult, ManagerResult

    if connection.vendor != "postgresql":
        raise SystemExit("run it on PostgreSQL (DATABASE_URL)")
    if args.prepare:
        prepare(args.managers)
        return
    if args.pages:
        pages(args.samples)
        return
    if args.baselines:
        grouped, grouped_rows = plain_grouped()
        say(f"baseline, plain ORM grouped by manager: {grouped:.1f} s ({grouped_rows:,} managers)")
        per_manager, queries = plain_per_manager(args.sample)
        count = User.objects.filter(username__startswith="bench_cm").count()
        say(
            f"baseline, plain ORM per manager: {per_manager * 1000:.0f} ms a manager, {per_manager * count:.0f} s"
        )
        return
    managers = User.objects.filter(username__startswith="bench_cm").count()
    balances = AccountBalance.objects.filter(business_date__in=DAYS).count()
    say(
        f"customers {Customer.objects.count():,}; managers {managers:,}; balance rows in the month {balances:,}"
    )

    from customers.aum import write_daily_figures
    from performance.services import performance_run, refresh_after_load

    def run(code: str) -> tuple[float, object]:
        started = time.perf_counter()
        version = performance_run(code)
        return time.perf_counter() - started, version

    def extended(version=None) -> bool:
        from accounts.models import AuditEvent

        events = AuditEvent.objects.filter(action="performance_computed")
        if version is not None:
            events = events.filter(target_id=str(version.pk))
        return events.order_by("-id").first().details["extended"]

    last = datetime.date.fromisoformat(args.day)
    if last not in DAYS:
        raise SystemExit(f"--day: one of the prepared days, {DAYS[1]} to {DAYS[-1]}")
    # the night before: the batches up to the day before `last` loaded, `last`'s and any later not yet
    later = BatchLoad.objects.filter(business_date__gt=last, source__startswith="bench/")
    later_days = list(later.values_list("business_date", flat=True))
    later.update(status="failed")
    BatchLoad.objects.filter(business_date=last, source__startswith="bench/").update(status="failed")
    for code in ("2026-11", "2026-Q4", "2026"):
        seconds, version = run(code)
        say(f"0. {code} up to {version.counted_through} computed whole: {seconds:.1f} s (the night before)")
    started = time.perf_counter()
    written = write_daily_figures(last)
    daily = time.perf_counter() - started
    BatchLoad.objects.filter(business_date=last, source__startswith="bench/").update(status="loaded")
    say(
        f"1. the load of {last} derives its {written:,} customer-day rows (customers.aum, part of the load's "
        f"AUM step): {daily:.1f} s"
    )
    started = time.perf_counter()
    versions = refresh_after_load([last])  # what the jobs after a load run
    night = time.perf_counter() - started
    for version in versions:
        assert extended(version), version.period.code
        say(f"2. the nightly run of {version.period.code}, extended by {last}: {version.seconds:.1f} s")
    say(
        f"   the night's {len(versions)} periods together: {night:.1f} s (the added day's figures computed "
        "by the first, taken by the others)"
    )
    BatchLoad.objects.filter(business_date__in=later_days, source__startswith="bench/").update(
        status="loaded"
    )
    if args.night:
        return
    full, version = run("2026-11")  # nothing new: computed whole
    assert not extended()
    customers = CustomerResult.objects.filter(version=version).count()
    rows = ManagerResult.objects.filter(version=version).count()
    say(
        f"3. full computation of 2026-11: {full:.1f} s ({version.counted_days} counted days through "
        f"{version.counted_through}; {customers:,} customer rows, {rows:,} manager and pool rows)"
    )
    per_manager, queries = plain_per_manager(args.sample)
    say(
        f"4. baseline, plain ORM per manager: {per_manager * 1000:.0f} ms a manager ({queries} queries for "
        f"{args.sample}), {per_manager * managers:.0f} s for {managers:,} managers"
    )
    grouped, grouped_rows = plain_grouped()
    say(
        f"5. baseline, plain ORM grouped by manager (one aggregation of balances, one of income): "
        f"{grouped:.1f} s for {grouped_rows:,} managers"
    )
    say(f"   the grouped baseline's time over the engine's for the whole month: {grouped / full:.2f}")
    ratio = per_manager * managers / full
    say(
        f"   the baseline's time over the engine's for the whole month: {ratio:.2f} (above 1: the engine is faster)"
    )


if __name__ == "__main__":
    main()

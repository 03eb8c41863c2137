"""Benchmark: counting segments at bench scale on PostgreSQL (one SQL statement per
count, `marketing.selectors.segment_count(...)`), side by side with the
baseline of evaluating the same rules in Python over the rows (fetch the customers,
their open accounts and marketing profiles, test each rule in a loop) on a sample,
extrapolated to the whole table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mkt_bench \\
        .venv/bin/python bench/segments.py [--prepare] [--runs 20] [--sample 50000]

The database must be a copy you may write to (a seeded bench database with the
portal's migrations applied, e.g. `bench/seed_customers.py --db mkt_bench`), never
the shared read-only one. `--prepare` (needed once) sets demo tiers from the
month-average AUM with the default tier thresholds (the VIP evaluation's job; the
seed leaves tiers empty) and times the nightly marketing profile (RFM, AUM history)
for every customer. Each segment is then counted `--runs` times as head office and
as a branch head (p50/p95), its plan's top node is printed, and the Python baseline
runs over `--sample` customers (an id range) and is checked against the SQL count
of the same range. Freezing the largest segment into a target list (the
INSERT ... SELECT of `campaign_start`) is timed in a transaction that is rolled
back.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEGMENTS: list[tuple[str, dict]] = [
    ("whole bank (no rule)", {}),
    (
        "wealth prospects: AUM 500k-5M, no wealth product, age 30-60",
        {
            "aum_min": "500000",
            "aum_max": "5000000",
            "lacks_categories": ["WEALTH"],
            "age_min": 30,
            "age_max": 60,
        },
    ),
    ("Beijing: a time deposit matures within 30 days", {"branches": ["11000"], "maturing_within_days": 30}),
    (
        "rising AUM (+10% on 3 months), recent buyers (R>=4)",
        {
            "trend_direction": "up",
            "trend_months": 3,
            "trend_pct": 10,
            "r_min": 4,
        },
    ),
    (
        "gold or above, birthday within 7 days",
        {
            "tiers": ["core", "growth", "platinum", "gold"],
            "birthday_within_days": 7,
        },
    ),
    (
        "dormant 90 days with AUM >= 50k, women, holds a fund or insurance",
        {
            "dormant_days": 90,
            "aum_min": "50000",
            "gender": "F",
            "holds_categories": ["FUND", "INSURANCE"],
        },
    ),
]
TIERS = [
    ("core", 6_000_000),
    ("growth", 3_000_000),
    ("platinum", 1_000_000),
    ("gold", 500_000),
    ("potential", 300_000),
]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latest_business_date() -> datetime.date:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(business_date) FROM customers_transactionsummary")
        (day,) = cursor.fetchone()
    return day or datetime.date.today()


def prepare() -> None:
    from django.db import connection, transaction

    from marketing.rfm import profile_refresh

    case = " ".join(f"WHEN month_avg_aum >= {threshold} THEN '{code}'" for code, threshold in TIERS)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE customers_customer SET tier = CASE {case} ELSE '' END")
    print(f"demo tiers set from month-average AUM: {time.perf_counter() - started:.1f} s")
    day = latest_business_date()
    started = time.perf_counter()
    rows = profile_refresh(day)
    print(
        f"nightly marketing profile (RFM + AUM history) for {rows:,} customers as of {day}: "
        f"{time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE marketing_marketingprofile")
        cursor.execute("ANALYZE customers_customer")


def time_counts(rules: dict, user, runs: int, today: datetime.date) -> tuple[int, list[float]]:
    from marketing.selectors import segment_count

    timings, count = [], 0
    segment_count(rules, user=user, today=today)  # warm the cache once
    for _ in range(runs):
        started = time.perf_counter()
        count = segment_count(rules, user=user, today=today)
        timings.append((time.perf_counter() - started) * 1000)
    return count, timings


def plan_top(rules: dict, user, today: datetime.date) -> str:
    from django.db import connection

    from marketing.segments import segment_customers

    sql, params = (
        segment_customers(rules, user=user, today=today).order_by().values("pk").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) s", params)
        lines = [row[0] for row in cursor.fetchall()]
    return " | ".join(line.strip() for line in lines[:4])


# --- the baseline: the same rules in Python over fetched rows ------------------------------


def python_count(rules: dict, *, lo: int, hi: int, today: datetime.date) -> int:
    """Fetch what the rules read for customers lo <= id < hi and test each rule in
    Python (what a report built on a loop over rows does)."""
    from accounts.models import Branch, User
    from customers.models import Account, Customer
    from marketing.models import MarketingProfile
    from marketing.segments import birthday_keys, clean_rules, years_before

    rules = clean_rules(rules)
    customers = list(
        Customer.objects.filter(pk__gte=lo, pk__lt=hi, merged_into__isnull=True)
        .exclude(status="C")
        .values_list("pk", "aum", "tier", "birth_date", "gender", "home_branch_id", "primary_manager_id")
    )
    held: dict[int, list[tuple[str, str, datetime.date | None]]] = {}
    for customer_id, category, code, maturity in Account.objects.filter(
        customer_id__gte=lo, customer_id__lt=hi, status="O"
    ).values_list("customer_id", "category", "product_code", "maturity_date"):
        held.setdefault(customer_id, []).append((category, code, maturity))
    profiles = {
        p[0]: p
        for p in MarketingProfile.objects.filter(customer_id__gte=lo, customer_id__lt=hi).values_list(
            "customer_id",
            "last_txn_date",
            "recency_score",
            "frequency_score",
            "monetary_score",
            "rfm_score",
            "aum_now",
            "aum_1m",
            "aum_3m",
            "aum_6m",
            "aum_12m",
        )
    }
    roots = [b.path for b in Branch.objects.filter(code__in=rules.get("branches", []))]
    paths = dict(Branch.objects.values_list("pk", "path"))
    managers = set(
        User.objects.filter(employee_no__in=rules.get("managers", [])).values_list("pk", flat=True)
    )
    birthdays = (
        set(birthday_keys(today, rules["birthday_within_days"])) if "birthday_within_days" in rules else set()
    )
    trend_index = {1: 7, 3: 8, 6: 9, 12: 10}
    count = 0
    for pk, aum, tier, birth, gender, branch_id, manager_id in customers:
        accounts = held.get(pk, [])
        profile = profiles.get(pk)
        if "aum_min" in rules and aum < Decimal(rules["aum_min"]):
            continue
        if "aum_max" in rules and aum > Decimal(rules["aum_max"]):
            continue
        if "tiers" in rules and tier not in rules["tiers"]:
            continue
        if "age_min" in rules and not (birth and birth <= years_before(today, rules["age_min"])):
            continue
        if "age_max" in rules and not (birth and birth > years_before(today, rules["age_max"] + 1)):
            continue
        if "gender" in rules and gender != rules["gender"]:
            continue
        if "branches" in rules and not any(paths[branch_id].startswith(r) for r in roots):
            continue
        if "managers" in rules and manager_id not in managers:
            continue
        if ("holds_categories" in rules or "holds_products" in rules) and not any(
            c in rules.get("holds_categories", []) or p in rules.get("holds_products", [])
            for c, p, _m in accounts
        ):
            continue
        if ("lacks_categories" in rules or "lacks_products" in rules) and any(
            c in rules.get("lacks_categories", []) or p in rules.get("lacks_products", [])
            for c, p, _m in accounts
        ):
            continue
        if "maturing_within_days" in rules:
            until = today + datetime.timedelta(days=rules["maturing_within_days"])
            if not any(m and today <= m <= until for _c, _p, m in accounts):
                continue
        if "birthday_within_days" in rules and not (birth and birth.month * 100 + birth.day in birthdays):
            continue
        if "dormant_days" in rules:
            since = today - datetime.timedelta(days=rules["dormant_days"])
            if profile is None or not (profile[1] is None or profile[1] <= since):
                continue
        if any(
            rule in rules and (profile is None or profile[i] is None or profile[i] < rules[rule])
            for rule, i in (("r_min", 2), ("f_min", 3), ("m_min", 4), ("rfm_min", 5))
        ):
            continue
        if "trend_direction" in rules:
            if profile is None:
                continue
            now, before = profile[6], profile[trend_index[rules["trend_months"]]]
            factor = Decimal(rules.get("trend_pct", 0)) / 100
            if rules["trend_direction"] == "up" and not (now > before and now >= before * (1 + factor)):
                continue
            if rules["trend_direction"] == "down" and not (now < before and now <= before * (1 - factor)):
                continue
        count += 1
    return count


def time_freeze(rules: dict, user, today: datetime.date) -> tuple[int, float]:
    """The target-list freeze of campaign_start for these rules, rolled back."""
    from django.db import connection, transaction

    from accounts.models import User
    from marketing import suitability
    from marketing.models import Campaign
    from marketing.segments import segment_customers
    from marketing.services import TARGET_INSERT_SQL

    members = (
        segment_customers(rules, user=user, today=today)
        .annotate(exclusion=suitability.exclusion_case("R3", on=today, channels=["call", "sms"]))
        .values("id", "primary_manager_id", "home_branch_id", "exclusion")
        .order_by()
    )
    sql, params = members.query.sql_with_params()

    class Rollback(Exception):
        pass

    rows, seconds = 0, 0.0
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                name="bench",
                objective="cross_sell",
                start_date=today,
                end_date=today,
                created_by=User.objects.get(username="demo_bm"),
            )
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(TARGET_INSERT_SQL.format(members=sql), [campaign.pk, "pending", *params])
                rows = cursor.rowcount
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--prepare", action="store_true", help="set demo tiers and build the marketing profile"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--sample", type=int, default=50_000, help="customers in the Python baseline's sample"
    )
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.db.models import Max, Min

    from accounts.models import User
    from customers.models import Customer

    if connection.vendor != "postgresql":
        raise SystemExit("run it on PostgreSQL (DATABASE_URL)")
    if connection.settings_dict["NAME"] == "crm_bench":
        raise SystemExit("crm_bench is shared and read-only: run on your own copy")
    if args.prepare:
        prepare()
    today = latest_business_date()
    total = Customer.objects.count()
    bounds = Customer.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    lo = bounds["lo"] + (bounds["hi"] - bounds["lo"]) // 3
    hi = lo + args.sample
    users = {
        "head office": User.objects.get(username="demo_bm"),
        "branch head": User.objects.get(username="demo_bh"),
    }
    print(f"{total:,} customers; rules evaluated as of {today}; {args.runs} counts per segment and role\n")
    header = f"{'segment':<66} {'role':<12} {'count':>9} {'p50 ms':>8} {'p95 ms':>8}"
    print(header)
    print("-" * len(header))
    results = []
    for name, rules in SEGMENTS:
        for role, user in users.items():
            count, timings = time_counts(rules, user, args.runs, today)
            print(f"{name[:66]:<66} {role:<12} {count:>9,} {pct(timings, 50):>8.0f} {pct(timings, 95):>8.0f}")
            if role == "head office":
                results.append((name, rules, count, pct(timings, 50)))
    print("\nplans (head office):")
    for name, rules, *_ in results:
        print(f"  {name[:60]}: {plan_top(rules, users['head office'], today)[:220]}")

    print(
        f"\nbaseline: the same rules in Python over {args.sample:,} customers (ids {lo}..{hi - 1}), "
        f"extrapolated to {total:,}"
    )
    print(
        f"{'segment':<66} {'sample':>8} {'SQL ok':>7} {'Python s':>9} {'x1M est. s':>11} {'SQL p50 s':>10} {'speed-up':>9}"
    )
    from marketing.segments import segment_customers

    for name, rules, _count, sql_p50 in results:
        started = time.perf_counter()
        found = python_count(rules, lo=lo, hi=hi, today=today)
        seconds = time.perf_counter() - started
        sql_found = (
            segment_customers(rules, user=users["head office"], today=today)
            .filter(pk__gte=lo, pk__lt=hi)
            .count()
        )
        estimate = seconds * total / args.sample
        print(
            f"{name[:66]:<66} {found:>8,} {'yes' if found == sql_found else 'NO':>7} {seconds:>9.2f} "
            f"{estimate:>11.1f} {sql_p50 / 1000:>10.3f} {estimate / (sql_p50 / 1000):>8.0f}x"
        )

    biggest = max(results[1:], key=lambda r: r[2])
    rows, seconds = time_freeze(biggest[1], users["head office"], today)
    print(
        f"\nfreezing '{biggest[0]}' into a target list (INSERT ... SELECT, rolled back): "
        f"{rows:,} rows in {seconds:.2f} s"
    )


if __name__ == "__main__":
    main()

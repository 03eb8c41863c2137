"""Benchmark: counting segments at bench scale on PostgreSQL (one SQL statement per
count, `marketing.selectors.segment_count(...)`, and the preview's first page),
side by side with the fair baseline -- the plain ORM queryset a Django developer
would write for the same rules -- and with evaluating the same rules in Python over
the rows (fetch the customers, their open accounts and marketing profiles, test
each rule in a loop) on a sample, extrapolated to the whole table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mkt_bench \\
        .venv/bin/python bench/segments.py [--prepare] [--runs 20] [--sample 50000]

The database must be a copy you may write to (a seeded bench database with the
portal's migrations applied, e.g. `bench/seed_customers.py --db mkt_bench`), never
the shared read-only one. `--prepare` (needed once) sets demo tiers from the
month-average AUM with the default tier thresholds (the VIP evaluation's job; the
seed leaves tiers empty) and times the nightly marketing profile (RFM, AUM history)
for every customer.

Each segment is then measured `--runs` times (after one warm-up) as head office and
as a branch head, p50/p95, two ways side by side:

* the portal: the count (`segment_count`, the compiled segment statement) and the
  preview's first page (`segment_customers(...)` with branch and manager, the
  largest 10 by AUM, as `segment_preview` reads it);
* the fair baseline (`plain_segment`): the filter chain written straight from the
  rules -- the scope as a branch-path prefix (`home_branch__path__startswith`), a
  branch rule the same way, managers through `primary_manager__employee_no__in`,
  held products and maturities as joins over `accounts` then `.distinct()`, lacked
  products as `exclude(pk__in=<accounts subquery>)`, birthdays as OR-ed
  `birth_date__month`/`__day` pairs, the profile rules through `marketing_profile__`
  -- counted with `.count()` and paged the same way. Both counts run without JIT
  (the portal's count sets it off; the baseline gets the same setting).

The count and the first page of the two must agree (printed "same"). The headline
ratio is the portal's p50 against the plain queryset's. The top of each plan is
printed for both. The Python baseline then runs over `--sample` customers (an id
range) and is checked against the SQL count of the same range. Freezing the largest
segment into a target list (the INSERT ... SELECT of `campaign_start`) is timed in
a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
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


def versus(ours: float, theirs: float) -> str:
    """How our time compares with a baseline's: "3.1x faster" or "1.4x slower"."""
    if ours <= 0 or theirs <= 0:
        return "-"
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


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


def time_calls(call, runs: int) -> tuple[object, list[float]]:
    """`call()` once to warm the cache, then `runs` times: its result and the times (ms)."""
    result = call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - started) * 1000)
    return result, timings


def portal_count(rules: dict, user, today: datetime.date) -> int:
    from marketing.selectors import segment_count

    return segment_count(rules, user=user, today=today)


def portal_page(rules: dict, user, today: datetime.date) -> list[tuple]:
    """The preview's first page (`segment_preview`'s sample), as of `today`."""
    from marketing.segments import segment_customers
    from marketing.selectors import SAMPLE_SIZE

    customers = segment_customers(rules, user=user, today=today)
    page = customers.select_related("home_branch", "primary_manager").order_by("-aum", "-id")[:SAMPLE_SIZE]
    return [(c.pk, c.home_branch.name, c.primary_manager_id and c.primary_manager.username) for c in page]


# --- the fair baseline: the plain ORM queryset for the same rules --------------------------


def plain_segment(rules: dict, *, user, today: datetime.date):
    """The segment as a Django developer would write it without the portal's
    segment compiler: one filter per rule, joins over the related rows."""
    from django.db.models import F, Q

    from accounts.models import Branch
    from accounts.scope import ScopeKind, data_scope
    from customers.models import Account, Customer
    from marketing.segments import TREND_FIELD, birthday_keys, clean_rules, years_before

    rules = clean_rules(rules)
    qs = Customer.objects.filter(merged_into__isnull=True).exclude(status="C")
    scope = data_scope(user)
    if scope.kind is ScopeKind.SUBTREE:
        qs = qs.filter(home_branch__path__startswith=scope.branch.path)
    elif scope.kind is not ScopeKind.ALL:
        qs = qs & Customer.objects.visible_to(user)  # a manager's book and shares, as the portal has it
    if "aum_min" in rules:
        qs = qs.filter(aum__gte=Decimal(rules["aum_min"]))
    if "aum_max" in rules:
        qs = qs.filter(aum__lte=Decimal(rules["aum_max"]))
    if "tiers" in rules:
        qs = qs.filter(tier__in=rules["tiers"])
    if "age_min" in rules:
        qs = qs.filter(birth_date__lte=years_before(today, rules["age_min"]))
    if "age_max" in rules:
        qs = qs.filter(birth_date__gt=years_before(today, rules["age_max"] + 1))
    if "gender" in rules:
        qs = qs.filter(gender=rules["gender"])
    if "branches" in rules:
        within = Q(pk__in=[])
        for path in Branch.objects.filter(code__in=rules["branches"]).values_list("path", flat=True):
            within |= Q(home_branch__path__startswith=path)
        qs = qs.filter(within)
    if "managers" in rules:
        qs = qs.filter(primary_manager__employee_no__in=rules["managers"])
    joined = False
    if "holds_categories" in rules or "holds_products" in rules:
        qs = qs.filter(
            Q(accounts__category__in=rules.get("holds_categories", []))
            | Q(accounts__product_code__in=rules.get("holds_products", [])),
            accounts__status="O",
        )
        joined = True
    if "lacks_categories" in rules or "lacks_products" in rules:
        lacking = Account.objects.filter(status="O").filter(
            Q(category__in=rules.get("lacks_categories", []))
            | Q(product_code__in=rules.get("lacks_products", []))
        )
        qs = qs.exclude(pk__in=lacking.values("customer_id"))
    if "maturing_within_days" in rules:
        until = today + datetime.timedelta(days=rules["maturing_within_days"])
        qs = qs.filter(accounts__status="O", accounts__maturity_date__range=(today, until))
        joined = True
    if "birthday_within_days" in rules:
        born = Q(pk__in=[])
        for key in birthday_keys(today, rules["birthday_within_days"]):
            born |= Q(birth_date__month=key // 100, birth_date__day=key % 100)
        qs = qs.filter(born)
    if "dormant_days" in rules:
        since = today - datetime.timedelta(days=rules["dormant_days"])
        qs = qs.filter(marketing_profile__isnull=False).filter(
            Q(marketing_profile__last_txn_date__isnull=True) | Q(marketing_profile__last_txn_date__lte=since)
        )
    for rule, field in (
        ("r_min", "recency_score"),
        ("f_min", "frequency_score"),
        ("m_min", "monetary_score"),
        ("rfm_min", "rfm_score"),
    ):
        if rule in rules:
            qs = qs.filter(**{f"marketing_profile__{field}__gte": rules[rule]})
    if rules.get("trend_direction") in ("up", "down"):
        before = F(f"marketing_profile__{TREND_FIELD[rules['trend_months']]}")
        factor = Decimal(rules.get("trend_pct", 0)) / 100
        if rules["trend_direction"] == "up":
            qs = qs.filter(marketing_profile__aum_now__gt=before).filter(
                marketing_profile__aum_now__gte=before * (1 + factor)
            )
        else:
            qs = qs.filter(marketing_profile__aum_now__lt=before).filter(
                marketing_profile__aum_now__lte=before * (1 - factor)
            )
    return qs.distinct() if joined else qs


def plain_count(rules: dict, user, today: datetime.date) -> int:
    from core.db import read_with

    with read_with(jit="off"):  # the setting the portal's count runs with
        return plain_segment(rules, user=user, today=today).count()


def plain_page(rules: dict, user, today: datetime.date) -> list[tuple]:
    from marketing.selectors import SAMPLE_SIZE

    customers = plain_segment(rules, user=user, today=today)
    page = customers.select_related("home_branch", "primary_manager").order_by("-aum", "-id")[:SAMPLE_SIZE]
    return [(c.pk, c.home_branch.name, c.primary_manager_id and c.primary_manager.username) for c in page]


def plan_top(queryset) -> str:
    from django.db import connection

    sql, params = queryset.order_by().values("pk").query.sql_with_params()
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
    print(
        f"{total:,} customers; rules evaluated as of {today}; {args.runs} runs per segment, role and way "
        "(after one warm-up)\n"
    )
    print(
        "count: the portal's compiled segment statement (segment_count) against the plain ORM queryset "
        "(plain_segment(...).count())"
    )
    header = (
        f"{'segment':<66} {'role':<12} {'count':>9} {'portal p50':>10} {'p95':>6} {'plain p50':>10} {'p95':>6} "
        f"{'portal vs plain':>16} {'same':>5}"
    )
    print(header)
    print("-" * len(header))
    results, ratios = [], {"count": [], "page": []}
    pages = []
    for name, rules in SEGMENTS:
        for role, user in users.items():
            count, timings = time_calls(lambda r=rules, u=user: portal_count(r, u, today), args.runs)
            plain, plain_timings = time_calls(lambda r=rules, u=user: plain_count(r, u, today), args.runs)
            p50, plain_p50 = pct(timings, 50), pct(plain_timings, 50)
            ratios["count"].append(plain_p50 / p50)
            print(
                f"{name[:66]:<66} {role:<12} {count:>9,} {p50:>10.1f} {pct(timings, 95):>6.1f} "
                f"{plain_p50:>10.1f} {pct(plain_timings, 95):>6.1f} {versus(p50, plain_p50):>16} "
                f"{'yes' if count == plain else 'NO':>5}"
            )
            if role == "head office":
                results.append((name, rules, count, p50))
            page, page_timings = time_calls(lambda r=rules, u=user: portal_page(r, u, today), args.runs)
            plain_rows, plain_page_timings = time_calls(
                lambda r=rules, u=user: plain_page(r, u, today), args.runs
            )
            pages.append((name, role, page, page_timings, plain_rows, plain_page_timings))

    print(
        "\nfirst page: the 10 largest by AUM with branch and manager (segment_preview's sample) against "
        "the plain queryset's same page"
    )
    header = (
        f"{'segment':<66} {'role':<12} {'rows':>9} {'portal p50':>10} {'p95':>6} {'plain p50':>10} {'p95':>6} "
        f"{'portal vs plain':>16} {'same':>5}"
    )
    print(header)
    print("-" * len(header))
    for name, role, page, timings, plain_rows, plain_timings in pages:
        p50, plain_p50 = pct(timings, 50), pct(plain_timings, 50)
        ratios["page"].append(plain_p50 / p50)
        print(
            f"{name[:66]:<66} {role:<12} {len(page):>9,} {p50:>10.1f} {pct(timings, 95):>6.1f} "
            f"{plain_p50:>10.1f} {pct(plain_timings, 95):>6.1f} {versus(p50, plain_p50):>16} "
            f"{'yes' if page == plain_rows else 'NO':>5}"
        )
    for what, values in ratios.items():
        mean = statistics.geometric_mean(values)
        print(
            f"\n{what}: the portal against the plain ORM queryset, geometric mean of the p50 ratios over "
            f"{len(values)} segment x role: {versus(1.0, mean)} (plain p50 / portal p50 from {min(values):.2f} "
            f"to {max(values):.2f})"
        )

    from marketing.segments import segment_customers

    print("\nplans (head office), portal / plain queryset:")
    for name, rules, *_ in results:
        portal = segment_customers(rules, user=users["head office"], today=today)
        plain = plain_segment(rules, user=users["head office"], today=today)
        print(f"  {name[:60]}:\n    portal: {plan_top(portal)[:220]}\n    plain:  {plan_top(plain)[:220]}")

    print(
        f"\nthe same rules in Python over fetched rows, {args.sample:,} customers (ids {lo}..{hi - 1}), "
        f"extrapolated to {total:,}"
    )
    print(
        f"{'segment':<66} {'sample':>8} {'SQL ok':>7} {'Python s':>9} {'all est. s':>11} {'SQL p50 s':>10} {'speed-up':>9}"
    )
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

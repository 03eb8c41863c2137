"""Benchmark: every search kind at bench scale, per role, against the fair
alternative (the plain Django search on trigram and pattern indexes), side by side
in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/search.py [--samples 200] [--baseline-samples 50]

On a database seeded with demo customers (bench/seed_customers.py), for a client
manager (demo_cm1), a branch head (demo_bh) and head office (demo_bm): picks
`samples` customers in the role's scope and, for each search kind, times the whole
server-side search the list page runs (`CustomerSearch` + `keyset_page`: first page
of 25 and the capped count) and counts its queries. Then, inside a transaction that
is rolled back, drops the portal's search structures (the name token vector, the
pinyin and initials indexes, the AUM-ordered composites; the identifiers' exact
lookups stay), builds what a Django developer would reach for instead (pg_trgm's
GIN index on the name for `icontains`, `varchar_pattern_ops` indexes for a pinyin
prefix, an index on AUM) and times that plain queryset (`run_plain`) on the first
`baseline-samples` queries of each kind. Prints p50/p95 ms per kind and role for
both and, with `--plans`, EXPLAIN ANALYZE of each statement a first page runs. It
prints the server's memory settings first: the figures assume the customer table
and its search indexes fit in shared_buffers (at a million customers about 2.3 GB;
PostgreSQL's default of 128 MB makes every table visit a read from the operating
system's cache). `--kinds "name, 2 chars;full pinyin"` runs some kinds only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The portal's own search structures, dropped for the baseline; exact lookups (the
# identifiers' hashes and suffixes) stay: any design has them.
SEARCH_STRUCTURES = [
    "customer_search_vector",
    "customer_extra_tokens",
    "customer_initials",
    "customer_pinyin",
    "customer_manager_aum",
    "customer_aum_desc",
    "customer_branch_aum",
]
PLAIN_INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX bench_name_trgm ON customers_customer USING gin (name gin_trgm_ops)",
    "CREATE INDEX bench_pinyin_pattern ON customers_customer (name_pinyin varchar_pattern_ops)",
    "CREATE INDEX bench_initials_pattern ON customers_customer (name_initials varchar_pattern_ops)",
    "CREATE INDEX bench_aum ON customers_customer (aum)",
]
ROLES = [("client manager", "demo_cm1"), ("branch head", "demo_bh"), ("head office", "demo_bm")]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def sample_targets(user, n: int, rng: random.Random):
    """`n` customers in the user's scope that hold an account (random ids, index lookups)."""
    from django.db.models import Max, Min

    from customers.models import Account, Customer

    scope = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    found = {}
    for _ in range(200):
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(4 * n)]
        for c in scope.filter(pk__in=ids):
            found.setdefault(c.pk, c)
        if len(found) >= n:
            break
    targets = list(found.values())[:n]
    accounts = dict(
        Account.objects.filter(customer__in=targets)
        .order_by("customer_id", "id")
        .values_list("customer_id", "account_no")
    )
    return targets, accounts


def queries_for(target, account_no: str | None, rng: random.Random) -> dict[str, tuple[str, dict]]:
    from decimal import Decimal

    name = target.name
    two = name[rng.randrange(max(1, len(name) - 1)) :][:2]
    kinds = {
        "customer no.": (target.customer_no, {}),
        "ID number": (target.id_number, {}),
        "ID last 6": (target.id_number[-6:], {}),
        "mobile": (target.mobile, {}),
        "mobile last 4": (target.mobile[-4:], {}),
        "name, 2 chars": (two, {}),
        "pinyin initials": (target.name_initials, {}),
        "full pinyin": (target.name_pinyin, {}),
        "name + filters": (
            name[:1],
            {
                "aum_min": Decimal(target.aum) * Decimal("0.5"),
                "aum_max": Decimal(target.aum) * Decimal("2") + 1,
                "status": target.status,
                "age_min": 18,
                "age_max": 90,
            },
        ),
    }
    if len(name) >= 3:
        kinds["name, 3 chars"] = (name[:3], {})
    if account_no:
        kinds["account no."] = (account_no, {})
    return kinds


def run_one(user, q: str, filters: dict) -> tuple[float, int, int]:
    """The portal's search: `CustomerSearch` + `keyset_page` (first page of 25 and the
    capped count)."""
    from customers.search import CustomerSearch, SearchFilters, keyset_page

    return timed(lambda: keyset_page(CustomerSearch(user=user, q=q, filters=SearchFilters(**filters))).rows)


def run_plain(user, q: str, filters: dict) -> tuple[float, int, int]:
    """The fair alternative: the search a Django developer would write on PostgreSQL
    with pg_trgm: `name__icontains` (a trigram GIN index), a pinyin prefix on the
    pinyin or initials column (`varchar_pattern_ops` indexes), identifiers by the
    same exact index lookups as the portal, the user's scope and the filters, ordered
    by AUM (an index on it); the first 25 rows and the count capped the same way."""
    from django.db.models import Q

    from customers.models import Customer
    from customers.search import COUNT_CAP, SearchFilters, classify_query, text_condition

    def page():
        kind = classify_query(q)
        found = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
        if kind == "name":
            found = found.filter(name__icontains=q)
        elif kind == "pinyin":
            found = found.filter(
                Q(name_pinyin__startswith=q.lower()) | Q(name_initials__startswith=q.lower())
            )
        else:
            found = found.filter(text_condition(q))
        found = found.filter(SearchFilters(**filters).condition())
        found = found.select_related("home_branch", "primary_manager").order_by("-aum", "-id")
        rows = list(found[:25])
        found.order_by()[: COUNT_CAP + 1].count()
        return rows

    return timed(page)


def timed(page) -> tuple[float, int, int]:
    """(ms, SELECTs, rows) of one search page; SET / RESET of planner settings are
    bookkeeping, a plan asked for is a round trip like a read."""
    from django.db import connection

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        start = time.perf_counter()
        rows = page()
        elapsed = (time.perf_counter() - start) * 1000
    searches = [s for s in executed if s.lstrip().upper().startswith(("SELECT", "EXPLAIN"))]
    return elapsed, len(searches), len(rows)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--baseline-samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--kinds", default="", help="kinds to run, separated by semicolons (default: all)")
    parser.add_argument("--json", help="also write the figures printed to this file (JSON)")
    args = parser.parse_args()
    setup()
    from django.db import connection, transaction

    from accounts.models import User
    from customers.models import Customer

    if connection.vendor != "postgresql":
        raise SystemExit("run it on PostgreSQL (DATABASE_URL)")
    total = Customer.objects.count()
    print(f"customers: {total:,}")
    print(server_settings())
    rng = random.Random(args.seed)
    plan: dict[str, dict[str, list[tuple[str, dict]]]] = {}
    users = {}
    for role, username in ROLES:
        user = User.objects.get(username=username)
        users[role] = user
        targets, accounts = sample_targets(user, args.samples, rng)
        per_kind: dict[str, list[tuple[str, dict]]] = {}
        for target in targets:
            for kind, query in queries_for(target, accounts.get(target.pk), rng).items():
                if not args.kinds or kind in args.kinds.split(";"):
                    per_kind.setdefault(kind, []).append(query)
        plan[role] = per_kind
        print(f"{role}: {len(targets)} sample customers in scope ({username})")

    def measure(limit: int | None, run=run_one) -> dict[tuple[str, str], tuple[list[float], int, int]]:
        out = {}
        for role, per_kind in plan.items():
            user = users[role]
            for kind, queries in per_kind.items():
                times, nq, found = [], 0, 0
                for q, filters in queries[:limit]:
                    elapsed, nq, rows = run(user, q, filters)
                    times.append(elapsed)
                    found += bool(rows)
                out[(role, kind)] = (times, nq, found)
                print(f"  {role:<15} {kind:<16} p95 {pct(times, 95):8.2f} ms", flush=True)
        return out

    # warm the cache the same way for both runs
    measure(5)
    print("with the search indexes:", flush=True)
    fast = measure(None)
    print("baseline: the plain Django search with trigram and pattern indexes:", flush=True)
    with transaction.atomic():
        with connection.cursor() as cursor:
            for index in SEARCH_STRUCTURES:
                cursor.execute(f"DROP INDEX IF EXISTS {index}")
            started = time.perf_counter()
            for statement in PLAIN_INDEXES:
                cursor.execute(statement)
            cursor.execute("ANALYZE customers_customer")
            print(f"  (its indexes built in {time.perf_counter() - started:.0f} s)", flush=True)
        measure(5, run_plain)
        slow = measure(args.baseline_samples, run_plain)
        transaction.set_rollback(True)

    kinds = sorted({k for _r, k in fast})
    print()
    print(
        f"{'role':<15} {'kind':<16} {'n':>4} {'found':>5} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}"
        f" | {'baseline n':>10} {'p50 ms':>9} {'p95 ms':>9}"
    )
    for role, _u in ROLES:
        for kind in kinds:
            if (role, kind) not in fast:
                continue
            times, nq, found = fast[(role, kind)]
            base, _bq, _bf = slow.get((role, kind), ([], 0, 0))
            print(
                f"{role:<15} {kind:<16} {len(times):>4} {found:>5} {nq:>7} {pct(times, 50):>8.2f} "
                f"{pct(times, 95):>8.2f} | {len(base):>10} {pct(base, 50):>9.1f} {pct(base, 95):>9.1f}"
            )
    worst = max(pct(t, 95) for t, _n, _f in fast.values())
    print(f"\nworst p95 with the search indexes: {worst:.2f} ms")
    if args.json:
        write_json(args.json, total, args, fast, slow, worst)

    if args.plans:
        print("\nPlans (the statements a first page runs, the first query of each kind and role):")
        for role, _username in ROLES:
            for kind in kinds:
                q, filters = plan[role][kind][0]
                print(f"\n--- {role}, {kind}: {q!r} {filters or ''}")
                for line in explain_page(users[role], q, filters):
                    print(line)


def write_json(path: str, total: int, args, fast: dict, slow: dict, worst: float) -> None:
    """The printed figures as JSON, with each search's time (ms) to pool them."""

    def figures(times: list[float]) -> dict:
        return {
            "n": len(times),
            "p50": pct(times, 50) if times else None,
            "p95": pct(times, 95) if times else None,
            "times": times,
        }

    results = []
    for (role, kind), (times, nq, found) in fast.items():
        base = slow.get((role, kind), ([], 0, 0))[0]
        results.append(
            {
                "role": role,
                "kind": kind,
                "found": found,
                "queries": nq,
                **figures(times),
                "baseline": figures(base),
            }
        )
    out = {
        "customers": total,
        "samples": args.samples,
        "baseline_samples": args.baseline_samples,
        "seed": args.seed,
        "results": results,
        "worst_p95": worst,
    }
    Path(path).write_text(json.dumps(out, indent=1), encoding="utf-8")


def explain_page(user, q: str, filters: dict) -> list[str]:
    """EXPLAIN ANALYZE of each SELECT the first page of a search runs, under the
    planner settings it runs with."""
    from django.db import connection

    from core.db import read_with
    from customers.search import MATCH_SETTINGS, CustomerSearch, SearchFilters, keyset_page

    statements = []

    def record(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        keyset_page(CustomerSearch(user=user, q=q, filters=SearchFilters(**filters)))
    lines = []
    with read_with(**MATCH_SETTINGS), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines += [row[0] for row in cursor.fetchall()] + [""]
    return lines


def server_settings() -> str:
    from django.db import connection

    names = ["server_version", "shared_buffers", "effective_cache_size", "work_mem", "random_page_cost"]
    with connection.cursor() as cursor:
        values = []
        for name in names:
            cursor.execute(f"SHOW {name}")
            values.append(f"{name}={cursor.fetchone()[0]}")
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size('customers_customer')),"
            " pg_size_pretty(pg_indexes_size('customers_customer'))"
        )
        table, indexes = cursor.fetchone()
    return f"PostgreSQL {', '.join(values)}; customer table {table}, its indexes {indexes}"


if __name__ == "__main__":
    main()

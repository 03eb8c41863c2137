"""Benchmark: seeding demo customers on PostgreSQL, COPY path against the plain ORM.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_dev \\
        .venv/bin/python bench/seed_customers.py --customers 1000000 --db crm_bench

DATABASE_URL names the server (its database is not touched). The script

1. baseline, side by side: in a scratch database (``<db>_baseline``, fresh, migrated,
   dropped at the end) seeds a sample (``--sample``, default 100,000) of the same
   customers twice from an empty table, first with the plain ORM path
   (``bulk_create(batch_size=5000)``), then with the COPY path;
2. creates ``--db`` fresh (it must start with ``crm_bench`` unless ``--force``),
   migrates it and seeds it with the generator ``manage.py seed_demo --customers N``
   uses (demo organisation and users, then ``demo.seeding.seed_customers``, here with
   the business date written set-based too rather than loaded from a batch), and
   leaves it in place;
3. prints wall time, rows/s per table, and row counts and sizes
   (``pg_total_relation_size``) of the customer tables.

Each phase runs in its own process (``--phase``) with DATABASE_URL pointing at its
database and ``DJANGO_SETTINGS_MODULE=crm_portal.settings.local``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULT = "BENCH-RESULT "


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def recreate(url: str, name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(url, f"CREATE DATABASE {name}")


def run_phase(url: str, database: str, *args: str) -> dict:
    """Run one phase in a child process; stream its output; return its result."""
    env = {
        **os.environ,
        "DATABASE_URL": with_database(url, database),
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
        "DEBUG": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print("    " + line.rstrip(), flush=True)
    if proc.wait() != 0 or result is None:
        raise SystemExit(f"phase {args} failed on {database}")
    return result


# --- inside a phase (Django set up) --------------------------------------------------


def phase_seed(customers: int, method: str) -> dict:
    import resource

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from demo.seeding import SeedStats, seed_customers

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    # The generator of `manage.py seed_demo --customers N`: the demo organisation and
    # users, then seed_customers (called here directly to collect the per-table figures).
    call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    stats = SeedStats()
    seed_customers(count=customers, stdout=sys.stdout, method=method, stats=stats)
    return {
        "method": method,
        "customers": stats.created,
        "wall": stats.wall_seconds,
        "generate": stats.generate_seconds,
        "migrate": migrate_seconds,
        "tables": stats.tables,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def phase_sizes() -> dict:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname LIKE %s
                ORDER BY 2 DESC""",
            ["customers\\_%"],
        )
        tables = cursor.fetchall()
        sizes = {}
        for name, total, heap in tables:
            cursor.execute(f'SELECT count(*) FROM "{name}"')
            sizes[name] = {"rows": cursor.fetchone()[0], "total": total, "heap": heap}
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
    return {"tables": sizes, "database": database}


# --- the report ---------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f}" if seconds else f"{'-':>10}"


def report_methods(orm: dict, copy: dict) -> None:
    print(f"\n== The same {orm['customers']:,} customers, empty tables: ORM bulk_create vs COPY")
    print(f"{'table':38} {'rows':>10} {'ORM rows/s':>11} {'COPY rows/s':>11} {'x':>6}")
    for table in sorted(copy["tables"], key=lambda t: -copy["tables"][t][0]):
        rows, copy_s = copy["tables"][table]
        orm_rows, orm_s = orm["tables"].get(table, (0, 0))
        ratio = f"{(rows / copy_s) / (orm_rows / orm_s):5.1f}x" if orm_rows and orm_s and copy_s else ""
        print(f"{table:38} {int(rows):>10,} {rate(orm_rows, orm_s):>11} {rate(rows, copy_s):>11} {ratio:>6}")
    for label, r in (("ORM", orm), ("COPY", copy)):
        rows = sum(v[0] for v in r["tables"].values())
        print(
            f"{label:5} total: {r['wall']:7.1f} s wall, {int(rows):,} rows, {rows / r['wall']:,.0f} rows/s, "
            f"{r['customers'] / r['wall']:,.0f} customers/s, peak RSS {r['max_rss_mb']:,.0f} MB"
        )


def report_full(result: dict, sizes: dict, database: str) -> None:
    print(f"\n== {database}: {result['customers']:,} customers seeded with COPY")
    rows_total = sum(v[0] for v in result["tables"].values())
    print(
        f"wall {result['wall']:.1f} s ({result['wall'] / 60:.1f} min) for {int(rows_total):,} rows: "
        f"{rows_total / result['wall']:,.0f} rows/s, {result['customers'] / result['wall']:,.0f} customers/s; "
        f"generation in Python {result['generate']:.1f} s (overlapped with writing); "
        f"peak RSS {result['max_rss_mb']:,.0f} MB; migrate {result['migrate']:.1f} s"
    )
    print(
        f"{'table':38} {'written':>11} {'seconds':>8} {'rows/s':>10} {'rows now':>12} {'total size':>11} {'heap':>10}"
    )
    names = sorted(
        set(result["tables"]) | set(sizes["tables"]),
        key=lambda t: -sizes["tables"].get(t, {}).get("total", 0),
    )
    for table in names:
        rows, seconds = result["tables"].get(table, (0, 0))
        s = sizes["tables"].get(table, {})
        print(
            f"{table:38} {int(rows):>11,} {seconds:8.1f} {rate(rows, seconds)} {s.get('rows', 0):>12,} "
            f"{mb(s.get('total', 0)):>11} {mb(s.get('heap', 0)):>10}"
        )
    print(f"database size: {mb(sizes['database'])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", default="crm_bench")
    parser.add_argument("--sample", type=int, default=100_000, help="customers of the side-by-side baseline")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--force", action="store_true", help="allow a database name not starting crm_bench")
    parser.add_argument("--phase", choices=["seed", "sizes"], help=argparse.SUPPRESS)
    parser.add_argument("--method", default="copy", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "seed":
        print(RESULT + json.dumps(phase_seed(args.customers, args.method)), flush=True)
        return
    if args.phase == "sizes":
        print(RESULT + json.dumps(phase_sizes()), flush=True)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://user@host:port/anydb)")
    if not args.db.startswith("crm_bench") and not args.force:
        raise SystemExit(f"refusing to recreate {args.db!r}: use a name starting with crm_bench, or --force")

    started = time.perf_counter()
    if not args.skip_baseline:
        scratch = f"{args.db}_baseline"
        print(f"== Baseline: {args.sample:,} customers, ORM bulk_create(batch_size=5000), in {scratch}")
        recreate(url, scratch)
        orm = run_phase(url, scratch, "--phase", "seed", "--customers", str(args.sample), "--method", "orm")
        print(f"== The same {args.sample:,} customers with COPY, in {scratch} (recreated)")
        recreate(url, scratch)
        copy = run_phase(url, scratch, "--phase", "seed", "--customers", str(args.sample), "--method", "copy")
        admin(url, f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")

    print(f"== {args.customers:,} customers with COPY into {args.db} (fresh)")
    recreate(url, args.db)
    full = run_phase(url, args.db, "--phase", "seed", "--customers", str(args.customers), "--method", "copy")
    sizes = run_phase(url, args.db, "--phase", "sizes")

    if not args.skip_baseline:
        report_methods(orm, copy)
    report_full(full, sizes, args.db)
    print(f"\nwhole benchmark: {(time.perf_counter() - started) / 60:.1f} min; {args.db} is left in place.")


if __name__ == "__main__":
    main()

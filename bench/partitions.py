"""Benchmark: the daily history partitioned by month (customers/partitions.py) on
PostgreSQL, against the same rows in a plain table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/partitions.py --customers 200000 --months 3 --db partitions_bench

DATABASE_URL names the server (its database is not touched). `--db` (default
partitions_bench) is created fresh and migrated (the history tables partitioned by
migration customers 0021), the month partitions are made by `manage.py
history_partitions --ensure`, then `--months` whole months of business days
(weekdays) ending with last month are written set-based (INSERT ... SELECT
generate_series, the keys and indexes dropped and built again after, as a first
load does): a daily AUM row per customer (`--customers`) and a balance per account
(`--accounts` per customer) per day. No customer or account rows are needed: the
history tables have no foreign-key constraints. A plain copy of the daily AUM
(`bench_plain_dailyaum`, the same columns, primary key and indexes) is made from it
in the same run. Both are vacuumed and analysed before anything is timed.

It prints
1. the plan lines naming relations (and the pruning) of: one business date's daily
   AUM, one customer's last 90 days, one month aggregated per customer; each with
   the dates written in the query (pruned when planned) and as a parameter of a
   generic plan (pruned when run: "Subplans Removed");
2. one date's query (count and sum of that date's AUM; and one customer's 90 days),
   p50 and p95 over 20 runs (20 dates, alternating the tables), partitioned vs plain;
3. retiring the oldest month: DETACH + DROP of its partition against the DELETE of
   the same rows from the plain copy (and the VACUUM that then reclaims them).

The database is left in place. About 5 minutes at the default size on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import admin, plain, with_database  # noqa: E402
from core.months import month_back  # noqa: E402

AUM = "customers_customerdailyaum"
BALANCE = "customers_accountbalance"
PLAIN = "bench_plain_dailyaum"
RUNS = 20


def manage(url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
        "DEBUG": "False",
        "DATABASE_URL": url,
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def timed(conn, sql: str, params=()) -> float:
    started = time.perf_counter()
    conn.execute(sql, params)
    return time.perf_counter() - started


def keys_and_indexes(conn, table: str) -> tuple[list[tuple[str, str]], list[str]]:
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype IN ('p', 'u')",
        [table],
    ).fetchall()
    indexes = conn.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table],
    ).fetchall()
    return constraints, [d.replace(" ON ONLY ", " ON ", 1) for (d,) in indexes]


def fill(conn, table: str, insert: str, params) -> tuple[int, float]:
    """Rows written with the table's keys and indexes dropped, then built again."""
    constraints, indexes = keys_and_indexes(conn, table)
    for name, _definition in constraints:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for definition in indexes:
        conn.execute("DROP INDEX " + definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0])
    started = time.perf_counter()
    rows = conn.execute(insert, params).rowcount
    conn.execute("SET maintenance_work_mem = '512MB'")
    for name, definition in constraints:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for definition in indexes:
        conn.execute(definition)
    return rows, time.perf_counter() - started


def plan_lines(conn, sql: str, params=()) -> list[str]:
    import psycopg

    # values bound in the client: an EXPLAIN EXECUTE takes no server-side parameter
    rows = psycopg.ClientCursor(conn).execute("EXPLAIN " + sql, params).fetchall()
    keep = (" on ", "Subplans Removed", "Append")
    return [line for (line,) in rows if any(k in line for k in keep)]


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--accounts", type=float, default=2.0, help="accounts per customer (balances)")
    parser.add_argument("--db", default="partitions_bench")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        raise SystemExit("DATABASE_URL must name the PostgreSQL server")
    import psycopg

    db = plain(args.db)
    url = with_database(server, db)
    this_month = datetime.date.today().replace(day=1)
    first, end = month_back(this_month, args.months), this_month
    accounts = max(1, round(args.customers * args.accounts))
    print(
        f"partitions bench: {args.customers:,} customers, {accounts:,} accounts, business days (weekdays) "
        f"{first} to {end - datetime.timedelta(days=1)}, database {db}",
        flush=True,
    )

    started = time.perf_counter()
    admin(server, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    admin(server, f"CREATE DATABASE {db}")
    manage(url, "migrate", "--verbosity", "0")
    for k in range(args.months):
        manage(url, "history_partitions", "--ensure", month_back(first, -k).isoformat())
    print(f"  database migrated, partitions made: {time.perf_counter() - started:.0f} s", flush=True)

    days = "SELECT d::date AS d FROM generate_series(%s::date, %s::date - 1, '1 day') d WHERE extract(isodow FROM d) < 6"
    with psycopg.connect(url, autocommit=True) as conn:
        rows, seconds = fill(
            conn,
            AUM,
            f"INSERT INTO {AUM} (business_date, customer_id, aum, liabilities, dep_cur, dep_time)"
            f" SELECT days.d, c, (c %% 997) * 1000 + extract(doy FROM days.d) * 3, (c %% 13) * 500,"
            f" (c %% 997) * 400, (c %% 997) * 600 FROM ({days}) days, generate_series(1, %s) c",
            [first, end, args.customers],
        )
        print(f"  {AUM}: {rows:,} rows written, keys and indexes built in {seconds:.0f} s", flush=True)
        balances, seconds = fill(
            conn,
            BALANCE,
            f"INSERT INTO {BALANCE} (business_date, account_id, balance, cny_balance)"
            f" SELECT days.d, a, (a %% 991) * 700, (a %% 991) * 700 FROM ({days}) days, generate_series(1, %s) a",
            [first, end, accounts],
        )
        print(
            f"  {BALANCE}: {balances:,} rows written, keys and indexes built in {seconds:.0f} s", flush=True
        )
        began = time.perf_counter()
        conn.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        conn.execute(f"CREATE TABLE {PLAIN} (LIKE {AUM} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        conn.execute(f"INSERT INTO {PLAIN} SELECT * FROM {AUM} ORDER BY business_date, customer_id")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(f"ALTER TABLE {PLAIN} ADD PRIMARY KEY (business_date, customer_id)")
        conn.execute(f"CREATE INDEX {PLAIN}_customer ON {PLAIN} (customer_id)")
        conn.execute(f"CREATE INDEX {PLAIN}_customer_date ON {PLAIN} (customer_id, business_date)")
        print(
            f"  {PLAIN}: the plain copy with the same keys in {time.perf_counter() - began:.0f} s", flush=True
        )
        began = time.perf_counter()
        conn.execute(f"VACUUM (ANALYZE) {AUM}, {BALANCE}, {PLAIN}")
        print(f"  VACUUM ANALYZE (untimed below): {time.perf_counter() - began:.0f} s", flush=True)
        dates = [d for (d,) in conn.execute(days, [first, end]).fetchall()]
        partitions = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [AUM]
        ).fetchone()[0]

        day = dates[len(dates) // 2]
        last = dates[-1]
        ninety = datetime.timedelta(days=90)
        month = day.replace(day=1)
        customer = args.customers // 3
        queries = [
            (
                "one business date's daily AUM",
                "SELECT count(*), sum(aum) FROM {t} WHERE business_date = {p1}",
                [day],
            ),
            (
                "one customer's last 90 days",
                "SELECT business_date, aum FROM {t} WHERE customer_id = {p1} AND business_date > {p2}"
                " AND business_date <= {p3} ORDER BY business_date",
                [customer, last - ninety, last],
            ),
            (
                "one month aggregated per customer",
                "SELECT customer_id, avg(aum), max(aum) FROM {t} WHERE business_date >= {p1}"
                " AND business_date < {p2} GROUP BY customer_id",
                [month, month_back(month, -1)],
            ),
        ]
        print(f"\n== 1. plans ({AUM}: {partitions} partitions, the default one included)")
        for title, sql, params in queries:
            literal = sql.format(t=AUM, p1="%s", p2="%s", p3="%s")
            shown = tuple(f"'{p}'" if isinstance(p, datetime.date) else str(p) for p in params)
            print(f"\n-- {title}: {literal % shown}")
            print("   dates written in the query (pruned when planned):")
            for line in plan_lines(conn, literal, params):
                print("     " + line)
            types = ", ".join("date" if isinstance(p, datetime.date) else "bigint" for p in params)
            generic = sql.format(t=AUM, p1="$1", p2="$2", p3="$3")
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute(f"PREPARE q ({types}) AS {generic}")
            print("   a parameter of a generic plan (pruned when run):")
            placeholders = ", ".join(["%s"] * len(params))
            for line in plan_lines(conn, f"EXECUTE q ({placeholders})", params):
                print("     " + line)
            conn.execute("DEALLOCATE q")
            conn.execute("RESET plan_cache_mode")
        print(f"\n   the same one date on the plain copy ({PLAIN}):")
        for line in plan_lines(conn, queries[0][1].format(t=PLAIN, p1="%s"), queries[0][2]):
            print("     " + line)

        print(f"\n== 2. queries, {RUNS} runs each (seconds)")
        print(f"{'query':34} {'table':14} {'p50':>8} {'p95':>8}")
        picks = [dates[(k * len(dates)) // RUNS] for k in range(RUNS)]
        timings: dict[tuple[str, str], list[float]] = {}
        for title, sql, _params in queries[:2]:
            for k, pick in enumerate(picks):
                # 20 dates; 20 customers' last 90 days
                values = (
                    [pick] if title.startswith("one business") else [customer + 7 * k, last - ninety, last]
                )
                order = [("partitioned", AUM), ("plain", PLAIN)]
                for kind, table in order if k % 2 == 0 else order[::-1]:
                    statement = sql.format(t=table, p1="%s", p2="%s", p3="%s")
                    timings.setdefault((title, kind), []).append(timed(conn, statement, values))
            for kind in ("partitioned", "plain"):
                p50, p95 = p50_p95(timings[(title, kind)])
                print(f"{title:34} {kind:14} {p50:8.4f} {p95:8.4f}")

        print(f"\n== 3. retiring the oldest month ({first:%Y-%m})")
        partition = f"{AUM}_p{first:%Y%m}"
        (month_rows,) = conn.execute(f"SELECT count(*) FROM {partition}").fetchone()
        with conn.transaction():
            began = time.perf_counter()
            conn.execute(f"ALTER TABLE {AUM} DETACH PARTITION {partition}")
            conn.execute(f"DROP TABLE {partition}")
        detach = time.perf_counter() - began
        with conn.transaction():
            began = time.perf_counter()
            deleted = conn.execute(
                f"DELETE FROM {PLAIN} WHERE business_date >= %s AND business_date < %s",
                [first, month_back(first, -1)],
            ).rowcount
        delete = time.perf_counter() - began
        vacuum = timed(conn, f"VACUUM {PLAIN}")
        print(f"{'how':50} {'rows':>12} {'seconds':>9}")
        print(f"{'partitioned: DETACH + DROP (committed)':50} {month_rows:>12,} {detach:9.3f}")
        print(f"{'plain copy: DELETE of the same month (committed)':50} {deleted:>12,} {delete:9.3f}")
        print(f"{'plain copy: then VACUUM to reuse the space':50} {'':>12} {vacuum:9.3f}")
        print(f"DELETE / DETACH + DROP: {delete / detach:,.0f}x (without the VACUUM)")
        left = conn.execute(f"SELECT (SELECT count(*) FROM {AUM}), (SELECT count(*) FROM {PLAIN})").fetchone()
        print(f"rows left: partitioned {left[0]:,}, plain {left[1]:,}")


if __name__ == "__main__":
    main()

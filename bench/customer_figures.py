"""Benchmark: the night's write of the latest figures on the customer rows, with the
customer table as migration 0021 left it against migration 0022's (no index a query
does not need, sparse references indexed where set, half of each page free).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/customer_figures.py --db nights_bench

`--db` is a migrated database holding customers (a seeded or loaded bank; it is only
read). In a scratch database (`--scratch`, made fresh and dropped at the end) the
customer rows are copied twice, into a table laid out as before and one laid out as
now (the indexes of `--db`'s customer table, the generated search vector included),
and both get the same nights: each night every customer's figures' date and month
average are written, and a share of the customers (`--moving`, each share a scenario)
get a new AUM too, an indexed column. The statement is the shape of
`customers.aum.aum_refresh`'s step 4 (an `UPDATE ... FROM` the night's figures,
written only where they change), followed by the upkeep's `VACUUM`. The two layouts
take turns, night by night.

Prints per scenario and layout: seconds per night (median), rows per second, the share
of heap-only updates, and the table's and its indexes' size after the nights.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import admin, with_database  # noqa: E402

# What migration 0022 changed: the indexes it dropped (as 0021 left them) and made.
BEFORE = {
    "customers_customer_home_branch_id_ecc0227c": "(home_branch_id)",
    "customers_customer_household_id_cd20f899": "(household_id)",
    "customers_customer_merged_into_id_2994ddb6": "(merged_into_id)",
    "customers_customer_tier_0b681a87": "(tier)",
    "customers_customer_tier_0b681a87_like": "(tier varchar_pattern_ops)",
}
AFTER = {
    "customer_tier": "(tier)",
    "customer_household": "(household_id) WHERE household_id IS NOT NULL",
    "customer_merged_into": "(merged_into_id) WHERE merged_into_id IS NOT NULL",
}
LAYOUTS = {"before (0021)": (BEFORE, 100), "now (0022)": (AFTER, 50)}


def kept_indexes(cur) -> list[str]:
    """The customer table's index definitions that both layouts share, as the
    part after `ON public.customers_customer`."""
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer' "
        "AND indexname NOT LIKE '%%_pkey'"
    )
    kept = []
    for name, definition in cur.fetchall():
        if name in BEFORE or name in AFTER:
            continue
        using = definition.split(" ON public.customers_customer ", 1)[1]
        unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
        kept.append((unique, using))
    return kept


def build(cur, table: str, layout: dict[str, str], fillfactor: int, kept) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(
        f"CREATE TABLE {table} (LIKE src_customer INCLUDING DEFAULTS) "
        f"WITH (fillfactor = {fillfactor}, autovacuum_enabled = off)"
    )
    # as migration 0007 made it: computed by PostgreSQL whenever a row is written
    cur.execute(
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_tokens)) STORED"
    )
    columns = ", ".join(columns_of(cur, "src_customer"))
    cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM src_customer ORDER BY id")
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    for n, (unique, using) in enumerate(kept):
        cur.execute(f"CREATE {unique}INDEX {table}_k{n} ON {table} {using}")
    for n, using in enumerate(layout.values()):
        cur.execute(f"CREATE INDEX {table}_l{n} ON {table} USING btree {using}")
    cur.execute(f"VACUUM ANALYZE {table}")


def columns_of(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return [r[0] for r in cur.fetchall()]


def night(cur, table: str, night_no: int, moving: float) -> tuple[float, int, int]:
    """One night's figures written on `table`: (seconds, rows, heap-only rows)."""
    cur.execute("SELECT pg_stat_force_next_flush()")
    hot_before = hot(cur, table)
    # the night's figures, the same for both layouts (a hash of the id and the night)
    cur.execute("DROP TABLE IF EXISTS night_figures")
    cur.execute(
        f"""
        CREATE TEMP TABLE night_figures AS
        SELECT id,
               CASE WHEN (hashint8(id * 1000 + {night_no}) & 1023) < {int(moving * 1024)}
                    THEN round(aum * (1 + ((hashint8(id + {night_no}) & 255) - 127) / 100000.0), 2)
                    ELSE aum END AS aum,
               liabilities,
               DATE '2026-03-01' + {night_no} AS aum_date,
               round(month_avg_aum + {night_no}, 2) AS month_avg_aum
          FROM {table}
        """
    )
    cur.execute("ANALYZE night_figures")
    started = time.perf_counter()
    cur.execute(
        f"""
        UPDATE {table} t
           SET aum = f.aum, liabilities = f.liabilities, aum_date = f.aum_date,
               month_avg_aum = f.month_avg_aum
          FROM night_figures f
         WHERE f.id = t.id
           AND (t.aum <> f.aum OR t.liabilities <> f.liabilities OR t.month_avg_aum <> f.month_avg_aum
                OR t.aum_date IS NULL OR t.aum_date <> f.aum_date)
        """
    )
    rows = cur.rowcount
    seconds = time.perf_counter() - started
    cur.execute(f"VACUUM {table}")
    cur.execute("SELECT pg_stat_force_next_flush()")
    return seconds, rows, hot(cur, table) - hot_before


def hot(cur, table: str) -> int:
    cur.execute("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s", [table])
    row = cur.fetchone()
    return row[0] if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="a migrated database holding customers (read only)")
    parser.add_argument("--scratch", default="bench_customer_figures")
    parser.add_argument("--nights", type=int, default=3, help="nights per scenario and layout")
    parser.add_argument(
        "--moving",
        default="1.0,0.3",
        help="shares of customers whose AUM moves in a night, one scenario each",
    )
    parser.add_argument("--limit", type=int, help="copy only this many customers")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

    import psycopg

    admin(url, f"DROP DATABASE IF EXISTS {args.scratch}")
    admin(url, f"CREATE DATABASE {args.scratch}")
    try:
        with psycopg.connect(with_database(url, args.db)) as source, source.cursor() as cur:
            kept = kept_indexes(cur)
            cols = [c for c in columns_of(cur, "customers_customer") if c != "search_vector"]
        with psycopg.connect(with_database(url, args.scratch), autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS dblink")
            # the source's rows, through a plain copy of its table
            started = time.perf_counter()
            copy_customers(url, args.db, conn, cols, args.limit)
            print(
                f"== {count(cur):,} customers copied from {args.db} in {time.perf_counter() - started:.0f} s"
            )
            print(f"   {len(kept)} indexes shared by both layouts, primary key apart")
            results = {}
            for share in (float(s) for s in args.moving.split(",")):
                tables = {}
                for n, (label, (layout, fillfactor)) in enumerate(LAYOUTS.items()):
                    tables[label] = f"figures_{n}"
                    build(cur, tables[label], layout, fillfactor, kept)
                times: dict[str, list[float]] = {label: [] for label in LAYOUTS}
                rows: dict[str, list[int]] = {label: [] for label in LAYOUTS}
                hots: dict[str, list[int]] = {label: [] for label in LAYOUTS}
                for k in range(1, args.nights + 1):
                    order = list(LAYOUTS) if k % 2 else list(reversed(LAYOUTS))
                    for label in order:
                        seconds, written, hot_rows = night(cur, tables[label], k, share)
                        times[label].append(seconds)
                        rows[label].append(written)
                        hots[label].append(hot_rows)
                        print(
                            f"   AUM moving for {share:.0%}, night {k}, {label}: {seconds:.1f} s, "
                            f"{written:,} rows, {hot_rows:,} heap-only"
                        )
                for label, table in tables.items():
                    cur.execute(
                        "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)", [table, table]
                    )
                    heap, indexes = cur.fetchone()
                    results[(share, label)] = (times[label], rows[label], hots[label], heap, indexes)
            report(results)
    finally:
        admin(url, f"DROP DATABASE IF EXISTS {args.scratch}")


def copy_customers(url: str, source_db: str, conn, cols: list[str], limit: int | None) -> None:
    import psycopg

    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS src_customer")
    with psycopg.connect(with_database(url, source_db)) as source, source.cursor() as src:
        src.execute(
            "SELECT format('CREATE TABLE src_customer (%s)', string_agg(format('%I %s', attname, "
            "format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)) FROM pg_attribute "
            "WHERE attrelid = 'customers_customer'::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attname <> 'search_vector'"
        )
        ddl = src.fetchone()[0]
        with conn.cursor() as cur:
            cur.execute(ddl)
        column_list = ", ".join(cols)
        query = f"SELECT {column_list} FROM customers_customer ORDER BY id"
        if limit:
            query += f" LIMIT {int(limit)}"
        with (
            src.copy(f"COPY ({query}) TO STDOUT") as out,
            conn.cursor().copy(f"COPY src_customer ({column_list}) FROM STDIN") as into,
        ):
            for data in out:
                into.write(data)


def count(cur) -> int:
    cur.execute("SELECT count(*) FROM src_customer")
    return cur.fetchone()[0]


def report(results) -> None:
    print()
    print(
        f"{'AUM moving':>10} {'layout':<14} {'s/night':>8} {'rows/s':>9} {'heap-only':>10} "
        f"{'table MB':>9} {'indexes MB':>11}"
    )
    for (share, label), (times, rows, hots, heap, indexes) in results.items():
        median = statistics.median(times)
        written = statistics.median(rows)
        share_hot = sum(hots) / max(1, sum(rows))
        print(
            f"{share:>10.0%} {label:<14} {median:>8.1f} {written / median:>9,.0f} {share_hot:>10.0%} "
            f"{heap / 2**20:>9,.0f} {indexes / 2**20:>11,.0f}"
        )


if __name__ == "__main__":
    main()

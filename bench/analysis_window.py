"""Benchmark: the analysis night's transaction counts carried from last night's
rows (`analysis.features.TX_CARRIED`) against counting the window's 180 days of
summaries again (`TX_COUNTED`, the fair alternative: what every night did before),
on a database with a history (`bench/nights.py --history-days 365` leaves one).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nights_bench \\
        .venv/bin/python bench/analysis_window.py [--rounds 2]

In one transaction, rolled back at the end (the database is left as it was):
1. the analysis rows as of the business date before the newest (counted: last
   night's rows);
2. the features statement as of the newest date, carried and counted in turns
   (`--rounds` each): seconds each, and the summaries each reads;
3. the whole scoring as of the newest date, carried then counted: seconds each,
   and the rows that differ between the two (0 expected) on the counts and all
   that is computed from them.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tier_evaluation import Rollback, setup  # noqa: E402

COMPARED = (
    "txn_recent",
    "txn_before",
    "dormant_days",
    "txn_change",
    "push_txn_change",
    "churn_probability",
    "value_at_risk",
)


def say(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2, help="features statements of each kind, in turns")
    args = parser.parse_args()
    setup()
    from django.db import connection, transaction

    from analysis.features import RECENT_DAYS, carried_window, write_features
    from analysis.models import TransactionWindow
    from analysis.scoring import score_customers

    if connection.vendor != "postgresql":
        raise SystemExit("the carried counts are PostgreSQL's: set DATABASE_URL to a PostgreSQL database")
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(business_date), MIN(business_date) FROM customers_transactionsummary")
        newest, oldest = cursor.fetchone()
        cursor.execute(
            "SELECT MAX(business_date) FROM customers_transactionsummary WHERE business_date < %s", [newest]
        )
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM customers_customer")
        (customers,) = cursor.fetchone()
    if previous is None:
        raise SystemExit("the history holds one business date: nothing to carry")
    say(
        f"== {customers:,} customers; summaries {oldest} .. {newest}; last night {previous}, "
        f"tonight {newest}; window 2 x {RECENT_DAYS} days"
    )

    def window_rows(as_of, since) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM customers_transactionsummary WHERE business_date > %s AND business_date <= %s",
                [since, as_of],
            )
            return cursor.fetchone()[0]

    day = datetime.timedelta(days=1)
    counted_reads = window_rows(newest, newest - 2 * RECENT_DAYS * day)
    carried_reads = (
        window_rows(newest, previous)
        + window_rows(newest - RECENT_DAYS * day, previous - RECENT_DAYS * day)
        + window_rows(newest - 2 * RECENT_DAYS * day, previous - 2 * RECENT_DAYS * day)
    )
    try:
        with transaction.atomic():
            started = time.perf_counter()
            score_customers(previous)
            say(f"last night's rows as of {previous} (counted): {time.perf_counter() - started:.1f} s")
            carried = carried_window(newest)
            if carried is None:
                raise SystemExit("the rows cannot be carried forward here (history younger than the window?)")
            say(f"carried from {carried.as_of}, oldest summary kept {carried.oldest}")

            times: dict[str, list[float]] = {"carried": [], "counted": []}
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute("SET LOCAL jit = off")
                for _round in range(args.rounds):
                    for kind in ("carried", "counted"):
                        started = time.perf_counter()
                        write_features(
                            cursor, newest, "bench_features", carried=carried if kind == "carried" else None
                        )
                        times[kind].append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_features")
            for kind, reads in (("carried", carried_reads), ("counted", counted_reads)):
                say(
                    f"features statement, {kind}: {statistics.median(times[kind]):.2f} s median of "
                    f"{len(times[kind])} ({', '.join(f'{t:.2f}' for t in times[kind])}); "
                    f"summaries read {reads:,}"
                )
            ratio = statistics.median(times["counted"]) / statistics.median(times["carried"])
            say(f"features statement: carried {ratio:.1f}x faster than counted")

            started = time.perf_counter()
            score_customers(newest)
            whole_carried = time.perf_counter() - started
            columns = ", ".join(COMPARED)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE bench_carried AS SELECT customer_id, {columns} "
                    "FROM analysis_customeranalysis"
                )
            TransactionWindow.objects.all().delete()
            started = time.perf_counter()
            score_customers(newest)
            whole_counted = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM ((SELECT customer_id, {columns} FROM bench_carried "
                    f"EXCEPT SELECT customer_id, {columns} FROM analysis_customeranalysis) UNION ALL "
                    f"(SELECT customer_id, {columns} FROM analysis_customeranalysis "
                    f"EXCEPT SELECT customer_id, {columns} FROM bench_carried)) d"
                )
                (differing,) = cursor.fetchone()
                cursor.execute("SELECT COUNT(*) FROM bench_carried")
                (rows,) = cursor.fetchone()
            say(
                f"whole scoring as of {newest}: carried {whole_carried:.1f} s, counted {whole_counted:.1f} s "
                f"({whole_counted - whole_carried:+.1f} s); rows {rows:,}, differing {differing}"
            )
            if differing:
                raise SystemExit(f"{differing} rows differ between the carried and the counted run")
            raise Rollback
    except Rollback:
        say("rolled back: the database is as it was")


if __name__ == "__main__":
    main()

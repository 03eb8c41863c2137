"""Benchmark: the VIP report page (/vip/reports/) and its Excel export
(/vip/reports/export/) on PostgreSQL, as head office (demo_bm, the whole bank) and
as a branch head (demo_bh), three ways side by side in the same run:

- ``live``: no kept figures (before the first night): every part counted from the
  customer table and the tier history on each request;
- ``before``: the kept figures of counts and month-end tiers, the customers whose
  tier changed between the two months followed through their history on each
  request (read at once and walked in Python) and the period's VIPs won and lost
  counted from both histories: the code before the migration and day figures;
- ``after``: the kept figures with the kept tier migrations
  (``vip.models.TierMigrationFigure``) and each day's won and lost
  (``WonLostDayFigure``), built with the others by the nightly step
  ``vip_figures`` (``vip.services.figures_rebuild``); the period's latest changes
  listed by the date index either way.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/vip_report.py [--samples 25] [--migrate]

On a database seeded with ``bench/seed_customers.py`` (1,000,000 customers) and
migrated (``--migrate``). The report needs a tier history over at least two months
and VIPs won and lost this month; a freshly seeded database has none, so when the
history spans fewer than two months the bench writes one set-based (not timed):
last month's initial tiering of every customer by AUM, then this month one tiered
customer in ten moved down a tier, one in twenty up a tier and one in five just
below the lowest level came in; a quarter of the upper tiers registered as VIPs this
month and one in ten of those liquidated. Everything happens in one transaction
rolled back at the end (``--commit`` keeps it), the tables ANALYZEd inside it.

Requests go through the Django test client (middleware run, templates rendered,
the workbook written), interleaved way by way, after a warm-up; printed are p50,
p95 and max in ms and the queries of each, and whether the three ways show the
same figures. Settings: ``crm_portal.settings.local``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tier_evaluation import PAGE_TARGET_MS, Rollback, setup, versus  # noqa: E402

WAYS = ("live", "before", "after")

# --- a tier history over two months, when the database has none ------------------------------

LAST_MONTH_TIERING_SQL = """
INSERT INTO vip_tierchange (customer_id, from_tier, to_tier, effective_date, source, reason, created_at)
SELECT id, '', {tier_of_aum}, %(day)s, 'upgrade', '', NOW()
  FROM customers_customer
 WHERE merged_into_id IS NULL AND aum >= %(lowest)s
"""

# One tiered customer in ten a tier down, one in twenty a tier up (the top stays).
THIS_MONTH_MOVES_SQL = """
INSERT INTO vip_tierchange (customer_id, from_tier, to_tier, effective_date, source, reason, created_at)
SELECT customer_id, to_tier, CASE WHEN customer_id %% 10 = 0 THEN {down} ELSE {up} END,
       %(day)s, CASE WHEN customer_id %% 10 = 0 THEN 'downgrade' ELSE 'upgrade' END, '', NOW()
  FROM vip_tierchange
 WHERE effective_date = %(tiered_on)s
   AND (customer_id %% 10 = 0 OR customer_id %% 20 = 1 AND to_tier <> %(top)s)
"""

# One in five of the customers just below the lowest level came into it.
THIS_MONTH_ENTRANTS_SQL = """
INSERT INTO vip_tierchange (customer_id, from_tier, to_tier, effective_date, source, reason, created_at)
SELECT id, '', %(lowest_code)s, %(day)s, 'upgrade', '', NOW()
  FROM customers_customer
 WHERE merged_into_id IS NULL AND aum >= %(lowest)s * 0.8 AND aum < %(lowest)s AND id %% 5 = 0
"""

TIERS_FROM_HISTORY_SQL = """
UPDATE customers_customer c SET tier = t.to_tier
  FROM (SELECT DISTINCT ON (customer_id) customer_id, to_tier
          FROM vip_tierchange ORDER BY customer_id, effective_date DESC, id DESC) t
 WHERE c.id = t.customer_id AND c.tier <> t.to_tier
"""

# A quarter of the upper tiers registered this month (dates spread over it), one in
# ten of those liquidated on the business date.
REGISTERED_SQL = """
INSERT INTO vip_vipstatuschange (customer_id, from_status, to_status, effective_date, tier, reason, benefits,
                                 created_at)
SELECT id, '', 'registered', %(first)s + (id %% %(days)s)::int, tier, '', 'lounge', NOW()
  FROM customers_customer
 WHERE merged_into_id IS NULL AND tier = ANY(%(upper)s) AND id %% 4 = 0
"""
LIQUIDATED_SQL = """
INSERT INTO vip_vipstatuschange (customer_id, from_status, to_status, effective_date, tier, reason, benefits,
                                 created_at)
SELECT customer_id, 'registered', 'liquidated', %(day)s, tier, 'moved abroad', '', NOW()
  FROM vip_vipstatuschange
 WHERE to_status = 'registered' AND effective_date >= %(first)s AND customer_id %% 40 = 0
"""
STATUS_FROM_HISTORY_SQL = """
UPDATE customers_customer c SET vip_status = v.to_status
  FROM (SELECT DISTINCT ON (customer_id) customer_id, to_status
          FROM vip_vipstatuschange ORDER BY customer_id, effective_date DESC, id DESC) v
 WHERE c.id = v.customer_id AND c.vip_status <> v.to_status
"""


def history_months() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT date_trunc('month', effective_date)) FROM vip_tierchange")
        return cursor.fetchone()[0]


def write_history(business_date: datetime.date) -> dict:
    """Last month's tiering and this month's moves, VIPs won and lost (set-based)."""
    from django.db import connection

    from core.months import month_back
    from vip.models import TierLevel

    levels = list(TierLevel.objects.filter(is_active=True).order_by("-aum_threshold"))  # highest first
    codes = [level.code for level in levels]  # plain codes (TIER_CODE_RE): literals in the SQL
    tier_of_aum = (
        "CASE "
        + " ".join(f"WHEN aum >= {level.aum_threshold} THEN '{level.code}'" for level in levels)
        + " END"
    )
    down = (
        "CASE to_tier "
        + " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in zip(codes, [*codes[1:], ""], strict=True))
        + " END"
    )
    up = (
        "CASE to_tier "
        + " ".join(f"WHEN '{b}' THEN '{a}'" for a, b in zip(codes, codes[1:], strict=False))
        + " END"
    )
    this_month = business_date.replace(day=1)
    tiered_on = month_back(this_month, 1) + datetime.timedelta(days=2)
    moved_on = max(this_month, business_date - datetime.timedelta(days=1))
    lowest = levels[-1].aum_threshold
    written = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            LAST_MONTH_TIERING_SQL.format(tier_of_aum=tier_of_aum), {"day": tiered_on, "lowest": lowest}
        )
        written["tiered last month"] = cursor.rowcount
        cursor.execute(
            THIS_MONTH_MOVES_SQL.format(down=down, up=up),
            {"day": moved_on, "tiered_on": tiered_on, "top": codes[0]},
        )
        written["moved this month"] = cursor.rowcount
        cursor.execute(
            THIS_MONTH_ENTRANTS_SQL,
            {"day": moved_on, "lowest": lowest, "lowest_code": codes[-1]},
        )
        written["came in this month"] = cursor.rowcount
        cursor.execute(TIERS_FROM_HISTORY_SQL)
        cursor.execute(
            REGISTERED_SQL,
            {"first": this_month, "days": business_date.day, "upper": codes[:3]},
        )
        written["registered this month"] = cursor.rowcount
        cursor.execute(LIQUIDATED_SQL, {"day": business_date, "first": this_month})
        written["liquidated this month"] = cursor.rowcount
        cursor.execute(STATUS_FROM_HISTORY_SQL)
        cursor.execute("ANALYZE customers_customer, vip_tierchange, vip_vipstatuschange")
    written["seconds"] = round(time.perf_counter() - started, 1)
    return written


# --- the three ways ---------------------------------------------------------------------------


@contextmanager
def way(name: str):
    """The report as it is read `name` way (inside a savepoint rolled back)."""
    from unittest import mock

    from django.db import transaction

    from vip.models import FigureBuild

    sid = transaction.savepoint()
    try:
        if name == "live":
            FigureBuild.objects.all().delete()
            yield
        elif name == "before":
            with (
                mock.patch("vip.selectors.reports.moved_between", return_value=None),
                mock.patch("vip.selectors.reports.won_lost_counts", return_value=None),
            ):
                yield
        else:
            yield
    finally:
        transaction.savepoint_rollback(sid)


def shown(user) -> tuple:
    """The report's figures as the page reads them (`vip.views.reports._report`),
    comparable from one way to another."""
    from django.test import RequestFactory

    from vip.views.reports import _report

    request = RequestFactory().get("/vip/reports/")
    request.user = user
    _filters, data = _report(request)
    assert data is not None
    by_branch, matrix, won_lost = data["by_branch"], data["matrix"], data["won_lost"]
    return (
        [
            (r["branch"].code, [(c["n"], c["aum"]) for c in r["cells"]], r["registered"])
            for r in by_branch.rows
        ],
        matrix.codes,
        matrix.cells,
        (won_lost.registered, won_lost.liquidated, won_lost.entered, won_lost.left),
        [row.pk for row in won_lost.rows],
    )


def measure(samples: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from vip.services import figures_rebuild

    users = {"head office": "demo_bm", "branch head": "demo_bh"}
    clients, people = {}, {}
    for label, username in users.items():
        people[label] = User.objects.get(username=username)
        clients[label] = Client(HTTP_HOST="localhost")
        clients[label].force_login(people[label])
    pages = [("page", "/vip/reports/"), ("export", "/vip/reports/export/")]

    def timed(client, path) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        return elapsed, len(ctx.captured_queries)

    started = time.perf_counter()
    build = figures_rebuild()
    print(
        f"figures built (the nightly step vip_figures) in {time.perf_counter() - started:.1f} s", flush=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM vip_tiermigrationfigure")
        print(f"  tier migration figures: {cursor.fetchone()[0]:,} rows over {len(build.months)} months")
        cursor.execute("ANALYZE vip_bookfigure, vip_tiermonthfigure, vip_tiermigrationfigure")

    same: dict[str, bool] = {}
    for label, user in people.items():
        figures = {}
        for name in WAYS:
            with way(name):
                figures[name] = shown(user)
        same[label] = figures["live"] == figures["before"] == figures["after"]
    results: dict[tuple[str, str, str], tuple[list[float], list[int]]] = {}
    for round_ in range(samples + 2):  # two rounds of warm-up
        for label, client in clients.items():
            for page, path in pages:
                for name in WAYS:
                    with way(name):
                        ms, queries = timed(client, path)
                    if round_ >= 2:
                        times, counts = results.setdefault((label, page, name), ([], []))
                        times.append(ms)
                        counts.append(queries)
    print(
        f"\n{'who':12} {'what':7} {'way':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}"
        f" {'p50 vs live':>13}"
    )
    for label in clients:
        for page, _path in pages:
            live_p50 = statistics.median(results[(label, page, "live")][0])
            for name in WAYS:
                times, counts = results[(label, page, name)]
                times.sort()
                p50 = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
                flag = "  over target" if name == "after" and p95 > PAGE_TARGET_MS else ""
                print(
                    f"{label:12} {page:7} {name:>7} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f} "
                    f"{statistics.median(counts):8.0f} {versus(p50, live_p50) if name != 'live' else '':>13}{flag}"
                )
    for label, equal in same.items():
        print(f"{label}: the three ways show the same figures: {'yes' if equal else 'NO'}")
    print(f"(target p50 and p95 <= {PAGE_TARGET_MS} ms; load average {os.getloadavg()[0]:.2f})")


def facts() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE tier <> '') FROM customers_customer "
            "WHERE merged_into_id IS NULL"
        )
        customers, tiered = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM vip_tierchange")
        changes = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    return (
        f"{customers:,} customers, {tiered:,} holding a tier, {changes:,} tier changes; "
        f"shared_buffers {buffers}; {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=25, help="requests per user, page and way")
    parser.add_argument("--migrate", action="store_true", help="run manage.py migrate first")
    parser.add_argument("--commit", action="store_true", help="keep the history written (default: roll back)")
    args = parser.parse_args()
    setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from vip.evaluation import latest_business_date

    if connection.vendor != "postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (crm_bench)")
    if args.migrate:
        call_command("migrate", verbosity=0, interactive=False)
    try:
        with transaction.atomic():
            months = history_months()
            if months < 2:
                written = write_history(latest_business_date())
                print(f"tier history over {months} month(s): written set-based (not timed): {written}")
            print(f"== VIP report at {facts()}", flush=True)
            measure(args.samples)
            if not args.commit:
                raise Rollback
    except Rollback:
        print("(everything rolled back)")


if __name__ == "__main__":
    main()

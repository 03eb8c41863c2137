"""Benchmark: the nightly tier evaluation (vip.evaluation) on PostgreSQL, against the
same tier rule written as one set-based UPDATE (the fair baseline) and a
per-customer Python loop over a sample, side by side in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vip_bench \\
        .venv/bin/python bench/tier_evaluation.py [--sample 5000]

On a database seeded with demo customers (``bench/seed_customers.py``; e.g. a copy
made with ``CREATE DATABASE vip_bench TEMPLATE crm_bench``) and migrated
(``manage.py migrate``; ``--migrate`` does it), everything happens in ONE
transaction that is rolled back at the end (``--commit`` keeps it):

1. baseline: the same rule (``vip.evaluation.evaluate_customer``) applied one
   customer at a time through the ORM -- read the customer's monthly AUM, read a
   running override, decide, write the tier, its history row and the manager's
   reminder -- over a random sample (``--sample``), timed and extrapolated to every
   customer; rolled back to a savepoint so the set-based runs start from the same
   state;
2. ``evaluate_tiers`` as of the latest business date: the first run from whatever
   tiers the customers hold (on a freshly seeded database: none, so every VIP is an
   upgrade -- the one-off initial tiering);
3. the same again: nothing changes (the pure cost of evaluating everyone);
4. a simulated month end: next month's month-average AUM is written for every
   customer (most move by a few per cent, one in ten by a lot; not timed), then the
   evaluation as of the first day of that month -- a busy night;
5. a normal night in that month: nothing new, nothing changes.

The fair baseline runs before each of steps 2-5, from the same state, in a
savepoint that is rolled back: ONE ``UPDATE customers_customer SET tier = CASE ...
END`` over every customer (merged records aside), the CASE written from the live
tier levels (``vip.models.TierLevel``, active ones, by threshold) and policy
(``TierPolicy``: averaging window, downgrade observation period) and computed from
the same inputs -- the month-average AUM (``customers.CustomerMonthlyAum``) and the
running override (``vip.TierOverride``): a running override pins its tier; else an
upgrade as soon as the latest window's average reaches a higher level, a downgrade
only when every window of the observation period stays below the current level, a
withdrawn level re-evaluated at once; only the rows whose tier changes are written.
It runs with the evaluation's session settings (``work_mem``, no JIT), once untimed
first to warm the cache. The tiers it leaves are compared, customer by customer,
with the ones the evaluation leaves (both against a snapshot of the tiers taken
before the step, not timed): the count of disagreements must be 0. It sets the tier
only; the printed report lists what the evaluation does besides (potential-VIP
status, history rows, reminders, ending expired overrides, the run record and audit
event, the lock). The headline ratio is the evaluation's wall time against it.

Before the runs the tables are VACUUM ANALYZEd (not timed): rolled-back runs of this
bench leave dead rows that autovacuum would have cleared in production.

Prints wall time, rows changed and the time of each step, the fair baseline's time
and disagreements beside each run, and the per-customer loop's cost extrapolated
(``--json PATH`` also writes these figures to PATH). Settings:
``crm_portal.settings.local`` (the key file var/pii.keys the bench database's
identifiers were encrypted with).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
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


class Rollback(Exception):
    pass


def facts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE tier <> '') FROM customers_customer")
        customers, tiered = cursor.fetchone()
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'customers_customermonthlyaum'"
        )
        monthly = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(month), MAX(month) FROM customers_customermonthlyaum")
        first, last = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'customers_customer'")
        indexes = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    return {
        "customers": customers,
        "tiered": tiered,
        "monthly_rows": monthly,
        "months": f"{first:%Y-%m}..{last:%Y-%m}" if first else "-",
        "customer_indexes": indexes,
        "shared_buffers": shared_buffers,
    }


def baseline(sample: int, as_of: datetime.date) -> dict:
    """The rule one customer at a time, as a plain ORM loop would apply it."""
    from django.db import connection
    from django.utils import timezone

    from care.models import Alert
    from customers.models import Customer, CustomerMonthlyAum
    from vip.evaluation import current_rules, evaluate_customer, month_back
    from vip.models import TierChange, TierOverride

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_customer ORDER BY random() LIMIT %s", [sample])
        ids = [row[0] for row in cursor.fetchall()]
    rules = current_rules()
    reference = as_of.replace(day=1)
    span = max(rules.observation + rules.window - 1, 2 * rules.window)
    first_month = month_back(reference, span - 1)
    changed = queries = 0
    started = time.perf_counter()
    for customer in Customer.objects.filter(pk__in=ids).iterator(chunk_size=1000):
        months = {
            row.month: int((row.avg_aum * 100).to_integral_value())
            for row in CustomerMonthlyAum.objects.filter(
                customer=customer, month__gte=first_month, month__lte=reference
            )
        }
        override = TierOverride.objects.filter(customer=customer, ended_on__isnull=True).first()
        queries += 2
        decision = evaluate_customer(
            rules=rules,
            tier=customer.tier,
            vip_status=customer.vip_status,
            month_cents=months,
            reference_month=reference,
            override_tier=override.tier if override else None,
            override_running=bool(override and override.expires_on > as_of),
            override_expired=bool(override and override.expires_on <= as_of),
        )
        if decision.tier == customer.tier and decision.vip_status == customer.vip_status:
            continue
        changed += 1
        if decision.tier != customer.tier:
            TierChange.objects.create(
                customer=customer,
                from_tier=customer.tier,
                to_tier=decision.tier,
                effective_date=as_of,
                source=decision.source,
                window_avg_aum=decision.window_sum_cents / rules.window / 100,
            )
            queries += 1
            if customer.primary_manager_id:
                Alert.objects.get_or_create(
                    kind="tier_change",
                    customer=customer,
                    event_key=as_of.isoformat(),
                    defaults={
                        "event_date": as_of,
                        "due_date": as_of,
                        "assignee_id": customer.primary_manager_id,
                        "branch_id": customer.home_branch_id,
                        "figures": {"from": customer.tier, "to": decision.tier},
                        "created_at": timezone.now(),
                    },
                )
                queries += 2
        Customer.objects.filter(pk=customer.pk).update(tier=decision.tier, vip_status=decision.vip_status)
        queries += 1
    seconds = time.perf_counter() - started
    return {"customers": len(ids), "seconds": seconds, "changed": changed, "queries": queries}


# --- the fair baseline: the same tier rule as one UPDATE -----------------------------

SNAPSHOT = "bench_tier_before"
FAIR_LEAVES_OUT = (
    "the potential-VIP status and its history, the tier history rows (vip_tierchange), "
    "the managers' reminders, ending expired overrides, the run record, the audit event "
    "and the evaluation lock"
)


def fair_statement(as_of: datetime.date) -> tuple[str, dict, str]:
    """ONE ``UPDATE ... SET tier = CASE ... END`` applying the tier rule as of `as_of`,
    written from the live tier levels and policy; with a one-line description."""
    import re

    from core.months import month_back
    from vip.models import TIER_CODE_RE, TierLevel, TierPolicy

    policy = TierPolicy.current()
    w, n = policy.window_months, policy.observation_months
    levels = list(
        TierLevel.objects.filter(is_active=True)
        .order_by("aum_threshold")
        .values_list("code", "aum_threshold")
    )
    if not levels:
        raise SystemExit("no active tier level: nothing to evaluate")
    for code, _threshold in levels:
        if not re.fullmatch(TIER_CODE_RE, code):  # they go into the SQL as literals
            raise SystemExit(f"bad tier code {code!r}")
    reference = as_of.replace(day=1)
    params: dict = {"as_of": as_of, "first": month_back(reference, n + w - 2), "last": reference}
    windows = []
    for o in range(n):  # the latest window (o = 0) and the observation period's before it
        params[f"lo{o}"], params[f"hi{o}"] = month_back(reference, o + w - 1), month_back(reference, o)
        windows.append(f"SUM(m.avg_aum) FILTER (WHERE m.month BETWEEN %(lo{o})s AND %(hi{o})s) AS w{o}")

    def rank(window: str) -> str:  # the highest level whose average the window reaches
        arms = " ".join(
            f"WHEN {window} >= {threshold * w} THEN {position}"
            for position, (_code, threshold) in reversed(list(enumerate(levels, start=1)))
        )
        return f"CASE {arms} ELSE 0 END"

    def code_of(position: str) -> str:
        arms = " ".join(f"WHEN {i} THEN '{code}'" for i, (code, _t) in enumerate(levels, start=1))
        return f"CASE {position} WHEN 0 THEN '' {arms} END"

    current = (
        "CASE cu.tier WHEN '' THEN 0 "
        + " ".join(f"WHEN '{code}' THEN {i}" for i, (code, _t) in enumerate(levels, start=1))
        + " ELSE -1 END"  # a withdrawn level
    )
    ranks = [rank(f"s.w{o}") for o in range(n)]  # no monthly rows: NULL, rank 0
    best = ranks[0] if n == 1 else f"GREATEST({', '.join(ranks)})"
    # Written only where the tier changes: a running override naming another tier;
    # else an upgrade, a downgrade after the observation period, a withdrawn level.
    sql = f"""
        UPDATE customers_customer AS c
           SET tier = CASE WHEN d.pinned THEN d.override_tier
                           WHEN d.cur = -1 OR d.r0 > d.cur THEN {code_of("d.r0")}
                           WHEN d.rmax < d.cur THEN {code_of("d.rmax")}
                           ELSE c.tier END
          FROM (SELECT cu.id, {current} AS cur, {ranks[0]} AS r0, {best} AS rmax,
                       COALESCE(o.expires_on > %(as_of)s, FALSE) AS pinned, o.tier AS override_tier
                  FROM customers_customer cu
                  LEFT JOIN (SELECT m.customer_id, {", ".join(windows)}
                               FROM customers_customermonthlyaum m
                              WHERE m.month BETWEEN %(first)s AND %(last)s
                              GROUP BY m.customer_id) s ON s.customer_id = cu.id
                  LEFT JOIN vip_tieroverride o ON o.customer_id = cu.id AND o.ended_on IS NULL
                 WHERE cu.merged_into_id IS NULL) d
         WHERE c.id = d.id
           AND (d.pinned AND c.tier <> d.override_tier
                OR NOT d.pinned AND (d.cur = -1 OR d.r0 > d.cur OR d.rmax < d.cur))
    """
    described = (
        ", ".join(f"{code} >= {threshold:,.0f}" for code, threshold in reversed(levels))
        + f" on the {w}-month average; downgrade after {n} windows below"
    )
    return sql, params, described


def snapshot_tiers() -> None:
    """The tiers before a step (not timed), to compare what each way changes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SNAPSHOT}")
        cursor.execute(f"CREATE TEMP TABLE {SNAPSHOT} AS SELECT id, tier FROM customers_customer")
        cursor.execute(f"ALTER TABLE {SNAPSHOT} ADD PRIMARY KEY (id)")


def changed_tiers() -> dict[int, str]:
    """Customer id -> tier, for every customer whose tier differs from the snapshot."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.tier FROM customers_customer c JOIN {SNAPSHOT} b ON b.id = c.id "
            "WHERE c.tier <> b.tier"
        )
        return dict(cursor.fetchall())


def run_fair(as_of: datetime.date, *, compare: bool = True) -> dict:
    """The fair UPDATE from the current state, in a savepoint rolled back; with
    `compare`, the tiers it leaves (against the snapshot)."""
    from django.db import connection, transaction

    sql, params, described = fair_statement(as_of)
    result: dict = {"described": described}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The evaluation's session settings (reverted with the savepoint).
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            started = time.perf_counter()
            cursor.execute(sql, params)
            result["seconds"] = time.perf_counter() - started
            result["rows"] = cursor.rowcount
        if compare:
            result["changes"] = changed_tiers()
        transaction.set_rollback(True)
    return result


def run_step(label: str, as_of: datetime.date) -> dict:
    """The fair baseline, then the evaluation, from the same state; the tiers each
    leaves compared customer by customer."""
    snapshot_tiers()
    fair = run_fair(as_of)
    run = run_evaluation(label, as_of)
    ours = changed_tiers()
    theirs = fair.pop("changes")
    run["tiers_changed"] = len(ours)
    run["disagreements"] = sum(1 for pk in ours.keys() | theirs.keys() if ours.get(pk) != theirs.get(pk))
    run["fair"] = fair
    return run


def simulate_next_month(reference: datetime.date) -> tuple[datetime.date, float]:
    """Next month's month-average AUM for every customer (not timed as evaluation):
    nine in ten move by -3%..+3%, one in ten by -50%..+60%."""
    from django.db import connection

    from vip.evaluation import month_back

    following = month_back(reference, -1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO customers_customermonthlyaum (customer_id, month, avg_aum, end_aum, avg_liabilities, days)
               SELECT customer_id, %s,
                      ROUND(avg_aum * CASE WHEN (customer_id * 7919) %% 10 = 0
                                           THEN 0.5 + ((customer_id * 104729) %% 1101) / 1000.0
                                           ELSE 0.97 + ((customer_id * 104729) %% 61) / 1000.0 END, 2),
                      end_aum, avg_liabilities, 1
                 FROM customers_customermonthlyaum WHERE month = %s
               ON CONFLICT (customer_id, month) DO NOTHING""",
            [following, reference],
        )
        cursor.execute("ANALYZE customers_customermonthlyaum")
    return following, time.perf_counter() - started


def run_evaluation(label: str, as_of: datetime.date) -> dict:
    from vip.evaluation import evaluate_tiers

    started = time.perf_counter()
    run = evaluate_tiers(as_of=as_of, source="bench")
    wall = time.perf_counter() - started
    counts = dict(run.counts)
    timings = counts.pop("timings", {})
    return {"label": label, "as_of": as_of, "wall": wall, "counts": counts, "timings": timings}


def report(info: dict, base: dict | None, runs: list[dict]) -> None:
    print(
        f"\n== Tier evaluation, {info['customers']:,} customers ({info['tiered']:,} holding a tier before), "
        f"~{info['monthly_rows']:,} monthly AUM rows ({info['months']}); customer table with "
        f"{info['customer_indexes']} indexes; shared_buffers {info['shared_buffers']}"
    )
    print(
        f"{'run':44} {'as of':>10} {'wall s':>7} {'evaluated':>10} {'tier chg':>9} {'up':>8} {'down':>7} "
        f"{'potential±':>10} {'rows upd':>9} {'reminders':>9}"
    )
    for r in runs:
        c = r["counts"]
        potential = c.get("potential_flagged", 0) + c.get("potential_cleared", 0)
        print(
            f"{r['label']:44} {r['as_of']:%Y-%m-%d} {r['wall']:7.1f} {c['evaluated']:>10,} {c['tier_changes']:>9,} "
            f"{c['upgrade']:>8,} {c['downgrade']:>7,} {potential:>10,} {c['customers_updated']:>9,} "
            f"{c['reminders']:>9,}"
        )
    print("\nsteps (s):")
    for r in runs:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items() if v >= 0.05)
        print(f"  {r['label']:42} {steps}")
    if runs:
        print(
            "\n== Fair baseline: the same tier rule as ONE UPDATE customers_customer SET tier = CASE ... END "
            "(only the rows whose tier changes), from the same state, rolled back"
        )
        print(f"   levels and policy: {runs[0]['fair']['described']}; running overrides pinned")
        print(f"   it sets the tier only; it leaves out what the evaluation also does: {FAIR_LEAVES_OUT}")
        print(
            f"{'run':44} {'evaluation s':>12} {'fair UPDATE s':>13} {'tiers chg (eval/fair)':>22} "
            f"{'disagreements':>13} {'evaluation vs fair':>19}"
        )
        for r in runs:
            fair = r["fair"]
            changed = f"{r['tiers_changed']:,} / {fair['rows']:,}"
            print(
                f"{r['label']:44} {r['wall']:12.2f} {fair['seconds']:13.2f} {changed:>22} "
                f"{r['disagreements']:>13,} {versus(r['wall'], fair['seconds']):>19}"
            )
    if base:
        per = base["seconds"] / max(base["customers"], 1)
        total = per * info["customers"]
        print(
            f"\n== Per-customer ORM loop over {base['customers']:,} random customers: "
            f"{base['seconds']:.1f} s ({per * 1000:.2f} ms per customer, {base['queries'] / max(base['customers'], 1):.1f} "
            f"queries per customer, {base['changed']:,} changed)"
        )
        print(f"   extrapolated to {info['customers']:,} customers: {total:,.0f} s ({total / 60:.0f} min)")
        for r in runs:
            print(f"   {r['label']:42} set-based {r['wall']:6.1f} s: {versus(r['wall'], total):>14}")


# --- the VIP pages at this size (--pages) -------------------------------------------------------

PAGE_TARGET_MS = 100


def _largest_book_manager():
    from django.db.models import Count

    from accounts.models import User
    from customers.models import Customer

    row = (
        Customer.objects.filter(primary_manager__isnull=False, primary_manager__username__startswith="demo_")
        .values("primary_manager")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    if row is None:
        raise SystemExit("no demo manager holds a book: seed the database first")
    return User.objects.get(pk=row["primary_manager"]), row["n"]


def pages(samples: int, manager_name: str | None) -> None:
    """p50/p95 and queries of the book, home and VIP report pages through the Django
    test client (middleware run, templates rendered), each read from the kept
    figures (vip.services.figures, built first, timed) and, interleaved, counting
    the live tables the way the pages did before (the figures' build hidden in a
    transaction rolled back at the end)."""
    import statistics

    from django.db import connection, reset_queries, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from customers.models import Customer
    from vip.models import FigureBuild
    from vip.services import figures_rebuild

    if manager_name:
        manager = User.objects.get(username=manager_name)
        book = Customer.objects.filter(primary_manager=manager, merged_into__isnull=True).count()
    else:
        manager, book = _largest_book_manager()
    head_office, branch_head = User.objects.get(username="demo_bm"), User.objects.get(username="demo_bh")
    build = figures_rebuild()
    print(
        f"\n== VIP pages at {Customer.objects.count():,} customers; {manager.username}'s book {book:,}; "
        f"figures built in {build.seconds:.1f} s ({len(build.months)} months)"
    )
    paths = [
        (manager, f"my customers /vip/my/ ({manager.username})", "/vip/my/"),
        (manager, f"  its reminders panel (htmx) ({manager.username})", "/care/alerts/panel/"),
        (manager, f"home / ({manager.username})", "/"),
        (branch_head, "home / (demo_bh, branch head)", "/"),
        (branch_head, "my customers /vip/my/ (demo_bh)", "/vip/my/"),
        (head_office, "VIP reports /vip/reports/ (demo_bm, head office)", "/vip/reports/"),
        (branch_head, "VIP reports /vip/reports/ (demo_bh, branch head)", "/vip/reports/"),
    ]
    clients = {}
    for user, _label, path in paths:
        client = clients.setdefault(user.pk, Client(HTTP_HOST="localhost"))
        client.force_login(user)
        assert client.get(path).status_code == 200, path

    def timed(client, path) -> tuple[float, int]:
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        return elapsed, len(ctx.captured_queries)

    results: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
    with transaction.atomic():
        for _ in range(3):  # warm-up, both ways
            for user, _label, path in paths:
                clients[user.pk].get(path)
        for _ in range(samples):
            for user, label, path in paths:
                sid = transaction.savepoint()
                kept = timed(clients[user.pk], path)
                FigureBuild.objects.all().delete()  # the pages count the live tables
                live = timed(clients[user.pk], path)
                transaction.savepoint_rollback(sid)
                for way, (ms, queries) in (("kept", kept), ("live", live)):
                    times, counts = results.setdefault((label, way), ([], []))
                    times.append(ms)
                    counts.append(queries)
        transaction.set_rollback(True)
    print(f"{'page':52} {'way':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for _user, label, _path in paths:
        for way in ("live", "kept"):
            times, counts = results[(label, way)]
            times.sort()
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            flag = "" if way == "live" or p95 <= PAGE_TARGET_MS else "  over target"
            print(
                f"{label:52} {way:>5} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
                f"{statistics.median(counts):8.0f}{flag}"
            )
    print(
        f"(target p95 <= {PAGE_TARGET_MS} ms; live: the same pages counting the customer table and the "
        f"tier history on each request; load average {os.getloadavg()[0]:.2f})"
    )


def versus(ours: float, theirs: float) -> str:
    """How our time compares with a baseline's: "3.1x faster" or "1.4x slower"."""
    if ours <= 0 or theirs <= 0:
        return "-"
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=int, default=5000, help="customers of the per-customer baseline")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--migrate", action="store_true", help="run manage.py migrate first")
    parser.add_argument("--commit", action="store_true", help="keep what the runs wrote (default: roll back)")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE before the runs")
    parser.add_argument(
        "--pages",
        action="store_true",
        help="only time the book, home and VIP report pages, kept figures against live counts",
    )
    parser.add_argument("--page-samples", type=int, default=25, help="requests per page and way (--pages)")
    parser.add_argument("--manager", help="whose book (--pages; default: the demo manager with the largest)")
    parser.add_argument("--json", help="also write the figures printed to this file (JSON; not with --pages)")
    args = parser.parse_args()
    setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from vip.evaluation import latest_business_date

    if connection.vendor != "postgresql":
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (a copy of crm_bench)")
    if args.migrate:
        call_command("migrate", verbosity=0, interactive=False)
    if "vip_tierlevel" not in connection.introspection.table_names():
        raise SystemExit("the database is not migrated: run with --migrate (or manage.py migrate)")
    if args.pages:
        pages(args.page_samples, args.manager)
        return
    if not args.no_vacuum:
        # A production table has autovacuum keeping up; rolled-back runs of this
        # bench leave dead rows behind that the next run would otherwise scan.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM (ANALYZE) customers_customer, customers_customermonthlyaum, vip_tierchange, "
                "vip_vipstatuschange, care_alert"
            )
        print(f"vacuum analyze: {time.perf_counter() - started:.1f} s (not timed)", flush=True)
    info = facts()
    as_of = latest_business_date()
    print(f"latest business date {as_of}; {info['customers']:,} customers", flush=True)
    runs: list[dict] = []
    base = None
    try:
        with transaction.atomic():
            if not args.skip_baseline:
                print(f"baseline: {args.sample:,} customers one at a time ...", flush=True)
                with transaction.atomic():
                    base = baseline(args.sample, as_of)
                    transaction.set_rollback(True)
            print("fair baseline warm-up (one UPDATE, rolled back, not timed) ...", flush=True)
            run_fair(as_of, compare=False)
            print("set-based runs, each after the fair baseline from the same state ...", flush=True)
            label = "1. first run (initial tiering)" if info["tiered"] == 0 else "1. first run"
            runs.append(run_step(label, as_of))
            runs.append(run_step("2. same night again (nothing changes)", as_of))
            following, seconds = simulate_next_month(as_of.replace(day=1))
            print(f"  (simulated {following:%Y-%m} month averages in {seconds:.1f} s, not timed)", flush=True)
            runs.append(run_step("3. month end: new month's averages", following))
            runs.append(run_step("4. next night of that month", following + datetime.timedelta(days=1)))
            if not args.commit:
                raise Rollback
    except Rollback:
        print("(everything rolled back)")
    report(info, base, runs)
    if args.json:
        out = {"info": info, "as_of": as_of, "baseline": base, "runs": runs}
        Path(args.json).write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()

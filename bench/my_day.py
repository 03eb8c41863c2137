"""Benchmark: a client manager's "my day" home page and the branch's morning meeting,
each beside the fair alternative measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/care_home_bench \\
        .venv/bin/python bench/my_day.py [--samples 200] [--managers 50] [--alerts 500]

The database named by DATABASE_URL is created if missing, migrated and seeded once
(the demo organisation and users, `demo.seeding.seed_customers`, then the bench's
own rows in bulk); a second run reuses it. The data:

* one sub-branch (海淀支行 11100) with `--managers` client managers (the two demo
  managers and bench managers at its two outlets), `--customers-each` customers
  each (manager of record, assignments started over the last 60 days);
* `--alerts` open alerts per manager (birthday, maturity, risk expiry, large outflow,
  dormancy, tier change, contact overdue), due from 20 days ago to 10 days ahead;
* per manager, 6 contacts a day (a third of them visits) and 2 sales a day over the
  last 30 days.

Measured (p50 / p95 / max in ms and queries per call, `CaptureQueriesContext`):

* "my day": demo_cm1's home page `/` through `django.test.Client` (the whole page,
  rendered), and its data alone (`crm_portal.home.panels_for`); beside it the fair
  alternative: the same widgets' data read the way a dashboard is commonly written,
  every open alert of the manager fetched once (`select_related`) and split in
  Python into due today / overdue contacts with a reason for each, the other widgets
  as plain querysets with a separate count. The scorecard loads after the page
  (htmx) on both sides and is measured on its own;
* the morning meeting: demo_bh's page `/care/meeting/` and its data
  (`care.selectors.meeting.morning_meeting`, one grouped query per figure), beside
  the fair alternative (the same figures, one query over the managers with a
  correlated subquery per figure).

Targets (issue 15): my day p95 <= 100 ms with 500 open alerts; the meeting p95 <=
150 ms for a branch of 50 managers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_PREFIX = "bench_cm_"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def ensure_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- data -------------------------------------------------------------------------------


def seed(*, managers: int, customers_each: int, alerts_each: int) -> None:
    from django.core.management import call_command

    from accounts.models import Branch, User
    from accounts.services import user_provision
    from customers.models import Customer

    call_command("migrate", verbosity=0, interactive=False)
    if not User.objects.filter(username="demo_bh").exists():
        call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    needed = managers * customers_each + 1000
    if Customer.objects.count() < needed:
        from demo.seeding import seed_customers

        print(f"seeding {needed:,} customers ...", flush=True)
        seed_customers(count=needed)
    outlets = [Branch.objects.get(code="11101"), Branch.objects.get(code="11102")]
    team = list(User.objects.filter(username__in=["demo_cm1", "demo_cm2"]).order_by("username"))
    existing = list(User.objects.filter(username__startswith=BENCH_PREFIX).order_by("username"))
    for n in range(len(existing), managers - len(team)):
        existing.append(
            user_provision(
                username=f"{BENCH_PREFIX}{n:03d}",
                employee_no=f"B{n:05d}",
                display_name=f"经理{n:03d}",
                branch=outlets[n % 2],
                roles=["client_manager"],
                password=secrets.token_urlsafe(16) + "Aa1!",  # nobody logs in as them
                source="bench",
            )
        )
    team += existing[: managers - len(team)]
    from care.models import Alert

    if Alert.objects.filter(assignee=team[0]).count() >= alerts_each:
        return
    print(f"building the branch: {len(team)} managers ...", flush=True)
    _build(team, customers_each=customers_each, alerts_each=alerts_each)


def _build(team, *, customers_each: int, alerts_each: int) -> None:
    from django.db import connection, transaction

    from care.choices import AlertKind, AlertPriority
    from care.models import Alert
    from customers.choices import AccountCategory, InteractionKind
    from customers.models import Customer, CustomerAssignment, Interaction
    from marketing.choices import SaleSource
    from marketing.models import Sale

    rng = random.Random(15)
    today = datetime.date.today()
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[: len(team) * customers_each])
    books = {m.pk: ids[i * customers_each : (i + 1) * customers_each] for i, m in enumerate(team)}
    with transaction.atomic():
        # the managers' books: home branch and manager of record, set-based
        with connection.cursor() as cursor:
            for manager in team:
                cursor.execute(
                    "UPDATE customers_customer SET primary_manager_id = %s, home_branch_id = %s WHERE id = ANY(%s)",
                    [manager.pk, manager.branch_id, books[manager.pk]],
                )
            cursor.execute("DELETE FROM customers_customerassignment WHERE customer_id = ANY(%s)", [ids])
        CustomerAssignment.objects.bulk_create(
            CustomerAssignment(
                customer_id=pk,
                manager_id=manager_pk,
                role="primary",
                start_date=today - datetime.timedelta(days=rng.randint(1, 60)),
                reason="bench",
            )
            for manager_pk, book in books.items()
            for pk in book
        )
        kinds = [
            AlertKind.BIRTHDAY,
            AlertKind.MATURITY,
            AlertKind.RISK_EXPIRY,
            AlertKind.LARGE_OUTFLOW,
            AlertKind.DORMANCY,
            AlertKind.TIER_CHANGE,
            AlertKind.CONTACT_OVERDUE,
        ]
        alerts = []
        for manager in team:
            book = books[manager.pk]
            for n in range(alerts_each):
                kind = kinds[n % len(kinds)]
                customer = book[(n // len(kinds)) % len(book)]
                due = today + datetime.timedelta(days=rng.randint(-20, 10))
                alerts.append(
                    Alert(
                        kind=kind,
                        customer_id=customer,
                        event_key=f"bench:{n}",
                        event_date=due,
                        due_date=due,
                        priority=rng.choice(AlertPriority.values),
                        assignee=manager,
                        branch_id=manager.branch_id,
                        figures=_figures(kind, due),
                    )
                )
        Alert.objects.bulk_create(alerts, batch_size=5000)
        interactions, sales = [], []
        for manager in team:
            book = books[manager.pk]
            for back in range(30):
                day = today - datetime.timedelta(days=back)
                for k in range(6):
                    interactions.append(
                        Interaction(
                            customer_id=rng.choice(book),
                            manager=manager,
                            kind=InteractionKind.VISIT if k % 3 == 0 else InteractionKind.CALL,
                            occurred_at=datetime.datetime.combine(
                                day, datetime.time(9 + k), datetime.timezone(datetime.timedelta(hours=8))
                            ),
                            subject="bench",
                        )
                    )
                for _k in range(2):
                    sales.append(
                        Sale(
                            customer_id=rng.choice(book),
                            category=AccountCategory.DEP_TIME,
                            amount=Decimal(rng.randint(1, 500) * 1000),
                            sale_date=day,
                            manager=manager,
                            branch_id=manager.branch_id,
                            source=SaleSource.CORE_BANKING,
                        )
                    )
        Interaction.objects.bulk_create(interactions, batch_size=5000)
        Sale.objects.bulk_create(sales, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _figures(kind: str, due: datetime.date) -> dict[str, Any]:
    iso = due.isoformat()
    table: dict[str, dict[str, Any]] = {
        "birthday": {"birthday": iso, "age": 45, "calendar": "solar"},
        "maturity": {
            "account_tail": "4321",
            "category": "DEP_TIME",
            "maturity_date": iso,
            "amount": "200000.00",
        },
        "risk_expiry": {"expiry_date": iso, "expired": False},
        "large_outflow": {
            "aum_before": "1900000.00",
            "aum_now": "1080000.00",
            "change": "-820000.00",
            "percent": "-43.2",
            "since": iso,
        },
        "dormancy": {"reason": "no_transaction", "last_transaction": iso, "days": 190},
        "tier_change": {"from": "gold", "to": "platinum"},
        "contact_overdue": {"tier": "gold", "last_contact": None, "standard_days": 30, "overdue_since": iso},
    }
    return table[kind]


# --- the fair alternatives --------------------------------------------------------------


def dashboard_alternative(user, day: datetime.date) -> dict:
    """The "my day" widgets as a dashboard is commonly written: every open alert of
    the manager in one select_related query, split in Python, a reason for each
    shown row; the other widgets as plain querysets, each list with its own count
    (the scorecard, loaded after the page on both sides, aside)."""
    from django.db.models import Count, Q, Sum

    from care.choices import AlertKind, AlertStatus
    from care.models import Alert
    from care.reasons import alert_reason, reason_context
    from care.selectors.outbox import messages_for, messages_needing_attention
    from care.selectors.plan import plan_for_day
    from customers.models import Customer
    from marketing.selectors import open_targets

    mine = list(
        Alert.objects.visible_to(user)
        .filter(assignee=user, status__in=(AlertStatus.OPEN, AlertStatus.SNOOZED))
        .select_related("customer")
    )
    awake = [a for a in mine if a.status == AlertStatus.OPEN or (a.snoozed_until and a.snoozed_until <= day)]
    due = sorted(
        (a for a in awake if a.due_date <= day and a.kind != AlertKind.CONTACT_OVERDUE),
        key=lambda a: (a.priority, a.due_date, a.pk),
    )
    overdue = [a for a in awake if a.due_date <= day and a.kind == AlertKind.CONTACT_OVERDUE]
    names = reason_context(due[:8] + overdue[:8])  # the tier names, once
    data = {
        "due": [(a, alert_reason(a, names)) for a in due[:8]],
        "due_total": len(due),
        "overdue": [(a, alert_reason(a, names)) for a in overdue[:8]],
        "overdue_total": len(overdue),
        "plan": plan_for_day(user, day),
        "targets": open_targets(user=user).aggregate(
            count=Count("pk"), interested=Count("pk", filter=Q(status="interested"))
        ),
        "attention": messages_needing_attention(user, 8),
        "inbox": messages_for(user, 8),
        "book": Customer.objects.visible_to(user).aggregate(count=Count("pk"), aum=Sum("aum")),
    }
    return data


def subquery_meeting(user, day: datetime.date, branch) -> list[dict]:
    """The meeting's figures the way a competent ORM dashboard reads them: one query
    over the branch's managers with a correlated subquery per figure (each table read
    once per manager inside the database, no query per manager)."""
    from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, Subquery, Sum
    from django.db.models.functions import Coalesce

    from accounts.models import User
    from care.choices import AlertKind, AlertStatus
    from care.models import Alert
    from care.selectors.meeting import _day_bounds, _managers
    from customers.models import CustomerAssignment, Interaction
    from marketing.models import Sale
    from vip.standards import CONTACT_KINDS

    yesterday = day - datetime.timedelta(days=1)
    start, end = _day_bounds(yesterday)
    awake = Q(status=AlertStatus.OPEN) | Q(status=AlertStatus.SNOOZED, snoozed_until__lte=day)

    def count(rows, field="manager"):
        grouped = rows.filter(**{field: OuterRef("pk")}).order_by().values(field)
        return Coalesce(
            Subquery(grouped.annotate(n=Count("pk")).values("n")[:1]), 0, output_field=IntegerField()
        )

    contacts = Interaction.objects.visible_to(user).filter(
        occurred_at__gte=start, occurred_at__lt=end, kind__in=CONTACT_KINDS
    )
    sales = Sale.objects.visible_to(user).filter(sale_date=yesterday)
    alerts = Alert.objects.visible_to(user).filter(awake)
    amount = Subquery(
        sales.filter(manager=OuterRef("pk"))
        .order_by()
        .values("manager")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    team = [m.pk for m in _managers(branch)]  # the meeting's own list of the branch's managers
    managers = (
        User.objects.filter(pk__in=team)
        .order_by("branch__path", "employee_no")
        .annotate(
            contacts=count(contacts),
            visits=count(contacts.filter(kind="visit")),
            sales=count(sales),
            amount=Coalesce(amount, 0, output_field=DecimalField()),
            new=count(
                CustomerAssignment.objects.visible_to(user).filter(role="primary", start_date=yesterday)
            ),
            maturities=count(alerts.filter(kind=AlertKind.MATURITY, due_date=day), "assignee"),
            today=count(alerts.filter(due_date=day), "assignee"),
            overdue=count(alerts.filter(due_date__lt=day), "assignee"),
        )
    )
    return [
        {
            "manager": m,
            **{k: getattr(m, k) for k in ("contacts", "visits", "sales", "amount", "new", "overdue")},
        }
        for m in managers
    ]


# --- measuring --------------------------------------------------------------------------


def measure(paths: list[tuple[str, Callable[[], object]]], samples: int, warmup: int = 10) -> list[dict]:
    """Each path `samples` times, interleaved (one call of each in turn), so that
    every path sees the same load of the machine."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        for _label, call in paths:
            call()
    times: dict[str, list[float]] = {label: [] for label, _call in paths}
    queries: dict[str, list[int]] = {label: [] for label, _call in paths}
    for _ in range(samples):
        for label, call in paths:
            connection.queries_log.clear()  # a bounded log: keep the count exact
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                call()
                times[label].append((time.perf_counter() - started) * 1000)
            queries[label].append(len(ctx.captured_queries))
    rows = []
    for label, _call in paths:
        ordered = sorted(times[label])
        rows.append(
            {
                "label": label,
                "p50": statistics.median(ordered),
                "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)],
                "max": ordered[-1],
                "queries": statistics.median(queries[label]),
            }
        )
    return rows


def report(title: str, rows: list[dict], target: float) -> None:
    print(f"\n== {title} (target p95 <= {target:.0f} ms)")
    print(f"{'path':62} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for r in rows:
        print(f"{r['label']:62} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} {r['queries']:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--managers", type=int, default=50)
    parser.add_argument("--customers-each", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (it is created if missing)")
    ensure_database(url)
    setup()
    seed(managers=args.managers, customers_each=args.customers_each, alerts_each=args.alerts)

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from care.choices import AlertStatus
    from care.models import Alert
    from care.selectors.meeting import _managers, morning_meeting
    from crm_portal import home

    today = timezone.localdate()
    cm = User.objects.get(username="demo_cm1")
    bh = User.objects.get(username="demo_bh")
    open_alerts = Alert.objects.filter(assignee=cm, status=AlertStatus.OPEN).count()
    team = len(_managers(bh.branch))
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    print(f"PostgreSQL: {version}; machine: {os.cpu_count()} cores; samples {args.samples}")
    print(f"demo_cm1: {open_alerts} open alerts; branch {bh.branch.code}: {team} client managers")

    cm_client = Client(HTTP_HOST="localhost")
    cm_client.force_login(cm)
    bh_client = Client(HTTP_HOST="localhost")
    bh_client.force_login(bh)
    assert cm_client.get("/").status_code == 200
    assert bh_client.get("/care/meeting/").status_code == 200

    def fresh(user):
        # a new user object per call, as a request has: no per-object caches carried over
        return User.objects.get(pk=user.pk)

    day_rows = measure(
        [
            ("my day: the home page / (rendered, through the client)", lambda: cm_client.get("/")),
            ("my day: its data (home.panels_for)", lambda: home.panels_for(fresh(cm), today)),
            (
                "  then the scorecard widget (htmx, after the page)",
                lambda: cm_client.get("/home/widgets/scorecard/"),
            ),
            (
                "fair alternative: all open alerts once, split in Python",
                lambda: dashboard_alternative(fresh(cm), today),
            ),
        ],
        args.samples,
    )
    report(f"My day, a client manager with {open_alerts} open alerts", day_rows, 100)

    meeting_rows = measure(
        [
            (
                "meeting: the page /care/meeting/ (rendered, through the client)",
                lambda: bh_client.get("/care/meeting/"),
            ),
            (
                "meeting: its data (one grouped query per figure)",
                lambda: morning_meeting(fresh(bh), today, bh.branch),
            ),
        ],
        args.samples,
    )
    meeting_rows += measure(
        [
            (
                "fair alternative: managers with a subquery per figure",
                lambda: subquery_meeting(fresh(bh), today, bh.branch),
            )
        ],
        max(20, args.samples // 5),
        warmup=3,
    )
    report(f"Morning meeting, a branch of {team} managers", meeting_rows, 150)
    print(f"\nload average during the run: {os.getloadavg()}")

    # the two computations agree
    ours = {
        r.manager.pk: (r.contacts, r.visits, r.sales, r.new_customers, r.overdue)
        for r in morning_meeting(fresh(bh), today, bh.branch).rows
    }
    theirs = {
        r["manager"].pk: (r["contacts"], r["visits"], r["sales"], r["new"], r["overdue"])
        for r in subquery_meeting(fresh(bh), today, bh.branch)
    }
    print(f"\nmeeting figures equal to the fair alternative's: {ours == theirs}")


if __name__ == "__main__":
    main()

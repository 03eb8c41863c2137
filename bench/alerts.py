"""Benchmark: the alert rules (care.engine, set-based) for one night on PostgreSQL,
beside the portable ORM evaluation of the same rules (care.rules_portable), in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/care_bench \\
        .venv/bin/python bench/alerts.py [--date YYYY-MM-DD]

On a database seeded with demo customers (``bench/seed_customers.py --customers
1000000 --db care_bench --force``) and migrated (``manage.py migrate``):

1. preparation (idempotent, committed, not timed against anything): what the steps
   before the alerts leave after a load -- the marketing profile (last transaction
   date, ``marketing.rfm.profile_refresh``) and the tier evaluation
   (``vip.evaluation.evaluate_tiers``: on a freshly seeded database every VIP gets
   a tier, so every one of them is a tier change of the day); a business date a week
   before the latest (the daily AUM of the first day of the month, 2% of customers
   holding twice as much then, so that they show a large outflow); one customer in
   200 keeping their birthday by the lunar calendar. VACUUM ANALYZE.
2. the fair alternative (below, step 4) runs first, from the same empty alert table;
   then the set-based evaluation (``alerts_evaluate``) of every rule for the latest
   business date, from an empty alert table: one night's work;
3. the same date again: nothing new (the cost of a night with nothing to raise);
   then the next calendar day (a steady night: only the events entering the windows;
   no daily AUM for it in the seed, so no outflows);
4. the fair alternative: the same rules through the ORM and Python
   (``care.rules_portable``, what the embedded SQLite demo runs): customers read a
   primary-key range at a time, decided in Python, written with
   ``bulk_create(ignore_conflicts=True)``; over every customer, from the same empty
   alert table, so its counts must equal the set-based first run's. Rolled back.

Prints a table: rule, alerts raised, seconds (set-based runs, then the portable one).
"""

from __future__ import annotations

import argparse
import datetime
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


def say(message: str) -> None:
    print(message, flush=True)


def prepare(day: datetime.date) -> dict[str, float]:
    from django.db import connection, transaction

    from customers.models import CustomerDailyAum
    from marketing.models import MarketingProfile
    from marketing.rfm import profile_refresh
    from vip.evaluation import evaluate_tiers
    from vip.models import TierChange

    took: dict[str, float] = {}
    week_before = day - datetime.timedelta(days=7)
    if not MarketingProfile.objects.filter(as_of=day).exists():
        started = time.perf_counter()
        profile_refresh(day)
        took["marketing profile"] = time.perf_counter() - started
    if not TierChange.objects.filter(effective_date=day).exists():
        started = time.perf_counter()
        evaluate_tiers(as_of=day)
        took["tier evaluation"] = time.perf_counter() - started
    if not CustomerDailyAum.objects.filter(business_date=week_before).exists():
        started = time.perf_counter()
        first = day.replace(day=1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO customers_customerdailyaum (business_date, customer_id, aum, liabilities)
                   SELECT %s, customer_id, CASE WHEN customer_id %% 50 = 7 THEN aum * 2 + 100000 ELSE aum END,
                          liabilities
                     FROM customers_customerdailyaum WHERE business_date = %s""",
                [week_before, first],
            )
            cursor.execute(
                "UPDATE customers_customer SET birthday_calendar = 'lunar' WHERE id % 200 = 3 AND birth_date IS NOT NULL"
            )
        took["week-before AUM, lunar birthdays"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in (
            "customers_customerdailyaum",
            "customers_customer",
            "marketing_marketingprofile",
            "care_alert",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return took


def set_based(day: datetime.date) -> tuple[dict[str, int], dict[str, float], float]:
    from accounts.models import AuditEvent
    from care.engine import alerts_evaluate

    started = time.perf_counter()
    counts = alerts_evaluate(day=day, source="bench")
    wall = time.perf_counter() - started
    event = AuditEvent.objects.filter(action="alerts_evaluated").order_by("-id").first()
    return counts, (event.details["seconds"] if event else {}), wall


def portable(day: datetime.date) -> tuple[dict[str, int], dict[str, float], float]:
    """Every rule through care.rules_portable (the ORM and Python, customers in
    primary-key batches), from the empty alert table; rolled back."""
    from django.db import transaction
    from django.utils import timezone

    from care import rules_portable
    from care.parameters import current_parameters
    from care.rules import RULES, Context

    ctx = Context(day=day, rules=current_parameters(), now=timezone.now())
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with transaction.atomic():
        savepoint = transaction.savepoint()
        started = time.perf_counter()
        assignees = rules_portable.Assignees()
        for rule in RULES:
            began = time.perf_counter()
            counts[str(rule.kind)] = rules_portable.evaluate(rule.kind, ctx, assignees)
            seconds[str(rule.kind)] = time.perf_counter() - began
        wall = time.perf_counter() - started
        transaction.savepoint_rollback(savepoint)
    return counts, seconds, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--date", help="business date (default: the latest with daily AUM)")
    args = parser.parse_args()
    setup()

    from django.db import connection

    from customers.models import Customer
    from vip.evaluation import latest_business_date

    day = datetime.date.fromisoformat(args.date) if args.date else latest_business_date()
    customers = Customer.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    say(f"== alert rules for {day}, {customers:,} customers; {version}; {os.cpu_count()} cores")
    for step, seconds in prepare(day).items():
        say(f"   preparation: {step} {seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE care_alert CASCADE"
        )  # and what refers to alerts (messages): a bench database

    orm, per_rule_orm, orm_wall = portable(day)  # from the empty table, rolled back
    first, per_rule, first_wall = set_based(day)
    again, per_rule_again, again_wall = set_based(day)
    following = day + datetime.timedelta(days=1)
    nxt, per_rule_next, next_wall = set_based(following)

    say("")
    say(
        f"{'rule':<20} {'1st run: alerts':>16} {'s':>7} {'same date again':>16} {'s':>7}"
        f" {'next night ' + str(following):>22} {'s':>7} {'portable ORM':>13} {'s':>7}"
    )
    for kind, count in first.items():
        say(
            f"{kind:<20} {count:>16,} {per_rule.get(kind, 0):>7.2f} {again.get(kind, 0):>16,}"
            f" {per_rule_again.get(kind, 0):>7.2f} {nxt.get(kind, 0):>22,} {per_rule_next.get(kind, 0):>7.2f}"
            f" {orm.get(kind, 0):>13,} {per_rule_orm.get(kind, 0):>7.2f}"
        )
    say(
        f"{'set-based, all rules':<20} {sum(first.values()):>16,} {first_wall:>7.2f} {sum(again.values()):>16,}"
        f" {again_wall:>7.2f} {sum(nxt.values()):>22,} {next_wall:>7.2f}"
        f" {sum(orm.values()):>13,} {orm_wall:>7.2f}"
    )
    say("")
    same = "the same" if orm == first else "DIFFERENT"
    say(
        f"portable ORM (care.rules_portable, every rule, {customers:,} customers): {orm_wall:.1f} s, "
        f"{sum(orm.values()):,} alerts ({same} counts as the set-based 1st run)"
    )
    say(f"ratio (portable ORM / set-based 1st run): {orm_wall / first_wall:,.1f}x")


if __name__ == "__main__":
    main()

"""Benchmark: a branch head's alert scope at bank scale, read from the alert's own
branch (care.querysets, what the pages run) beside the scope that probes each
alert's customer (before migration care/0006_alert_branch_follows_customer), in the
same run, with a check that both give every head the same alerts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/alert_scope.py [--repeat 5] [--heads 0]

On a bank seeded and reshaped for the load test (bench/seed_customers.py, then
bench/load.py --reshape), migrated to the present. For every active branch head
(or the first `--heads` by employee number, heads over a branch or sub-branch
first):

* the open alerts the head sees, counted both ways (`count(*)` of the alert list's
  condition: what the list's count, the home's and the meeting's figures cost);
* the ids themselves, both ways: the two sets must be equal (a difference is a
  leak or a loss, printed and failing the run);
* for heads over a branch or sub-branch (the large subtrees) the count `--repeat`
  times each way, by turns: p50 ms, and the statement's plan (EXPLAIN ANALYZE,
  BUFFERS) of the largest, both ways.

The probing scope, written here as the fair alternative: "(no customer, or EXISTS
(the customer, by primary key, of a branch of the subtree)) and (assigned to the
head, or of a branch of the subtree)".
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def probing(user):
    """The open alerts the head sees by the scope that probes each alert's customer."""
    from django.db.models import Exists, OuterRef, Q

    from care.models import Alert
    from customers.models import Customer
    from customers.querysets import ScopeRule

    branches = list(ScopeRule.of(user).branch_ids)
    visible = Customer.objects.filter(home_branch_id__in=branches, pk=OuterRef("customer"))
    return (
        Alert.objects.open()
        .filter(Q(customer__isnull=True) | Q(Exists(visible)))
        .filter(Q(assignee=user) | Q(branch_id__in=branches))
    )


def by_branch(user):
    from care.models import Alert

    return Alert.objects.visible_to(user).open()


def timed(queryset) -> tuple[int, float]:
    started = time.perf_counter()
    count = queryset.count()
    return count, (time.perf_counter() - started) * 1000


def plan(queryset) -> str:
    from django.db import connection

    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) AS s", params)
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed counts of a large head, each way")
    parser.add_argument("--heads", type=int, default=0, help="only the first N heads (0: all)")
    args = parser.parse_args()
    setup()

    from accounts.models import BranchLevel, User
    from accounts.roles import Role
    from care.models import Alert
    from customers.querysets import ScopeRule

    heads = list(
        User.objects.filter(is_active=True, groups__name=Role.BRANCH_HEAD, branch__isnull=False)
        .select_related("branch")
        .order_by("employee_no")
    )
    heads.sort(key=lambda u: (u.branch.level == BranchLevel.OUTLET, u.employee_no))
    if args.heads:
        heads = heads[: args.heads]
    print(f"{len(heads)} branch heads; {Alert.objects.open().count():,} open alerts in the bank")
    print(
        f"{'head':<12} {'branch':<10} {'branches':>8} {'alerts':>8} {'probing ms':>11} {'by branch ms':>13}"
    )
    differences = 0
    outlets: list[tuple[float, float]] = []
    largest = None
    for head in heads:
        head = User.objects.get(pk=head.pk)  # roles and subtree read afresh, as a request
        subtree = len(ScopeRule.of(head).branch_ids)
        old_ids = set(probing(head).values_list("pk", flat=True))
        new_ids = set(by_branch(head).values_list("pk", flat=True))
        if old_ids != new_ids:
            differences += 1
            print(
                f"  DIFFERENT for {head.username}: {len(new_ids - old_ids)} more by branch, "
                f"{len(old_ids - new_ids)} fewer"
            )
        if head.branch.level == BranchLevel.OUTLET:
            _, old_ms = timed(probing(head))
            _, new_ms = timed(by_branch(head))
            outlets.append((old_ms, new_ms))
            continue
        old_times, new_times = [], []
        for _ in range(args.repeat):
            count, ms = timed(probing(head))
            old_times.append(ms)
            count_new, ms = timed(by_branch(head))
            new_times.append(ms)
            assert count == count_new == len(new_ids)
        print(
            f"{head.username:<12} {head.branch.code:<10} {subtree:>8} {len(new_ids):>8,} "
            f"{statistics.median(old_times):>11.1f} {statistics.median(new_times):>13.1f}"
        )
        if largest is None or len(new_ids) > largest[1]:
            largest = (head, len(new_ids))
    if outlets:
        print(
            f"{len(outlets)} outlet heads: p50 {statistics.median(o for o, _ in outlets):.1f} ms probing, "
            f"{statistics.median(n for _, n in outlets):.1f} ms by branch (one count each)"
        )
    if largest is not None:
        head = User.objects.get(pk=largest[0].pk)
        print(f"\nplan of the count for {head.username} ({largest[1]:,} open alerts), probing:")
        print(plan(probing(head)))
        print("by branch:")
        print(plan(by_branch(head)))
    print(f"\nheads whose alerts differ between the two: {differences}")
    if differences:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""The load test's reshape (bench/load.py --reshape): a seeded bench database made to
look like a bank's organisation and books.

`bench/seed_customers.py` leaves the demo organisation: 8 outlets and 8 client
managers holding every customer. `reshape()` turns that into a bank of the size asked
for, in the org's own levels (head office → branch → sub-branch → outlet):

* sub-branches added under the existing branches and outlets under the sub-branches
  (the existing ones kept), `--outlets` in all;
* client managers spread over the outlets (the existing ones kept where they are),
  each given a book of `book_min`..`book_max` customers (skewed: most books near
  the lower end, a few large); `pool` pool managers at the sub-branches holding the
  long tail (the customers with the lowest AUM, `pool_size` each, 50,000 at a
  million customers);
* a branch head at every outlet, sub-branch and branch that has none;
* every assigned customer given to their new manager set-based: the open primary
  assignment is rewritten (its start date kept, so the history credits the new
  manager as if the bank had always been organised so), and the customer's manager
  of record, home branch and interactions follow;
* one password for every new user, hashed once (`make_password`) and copied to
  every row: logging in still runs the configured hasher at its full strength.

Django must be set up (bench/load.py does it); PostgreSQL only.
"""

from __future__ import annotations

import datetime
import heapq
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Usernames the reshape gives; the load test picks its virtual users among them.
MANAGER_PREFIX = "cm"
POOL_PREFIX = "pool"
HEAD_PREFIX = "bh"
MANAGER_USERNAME = r"^cm[0-9]+$"
HEAD_USERNAME = r"^bh[0-9]+$"

# The steps of the nightly chain (crm_portal.tasks.POST_LOAD_STEPS) whose figures the
# pages of the load test read, run after the reshape: tiers (the seeded bank has
# none), the book figures, the alerts of "my day", the performance figures of the
# scorecard and team board, and the vacuum of the customer table and the others rewritten.
DEFAULT_REBUILD = ("vip_tiers", "vip_figures", "alerts", "performance", "customer_vacuum", "customer_upkeep")


@dataclass
class ReshapeResult:
    outlets_added: int = 0
    sub_branches_added: int = 0
    managers_added: int = 0
    pools_added: int = 0
    heads_added: int = 0
    customers_moved: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def book_sizes(total: int, count: int, low: int, high: int, rng: random.Random) -> list[int]:
    """`count` book sizes between `low` and `high` adding up to `total`: a log-normal
    spread above the minimum, capped at the maximum (what a cap leaves goes to the
    others)."""
    if count == 0:
        if total:
            raise ValueError(f"{total:,} customers and no manager to hold them")
        return []
    if not count * low <= total <= count * high:
        raise ValueError(
            f"{total:,} customers do not make {count:,} books of {low:,}-{high:,}: "
            "change the number of managers, the pool size or the book limits"
        )
    weights = [rng.lognormvariate(0, 0.6) for _ in range(count)]
    sizes = [float(low)] * count
    free = list(range(count))
    left = float(total - count * low)
    while left > 1e-6 and free:
        wsum = sum(weights[i] for i in free)
        capped = [i for i in free if left * weights[i] / wsum >= high - sizes[i]]
        if not capped:
            for i in free:
                sizes[i] += left * weights[i] / wsum
            break
        for i in capped:
            sizes[i] = float(high)
        free = [i for i in free if i not in set(capped)]
        left = total - sum(sizes)
    whole = [int(s) for s in sizes]
    short = total - sum(whole)
    by_fraction = sorted(range(count), key=lambda i: sizes[i] - whole[i], reverse=True)
    for i in by_fraction:
        if short <= 0:
            break
        if whole[i] < high:
            whole[i] += 1
            short -= 1
    assert sum(whole) == total
    return whole


def _numbered_code(parent_code: str, width_digits: int, n: int) -> str:
    """A child's code in the demo's pattern (11000 → 11100 → 11101), else the parent's
    code with a suffix."""
    if parent_code.isdigit() and len(parent_code) == 5:
        if width_digits == 1 and parent_code.endswith("000"):
            return f"{parent_code[:2]}{n}00"
        if width_digits == 2 and parent_code.endswith("00"):
            return f"{parent_code[:3]}{n:02d}"
    return f"{parent_code}{n:0{width_digits}d}"


def _add_branches(*, outlets: int, sub_branches: int, result: ReshapeResult) -> None:
    from accounts.models import Branch, BranchLevel

    every = list(Branch.objects.all())
    codes = {b.code for b in every}
    branches = sorted((b for b in every if b.level == BranchLevel.BRANCH), key=lambda b: b.path)
    subs = sorted((b for b in every if b.level == BranchLevel.SUB_BRANCH), key=lambda b: b.path)
    if not branches or not subs:
        raise ValueError("the organisation has no branch or no sub-branch to add outlets under")
    new: list[Branch] = []
    # sub-branches: under the branch with the fewest, numbered on from its own
    per_branch = {b.pk: sum(1 for s in subs if s.parent_id == b.pk) for b in branches}
    for _ in range(max(0, sub_branches - len(subs))):
        parent = min(branches, key=lambda b: (per_branch[b.pk], b.path))
        n = 1
        while _numbered_code(parent.code, 1, n) in codes:
            n += 1
        if n > 9 and parent.code.isdigit():
            raise ValueError(f"no free sub-branch code under {parent.code}")
        code = _numbered_code(parent.code, 1, n)
        sub = Branch(
            code=code, name=f"{parent.name[:2]}第{n}支行", level=BranchLevel.SUB_BRANCH, parent=parent
        )
        sub.path = f"{parent.path}{code}/"
        codes.add(code)
        per_branch[parent.pk] += 1
        subs.append(sub)
        new.append(sub)
    Branch.objects.bulk_create(new)
    result.sub_branches_added = len(new)
    existing_outlets = [b for b in every if b.level == BranchLevel.OUTLET]
    heap = [(sum(1 for o in existing_outlets if o.parent_id == s.pk), s.path, i) for i, s in enumerate(subs)]
    heapq.heapify(heap)
    added: list[Branch] = []
    for _ in range(max(0, outlets - len(existing_outlets))):
        count, path, i = heapq.heappop(heap)
        parent = subs[i]
        n = 1
        while _numbered_code(parent.code, 2, n) in codes:
            n += 1
        if n > 99 and parent.code.isdigit():
            raise ValueError(f"no free outlet code under {parent.code}")
        code = _numbered_code(parent.code, 2, n)
        outlet = Branch(code=code, name=f"{parent.name}{n}号网点", level=BranchLevel.OUTLET, parent=parent)
        outlet.path = f"{parent.path}{code}/"
        codes.add(code)
        added.append(outlet)
        heapq.heappush(heap, (count + 1, path, i))
    Branch.objects.bulk_create(added)
    result.outlets_added = len(added)


def _add_users(
    *, managers: int, pool: int, password_hash: str, rng: random.Random, result: ReshapeResult
) -> None:
    from django.contrib.auth.models import Group

    from accounts.models import Branch, BranchLevel, User, UserStatus
    from accounts.roles import Role

    outlets = list(Branch.objects.filter(level=BranchLevel.OUTLET, is_active=True).order_by("path"))
    subs = list(Branch.objects.filter(level=BranchLevel.SUB_BRANCH, is_active=True).order_by("path"))
    if User.objects.filter(username__regex=rf"{MANAGER_USERNAME}|^{POOL_PREFIX}[0-9]+$").exists():
        raise ValueError("this database was reshaped before (its managers exist): reshape a fresh copy")
    existing_cms = User.objects.filter(is_active=True, groups__name=Role.CLIENT_MANAGER).count()
    to_add = managers - pool - existing_cms
    if to_add < 0:
        raise ValueError(
            f"{existing_cms} client managers exist already: ask for more than {existing_cms + pool}"
        )
    taken = set(User.objects.values_list("username", flat=True))
    taken_no = set(User.objects.values_list("employee_no", flat=True))
    rows: list[tuple[User, str]] = []  # (user, manager | pool | head)

    def add(username: str, display: str, branch: Branch, kind: str) -> None:
        employee_no = username.upper()
        if username in taken or employee_no in taken_no:
            raise ValueError(f"user {username} exists already: this database was reshaped before")
        taken.add(username)
        taken_no.add(employee_no)
        user = User(
            username=username,
            employee_no=employee_no,
            display_name=display,
            branch=branch,
            password=password_hash,
            status=UserStatus.ACTIVE,
            is_active=True,
            email=f"{username}@bank.example",
        )
        rows.append((user, kind))

    # managers: one at each outlet first, then by a weight per outlet (5-15 at 10 a
    # outlet on average)
    weights = [rng.uniform(0.5, 1.5) for _ in outlets]
    for n in range(1, to_add + 1):
        branch = outlets[n - 1] if n <= len(outlets) else rng.choices(outlets, weights)[0]
        add(f"{MANAGER_PREFIX}{n:04d}", f"客户经理{n:04d}", branch, "manager")
    for n in range(1, pool + 1):
        add(f"{POOL_PREFIX}{n:02d}", f"公共池{n:02d}", subs[(n - 1) % len(subs)], "pool")
    headed = set(
        User.objects.filter(is_active=True, groups__name=Role.BRANCH_HEAD).values_list("branch_id", flat=True)
    )
    for branch in Branch.objects.filter(level__gt=BranchLevel.HEAD_OFFICE, is_active=True).order_by("path"):
        if branch.pk not in headed:
            digits = "".join(ch for ch in branch.code if ch.isdigit())
            add(f"{HEAD_PREFIX}{digits}", f"{branch.name}负责人", branch, "head")
    User.objects.bulk_create([user for user, _role in rows], batch_size=2000)
    groups = {g.name: g.pk for g in Group.objects.filter(name__in=[Role.CLIENT_MANAGER, Role.BRANCH_HEAD])}
    through = User.groups.through
    group_of = {"manager": Role.CLIENT_MANAGER, "pool": Role.CLIENT_MANAGER, "head": Role.BRANCH_HEAD}
    through.objects.bulk_create(
        [through(user_id=user.pk, group_id=groups[group_of[kind]]) for user, kind in rows], batch_size=5000
    )
    result.managers_added = sum(1 for _u, kind in rows if kind == "manager")
    result.pools_added = sum(1 for _u, kind in rows if kind == "pool")
    result.heads_added = sum(1 for _u, kind in rows if kind == "head")


def _move_customers(
    *,
    pool_size: int | None,
    book_min: int,
    book_max: int,
    seed: int,
    rng: random.Random,
    result: ReshapeResult,
) -> None:
    """Give every customer with a manager of record to a manager of the new org, in
    one transaction of set-based statements."""
    from django.db import connection, transaction

    from accounts.models import User
    from accounts.roles import Role

    managers = list(
        User.objects.filter(is_active=True, groups__name=Role.CLIENT_MANAGER)
        .exclude(username__startswith=POOL_PREFIX)
        .order_by("pk")
        .values_list("pk", "branch_id")
    )
    pools = list(
        User.objects.filter(
            is_active=True, groups__name=Role.CLIENT_MANAGER, username__regex=rf"^{POOL_PREFIX}[0-9]+$"
        )
        .order_by("username")
        .values_list("pk", "branch_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM customers_customerassignment WHERE end_date IS NULL AND role = 'primary'"
        )
        assigned = cursor.fetchone()[0]
    if pools:
        size = pool_size if pool_size is not None else min(50_000, assigned // (5 * len(pools)))
        pool_total = min(size * len(pools), assigned)
        # what the books cannot hold goes to the pools
        pool_total = max(pool_total, assigned - len(managers) * book_max)
    else:
        pool_total = 0
    books = book_sizes(assigned - pool_total, len(managers), book_min, book_max, rng)
    pool_books = [
        pool_total // len(pools) + (1 if i < pool_total % len(pools) else 0) for i in range(len(pools))
    ]
    ranges: list[tuple[int, int, int, int]] = []  # (manager, branch, first rank, last rank)
    rank = 0
    for (pk, branch), size in [*zip(pools, pool_books, strict=True), *zip(managers, books, strict=True)]:
        if size:
            ranges.append((pk, branch, rank + 1, rank + size))
            rank += size
    assert rank == assigned
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            "CREATE TEMP TABLE load_book (manager_id bigint, branch_id bigint, lo bigint, hi bigint) ON COMMIT DROP"
        )
        cursor.executemany("INSERT INTO load_book VALUES (%s, %s, %s, %s)", ranges)
        # the long tail (lowest AUM) to the pools, everyone else shuffled into the books
        cursor.execute(
            """CREATE TEMP TABLE load_target ON COMMIT DROP AS
               WITH assigned AS (
                   SELECT a.customer_id,
                          row_number() OVER (ORDER BY c.aum, a.customer_id) <= %(pool)s AS in_pool
                     FROM customers_customerassignment a
                     JOIN customers_customer c ON c.id = a.customer_id
                    WHERE a.end_date IS NULL AND a.role = 'primary'),
               ranked AS (
                   SELECT customer_id,
                          row_number() OVER (PARTITION BY in_pool ORDER BY md5(customer_id::text || %(seed)s))
                          + CASE WHEN in_pool THEN 0 ELSE %(pool)s END AS rank
                     FROM assigned),
               slots AS (
                   SELECT generate_series(lo, hi) AS rank, manager_id, branch_id FROM load_book)
               SELECT r.customer_id, s.manager_id, s.branch_id
                 FROM ranked r JOIN slots s USING (rank)""",
            {"pool": pool_total, "seed": str(seed)},
        )
        cursor.execute("ALTER TABLE load_target ADD PRIMARY KEY (customer_id)")
        cursor.execute("ANALYZE load_target")
        cursor.execute(
            """UPDATE customers_customerassignment a SET manager_id = t.manager_id
                 FROM load_target t
                WHERE a.customer_id = t.customer_id AND a.end_date IS NULL AND a.role = 'primary'
                  AND a.manager_id IS DISTINCT FROM t.manager_id"""
        )
        cursor.execute(
            """UPDATE customers_customer c
                  SET primary_manager_id = t.manager_id, home_branch_id = t.branch_id, updated_at = now()
                 FROM load_target t
                WHERE c.id = t.customer_id"""
        )
        result.customers_moved = cursor.rowcount
        cursor.execute(
            """UPDATE customers_interaction i SET manager_id = t.manager_id
                 FROM load_target t
                WHERE i.customer_id = t.customer_id AND i.manager_id IS DISTINCT FROM t.manager_id"""
        )


def consistency() -> dict[str, int]:
    """What the reshape must keep: one open primary assignment per assigned customer,
    the manager of record equal to it, and every customer counted once."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT
                 (SELECT count(*) FROM customers_customer),
                 (SELECT count(*) FROM customers_customer WHERE primary_manager_id IS NULL),
                 (SELECT count(*) FROM (SELECT customer_id FROM customers_customerassignment
                                         WHERE end_date IS NULL AND role = 'primary'
                                         GROUP BY customer_id HAVING count(*) > 1) d),
                 (SELECT count(*) FROM customers_customer c
                   WHERE c.primary_manager_id IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM customers_customerassignment a
                          WHERE a.customer_id = c.id AND a.end_date IS NULL AND a.role = 'primary'
                            AND a.manager_id = c.primary_manager_id)),
                 (SELECT count(*) FROM customers_customer c
                   WHERE c.primary_manager_id IS NULL AND EXISTS (
                         SELECT 1 FROM customers_customerassignment a
                          WHERE a.customer_id = c.id AND a.end_date IS NULL AND a.role = 'primary')),
                 (SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM customers_customer
                                                    WHERE primary_manager_id IS NOT NULL
                                                    GROUP BY primary_manager_id) b),
                 (SELECT count(*) FROM customers_customer c JOIN accounts_user u ON u.id = c.primary_manager_id
                   WHERE c.home_branch_id IS DISTINCT FROM u.branch_id)"""
        )
        row = cursor.fetchone()
    keys = (
        "customers",
        "unassigned",
        "customers_with_two_open_primaries",
        "manager_of_record_not_the_open_assignment",
        "open_assignment_without_manager_of_record",
        "customers_in_books",
        "home_branch_not_the_managers",
    )
    return dict(zip(keys, row, strict=True))


def summary() -> dict[str, Any]:
    """Counts of the reshaped bank: managers, outlets, book sizes, pools, heads."""
    from django.db.models import Count

    from accounts.models import Branch, BranchLevel, User
    from accounts.roles import Role
    from customers.models import Customer

    books = dict(
        Customer.objects.filter(primary_manager__isnull=False)
        .order_by()
        .values_list("primary_manager")
        .annotate(n=Count("pk"))
        .values_list("primary_manager", "n")
    )
    cms = User.objects.filter(is_active=True, groups__name=Role.CLIENT_MANAGER)
    pool_ids = set(cms.filter(username__regex=rf"^{POOL_PREFIX}[0-9]+$").values_list("pk", flat=True))
    book_sizes_ = sorted(books.get(pk, 0) for pk in cms.values_list("pk", flat=True) if pk not in pool_ids)
    return {
        "client_managers": len(book_sizes_),
        "pool_managers": len(pool_ids),
        "branch_heads": User.objects.filter(is_active=True, groups__name=Role.BRANCH_HEAD).count(),
        "outlets": Branch.objects.filter(level=BranchLevel.OUTLET, is_active=True).count(),
        "sub_branches": Branch.objects.filter(level=BranchLevel.SUB_BRANCH, is_active=True).count(),
        "book_min": book_sizes_[0] if book_sizes_ else 0,
        "book_p50": int(statistics.median(book_sizes_)) if book_sizes_ else 0,
        "book_max": book_sizes_[-1] if book_sizes_ else 0,
        "pool_sizes": sorted((books.get(pk, 0) for pk in pool_ids), reverse=True),
    }


def reshape(
    *,
    managers: int,
    outlets: int,
    pool: int,
    password: str,
    sub_branches: int | None = None,
    pool_size: int | None = None,
    book_min: int = 200,
    book_max: int = 1500,
    seed: int = 20261206,
    log: Callable[[str], object] = print,
) -> ReshapeResult:
    """Reshape the database Django is connected to (see the module docstring)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import Branch, BranchLevel

    if connection.vendor != "postgresql":
        raise ValueError("the reshape is set-based SQL of PostgreSQL")
    rng = random.Random(seed)
    result = ReshapeResult()
    if sub_branches is None:
        existing = Branch.objects.filter(level=BranchLevel.SUB_BRANCH).count()
        sub_branches = max(existing, min(18, outlets // 12))
    started = time.perf_counter()
    with transaction.atomic():
        _add_branches(outlets=outlets, sub_branches=sub_branches, result=result)
        # one hash for every new user, computed once with the configured hasher
        _add_users(
            managers=managers, pool=pool, password_hash=make_password(password), rng=rng, result=result
        )
    result.seconds["org and users"] = time.perf_counter() - started
    log(
        f"org and users: {result.sub_branches_added} sub-branches, {result.outlets_added} outlets, "
        f"{result.managers_added} client managers, {result.pools_added} pool managers, "
        f"{result.heads_added} branch heads added ({result.seconds['org and users']:.1f} s)"
    )
    started = time.perf_counter()
    _move_customers(
        pool_size=pool_size, book_min=book_min, book_max=book_max, seed=seed, rng=rng, result=result
    )
    result.seconds["customers"] = time.perf_counter() - started
    log(
        f"customers: {result.customers_moved:,} given to their new managers ({result.seconds['customers']:.1f} s)"
    )
    return result


def rebuild(steps: Sequence[str], log: Callable[[str], object] = print) -> dict[str, float]:
    """The named post-load steps of the nightly chain, for the current business date;
    returns the seconds each took."""
    from crm_portal.tasks import POST_LOAD_STEPS
    from vip.evaluation import current_business_date

    known = dict(POST_LOAD_STEPS)
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(unknown)}: choose among {', '.join(known)}")
    day: datetime.date = current_business_date()
    seconds: dict[str, float] = {}
    for name in steps:
        started = time.perf_counter()
        known[name]([day])
        seconds[name] = time.perf_counter() - started
        log(f"rebuilt {name} for {day:%Y-%m-%d} in {seconds[name]:.1f} s")
    started = time.perf_counter()
    filled = vacuum_filled()
    if filled:
        log(
            f"vacuumed the tables the rebuild filled ({', '.join(filled)}) in {time.perf_counter() - started:.1f} s"
        )
    return seconds


def vacuum_filled() -> list[str]:
    """VACUUM (ANALYZE) the tables whose rows inserted since their last vacuum reach a
    tenth of their live rows (the alerts a first evaluation raises for the whole bank),
    as autovacuum does after such a fill when it runs (a test cluster may run without
    it): their pages are then marked all-visible, and the counts the pages make (a
    branch head's alerts) walk an index alone, as on a bank's ordinary day rather
    than its first. None inside a transaction or off PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            " AND n_ins_since_vacuum >= GREATEST(1000, 0.1 * n_live_tup) ORDER BY relname"
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return tables

"""Demo customers at bank scale: `seed_customers(count=N)`.

Tops the customer table up to N customers (idempotent: a second run creates nothing;
an interrupted run is finished by running it again) with everything the portal
shows about a person (`demo.people`): contacts, accounts with the business date's
balances, households and relationships, other assets, interactions and the
assignment to the client manager of the customer's outlet; then their history
(`demo.history`): daily AUM of the month so far and 13 months of monthly AUM.

How it stays fast: each chunk of customers is generated and turned into stored
columns in a worker thread while the previous chunk is written; on PostgreSQL the
rows are streamed with ``COPY ... FROM STDIN`` (psycopg 3), elsewhere (SQLite, the
embedded default) with ``bulk_create``; the history is derived in SQL. Each chunk is
one transaction, so memory stays flat and a run that stops half-way leaves whole
chunks behind.

`latest_day=False` (what `manage.py seed_demo` does) leaves the business date's
balances, daily AUM and transactions to the real load (`demo.business_day`); the
customer and account rows carry the figures that day's batch reports, and the jobs
after the load recompute them from the loaded balances. `latest_day=True` (the
default: benchmarks, tests of the generator) writes that day here as well.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import Branch, BranchLevel, User
from core import locks
from customers.models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    Household,
    Interaction,
    OtherAsset,
    Relationship,
    TransactionSummary,
)
from customers.numbers import reserve_customer_numbers

from .history import HISTORY_TABLES, derive_history
from .people import Generator, Outlet
from .reference import OUTLET_PLACES
from .tables import (
    ACCOUNT_FIELDS,
    ASSIGNMENT_FIELDS,
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    HOUSEHOLD_FIELDS,
    INTERACTION_FIELDS,
    OTHER_ASSET_FIELDS,
    RELATIONSHIP_FIELDS,
    TXN_FIELDS,
    CopyWriter,
    Layout,
    OrmWriter,
    SeedStats,
    Writer,
)

__all__ = ["DEFAULT_SEED", "SeedStats", "seed_customers"]

DEFAULT_SEED = 20260101
# Two runs at once would give the same indexes, hence the same identities, twice.
LOCK_KEY = locks.DEMO_SEED


def demo_outlets() -> list[Outlet]:
    """The demo outlets that have a client manager, with their managers (the demo
    manager of the outlet when there is one, else every active client manager there)."""
    from accounts.roles import Role

    from .org import DEMO_ORG, DEMO_USERS, EXTRA_MANAGER_OUTLETS

    demo_codes = [code for code, _n, level, _p in DEMO_ORG if level == BranchLevel.OUTLET]
    demo_managers = {u for u, _e, _n, role, _b in DEMO_USERS if role == Role.CLIENT_MANAGER}
    demo_managers |= {f"cm_{o}" for o in EXTRA_MANAGER_OUTLETS}
    branches = {b.code: b for b in Branch.objects.filter(code__in=demo_codes)}
    managers: dict[int, list[tuple[str, int]]] = {}
    for user_id, username, branch_id in (
        User.objects.filter(branch__in=branches.values(), groups__name=Role.CLIENT_MANAGER, is_active=True)
        .order_by("username")
        .values_list("pk", "username", "branch_id")
        .distinct()
    ):
        managers.setdefault(branch_id, []).append((username, user_id))
    result = []
    for code in demo_codes:
        branch = branches.get(code)
        if branch is None or branch.pk not in managers:
            continue
        found = managers[branch.pk]
        preferred = [pk for username, pk in found if username in demo_managers]
        city, district = OUTLET_PLACES[code]
        result.append(Outlet(branch.pk, code, city, district, preferred or [pk for _u, pk in found]))
    if not result:
        raise RuntimeError(
            "No demo outlet has an active client manager: run `manage.py seed_demo` "
            "(demo.org.seed_org and seed_users) before seeding customers."
        )
    return result


# (model, logical fields, chunk attribute, {field: what its local number refers to})
TABLES: list[tuple[type[Model], tuple[str, ...], str, dict[str, str]]] = [
    (Household, HOUSEHOLD_FIELDS, "households", {}),
    (Customer, CUSTOMER_FIELDS, "customers", {"customer_no": "number", "household_id": "household"}),
    (ContactPoint, CONTACT_FIELDS, "contacts", {"customer_id": "customer"}),
    (Account, ACCOUNT_FIELDS, "accounts", {"customer_id": "customer"}),
    (CustomerAssignment, ASSIGNMENT_FIELDS, "assignments", {"customer_id": "customer"}),
    (Relationship, RELATIONSHIP_FIELDS, "relationships",
     {"customer_id": "customer", "related_customer_id": "customer"}),
    (OtherAsset, OTHER_ASSET_FIELDS, "assets", {"customer_id": "customer"}),
    (Interaction, INTERACTION_FIELDS, "interactions", {"customer_id": "customer"}),
    (TransactionSummary, TXN_FIELDS, "txns", {"customer_id": "customer"}),
]  # fmt: skip
# Rows of the business date itself, left to the load when latest_day is False.
LATEST_DAY_KEYS = frozenset({"txns"})


# The tables whose ids later tables of a chunk refer to, and the name they refer by.
REFERRED = {"households": "household", "customers": "customer"}


class _Preparer:
    """Generates a chunk and turns it into stored columns (encryption, name search):
    pure Python, no database, so it runs in a worker thread while the previous chunk
    is being written."""

    def __init__(self, generator: Generator, *, latest_day: bool):
        self.generator = generator
        self.layouts: dict[str, Layout] = {}
        self.skip = frozenset() if latest_day else LATEST_DAY_KEYS

    def __call__(self, start: int, n: int) -> tuple[dict[str, list], float]:
        started = time.perf_counter()
        out = self.generator.chunk(start, n)
        made: dict[str, list] = {}
        for model, fields, key, _refs in TABLES:
            rows = getattr(out, key) if key in REFERRED else out.children[key]
            if key in self.skip:
                rows = []
            if rows and key not in self.layouts:
                self.layouts[key] = Layout(model, fields, rows[0])
            made[key] = [self.layouts[key].make(r) for r in rows] if rows else []
        return made, time.perf_counter() - started


def _write_chunk(writer: Writer, preparer: _Preparer, made: dict[str, list], numbers: list[str]) -> None:
    """Write one prepared chunk, turning chunk positions into ids as they become known."""
    refs: dict[str, list] = {"number": numbers}
    for model, _fields, key, fks in TABLES:
        rows = made[key]
        if not rows:
            if key in REFERRED:  # a chunk without households: its customers refer to none
                refs[REFERRED[key]] = []
            continue
        layout = preparer.layouts[key]
        subs = [(layout.attnames.index(f), refs[what]) for f, what in fks.items()]
        if subs:
            resolved = []
            for row in rows:
                row = list(row)
                for pos, table in subs:
                    if row[pos] is not None:
                        row[pos] = table[row[pos]]
                resolved.append(row)
            rows = resolved
        pks = writer.insert(model, layout, rows, ids=key in REFERRED)
        if key in REFERRED:
            refs[REFERRED[key]] = pks


def seed_customers(
    *,
    count: int,
    stdout=None,
    seed: int = DEFAULT_SEED,
    chunk_size: int | None = None,
    method: str = "auto",
    business_date: datetime.date | None = None,
    stats: SeedStats | None = None,
    latest_day: bool = True,
) -> int:
    """Top the customer table up to `count` customers; return how many were created.

    `method` is "copy" (PostgreSQL only), "orm" (bulk_create) or "auto" (copy on
    PostgreSQL, orm elsewhere). The latest business date is yesterday unless given.
    Each chunk is one transaction; the next chunk is generated while one is written.
    `latest_day=False` leaves the business date's own rows to the load (see above).
    """
    if count < 0:
        raise ValueError("count must be 0 or more")
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    if method == "copy" and connection.vendor != "postgresql":
        raise ValueError("COPY needs PostgreSQL")
    stats = stats if stats is not None else SeedStats()
    write: Callable[[str], None] = (
        (lambda text: stdout.write(text + "\n")) if stdout is not None else (lambda _t: None)
    )

    with _exclusive():
        return _seed(count=count, write=write, seed=seed, chunk_size=chunk_size, method=method,
                     business_date=business_date, stats=stats, latest_day=latest_day)  # fmt: skip


@contextmanager
def _exclusive():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise RuntimeError("Another seed_customers run is working on this database; let it finish first.")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except DatabaseError:  # an aborted outer transaction: the lock goes with the session
            pass


def _seed(*, count, write, seed, chunk_size, method, business_date, stats, latest_day) -> int:
    from accounts.audit import Action, audit

    started = time.perf_counter()
    existing = Customer.objects.count()
    todo = count - existing
    if todo <= 0:
        write(f"Demo customers: {existing:,} already there, none to create.")
        return 0
    chunk_size = chunk_size or (50_000 if method == "copy" else 5_000)
    latest = business_date or timezone.localdate() - datetime.timedelta(days=1)
    generator = Generator(seed=seed, outlets=demo_outlets(), latest=latest, now=timezone.now())
    preparer = _Preparer(generator, latest_day=latest_day)
    writer: Writer = CopyWriter(stats) if method == "copy" else OrmWriter(stats)
    write(
        f"Demo customers: {existing:,} there, creating {todo:,} ({method}, chunks of {chunk_size:,}, "
        f"business date {latest})."
    )
    # the index of each chunk's first customer (= customers before it), and its size
    plan = [(existing + done, min(chunk_size, todo - done)) for done in range(0, todo, chunk_size)]
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-customers") as pool:
        pending = pool.submit(preparer, *plan[0])
        for k, (_start, n) in enumerate(plan):
            made, seconds = pending.result()
            stats.generate_seconds += seconds
            if k + 1 < len(plan):
                pending = pool.submit(preparer, *plan[k + 1])
            numbers = reserve_customer_numbers(n)
            with transaction.atomic():
                _write_chunk(writer, preparer, made, numbers)
                derive_history(
                    first_no=numbers[0],
                    last_no=numbers[-1],
                    latest=latest,
                    stats=stats,
                    latest_day=latest_day,
                )
                committing = time.perf_counter()
            stats.add("commit (deferred foreign-key checks)", 0, time.perf_counter() - committing)
            done += n
            elapsed = time.perf_counter() - started
            write(
                f"  {existing + done:>10,} customers  {stats.rows:>12,} rows  {elapsed:7.1f} s  "
                f"{stats.rows / elapsed:>9,.0f} rows/s  {done / elapsed:>8,.0f} customers/s"
            )
    # Fresh statistics for the planner: without them a just-loaded table is planned
    # as if it were small (autovacuum gets there only later).
    analyzing = time.perf_counter()
    with connection.cursor() as cursor:
        for model in [*(t[0] for t in TABLES), *HISTORY_TABLES]:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    stats.add("analyze", 0, time.perf_counter() - analyzing)
    audit(Action.CUSTOMER_CREATED, actor_username="seed_demo", details={"count": todo, "method": method})
    stats.created += todo
    stats.wall_seconds += time.perf_counter() - started
    return todo

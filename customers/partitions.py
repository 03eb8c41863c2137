"""The daily history tables, range-partitioned by month on PostgreSQL (migration
0021): a partition per month (`<table>_pYYYYMM`, from the first day of the month
to the first day of the next) and a default partition (`<table>_default`) taking
the rows of a month without its own.

- `ensure_partitions` makes the partitions a load is about to write (the load calls
  it for its business date, the nightly steps after the load for the newest one):
  the business date's month and the next, every month between them and the oldest
  rows of a default partition, whose rows move into their month's new partition.
- `ensure_months` makes a table's partitions for given months (history written
  behind the oldest month a load has made).
- `retire_partitions` drops the months older than the history kept
  (`DAILY_HISTORY_MONTHS`): a detached partition dropped whole instead of millions
  of rows deleted. The monthly aggregates (`CustomerMonthlyAum`...) are not history
  tables and are never touched.
- `partitions_report` lists the partitions (the `history_partitions` command).

On SQLite, the embedded default, the tables are plain and every function here does
nothing and returns nothing.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit
from core.months import month_back

from .models import AccountBalance, CustomerDailyAum, TransactionSummary

logger = logging.getLogger(__name__)

# The tables that grow by a row per account or customer per business date.
HISTORY_TABLES: tuple[str, ...] = tuple(
    model._meta.db_table for model in (AccountBalance, CustomerDailyAum, TransactionSummary)
)
KEY = "business_date"
DEFAULT_KEEP_MONTHS = 25
# A transaction-level advisory lock: one change of the partitions at a time.
LOCK_KEY = 0x5041_5254  # "PART"
# DETACH takes the partitioned table whole for a moment: a retirement does not queue
# behind a long report (and every reader behind itself); it is tried again next night.
RETIRE_LOCK_TIMEOUT = "10s"
LOCK_NOT_AVAILABLE = "55P03"

_BOUNDS = re.compile(r"FOR VALUES FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


class PartitionAction(models.TextChoices):
    """What the audit trail records of the history partitions."""

    HISTORY_RETIRED = "history_retired", _("Daily history retired")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    start: datetime.date | None  # None: the default partition
    end: datetime.date | None
    rows: int  # the planner's estimate (pg_class.reltuples), -1 when never analysed

    @property
    def is_default(self) -> bool:
        return self.start is None


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    """The first day of the month `count` months after `month`'s."""
    return month_back(month, -count)


def partition_name(table: str, month: datetime.date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _state(cursor) -> dict[str, tuple[list[tuple[datetime.date, datetime.date]], datetime.date | None]]:
    """Per table: the ranges of its partitions, and the oldest business date held by
    its default partition (None when empty). One statement."""
    parts = [
        f"SELECT %s, (SELECT MIN({KEY}) FROM {_quote(default_name(table))}),"
        " ARRAY(SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass)"
        for table in HISTORY_TABLES
    ]
    cursor.execute(" UNION ALL ".join(parts), [value for table in HISTORY_TABLES for value in (table, table)])
    state = {}
    for table, oldest, bounds in cursor.fetchall():
        ranges = []
        for bound in bounds:
            match = _BOUNDS.fullmatch(bound)
            if match:
                ranges.append((datetime.date.fromisoformat(match[1]), datetime.date.fromisoformat(match[2])))
        state[table] = (ranges, oldest)
    return state


def _missing(state, through: datetime.date) -> list[tuple[str, datetime.date]]:
    last = add_months(month_start(through), 1)
    missing = []
    for table in HISTORY_TABLES:
        ranges, oldest = state[table]
        month = month_start(through) if oldest is None else min(month_start(oldest), month_start(through))
        while month <= last:
            if not _held(ranges, month):
                missing.append((table, month))
            month = add_months(month, 1)
    return missing


def ensure_partitions(through: datetime.date) -> list[str]:
    """Make the month partitions missing from the oldest month held by a default
    partition (if any) to the month after `through`'s; return their names. Rows of a
    new partition's month held by the default partition move into it in the same
    transaction, under a transaction-level advisory lock (one maker at a time). When
    nothing is missing: one statement (the catalog and the default partitions' oldest
    date, read by their primary keys) and nothing made."""
    if not _postgres():
        return []
    with connection.cursor() as cursor:
        if not _missing(_state(cursor), through):
            return []
    return _make(lambda state: _missing(state, through))


def ensure_months(table: str, months: list[datetime.date]) -> list[str]:
    """Make `table`'s partitions for the months of `months` (any day of each) that no
    partition holds yet, in the way `ensure_partitions` makes them (under its lock,
    the default partition's rows of the month moved in); return their names. For
    history written behind the oldest month a load has made, e.g. a bench's year of
    history before its first night."""
    if not _postgres():
        return []
    if table not in HISTORY_TABLES:
        raise ValueError(f"{table} is not a daily history table")
    wanted = sorted({month_start(month) for month in months})

    def missing(state) -> list[tuple[str, datetime.date]]:
        ranges, _oldest = state[table]
        return [(table, month) for month in wanted if not _held(ranges, month)]

    return _make(missing)


def _held(ranges: list[tuple[datetime.date, datetime.date]], month: datetime.date) -> bool:
    """Whether a partition holds any of `month` (one made by hand for a longer range
    too)."""
    end = add_months(month, 1)
    return any(start < end and month < stop for start, stop in ranges)


def _make(missing) -> list[str]:
    """Make the partitions `missing(state)` names, the state read under the
    transaction-level advisory lock (one maker at a time); return their names."""
    created = []
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for table, month in missing(_state(cursor)):
            moved = _create(cursor, table, month)
            created.append(partition_name(table, month))
            logger.info("history partition %s made (%s rows moved from the default)", created[-1], moved)
    return created


def _create(cursor, table: str, month: datetime.date) -> int:
    """A month's partition: made apart, given the default partition's rows of its
    month, then attached: the attachment takes the partitioned table in SHARE UPDATE
    EXCLUSIVE mode only (its readers and writers go on) and the default partition,
    checked for rows of the month, in ACCESS EXCLUSIVE mode until the commit.
    Returns the rows moved."""
    name, default = _quote(partition_name(table, month)), _quote(default_name(table))
    end = add_months(month, 1)
    like = f"LIKE {_quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE"
    cursor.execute(f"CREATE TABLE {name} ({like})")
    cursor.execute(f"SELECT 1 FROM {default} WHERE {KEY} >= %s AND {KEY} < %s LIMIT 1", [month, end])
    moved = 0
    if cursor.fetchone() is not None:
        cursor.execute(
            f"INSERT INTO {name} SELECT * FROM {default} WHERE {KEY} >= %s AND {KEY} < %s", [month, end]
        )
        moved = cursor.rowcount
        cursor.execute(f"DELETE FROM {default} WHERE {KEY} >= %s AND {KEY} < %s", [month, end])
    # the partition's indexes are built by the attachment, from the rows moved
    cursor.execute(
        f"ALTER TABLE {_quote(table)} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [month, end]
    )
    if moved:
        cursor.execute(f"ANALYZE {name}")
    return moved


def _cutoff(today: datetime.date, keep_months: int | None) -> datetime.date:
    """The first day kept: the first of the oldest of the `keep_months` months
    ending with today's."""
    if keep_months is None:
        keep_months = int(getattr(settings, "DAILY_HISTORY_MONTHS", DEFAULT_KEEP_MONTHS))
    if keep_months < 1:
        raise ValueError("at least one month of daily history is kept")
    return add_months(month_start(today), 1 - keep_months)


def retire_partitions(today: datetime.date, keep_months: int | None = None) -> list[str]:
    """Detach and drop the month partitions entirely older than the `keep_months`
    months ending with `today`'s (default DAILY_HISTORY_MONTHS), delete the older
    rows of the default partitions; each logged and audited. Returns the partitions
    dropped (and `<table>_default` when it lost rows). A partition busy past the
    lock timeout is left for the next run (logged)."""
    cutoff = _cutoff(today, keep_months)
    if not _postgres():
        return []
    retired = []
    for partition in partitions_report():
        if partition.is_default or partition.end is None or partition.end > cutoff:
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
                parent, name = _quote(partition.table), _quote(partition.name)
                # the audit's count: exact (a scan of the month, while nothing writes it)
                cursor.execute(f"SELECT COUNT(*) FROM {name}")
                rows = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [RETIRE_LOCK_TIMEOUT])
                cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
                _record(partition.table, partition.name, partition.start, partition.end, rows)
        except OperationalError as busy:
            if getattr(busy.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            logger.warning("history partition %s not retired, the table is busy: %s", partition.name, busy)
            continue
        retired.append(partition.name)
    for table in HISTORY_TABLES:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute(f"DELETE FROM {_quote(default_name(table))} WHERE {KEY} < %s", [cutoff])
            if cursor.rowcount:
                _record(table, default_name(table), None, cutoff, cursor.rowcount)
                retired.append(default_name(table))
    return retired


def _record(table: str, name: str, start: datetime.date | None, end: datetime.date | None, rows: int) -> None:
    logger.info("daily history retired: %s %s (%s to %s), %s rows", table, name, start, end, rows)
    audit(
        PartitionAction.HISTORY_RETIRED,
        actor_username="customers.history_partitions",
        target_type="customers.history_partition",
        target_id=name,
        target_repr=name,
        details={
            "table": table,
            "partition": name,
            "from": start.isoformat() if start else None,
            "before": end.isoformat() if end else None,
            "rows": rows,
            "how": "dropped" if start else "deleted",
        },
    )


def partitions_report() -> list[Partition]:
    """Every partition of the history tables: table, partition, first day, first day
    after (None, None for the default), rows (the planner's estimate)."""
    if not _postgres():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.relname, c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE i.inhparent = ANY(%s::regclass[]) ORDER BY p.relname, c.relname",
            [list(HISTORY_TABLES)],
        )
        rows = cursor.fetchall()
    report = []
    for table, name, bound, estimate in rows:
        match = _BOUNDS.fullmatch(bound)
        start = datetime.date.fromisoformat(match[1]) if match else None
        end = datetime.date.fromisoformat(match[2]) if match else None
        report.append(Partition(table, name, start, end, int(estimate)))
    report.sort(key=lambda p: (p.table, p.start is not None, p.start or datetime.date.min))
    return report

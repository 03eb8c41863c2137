"""The credit-risk reports' figures (docs/credit.md, "Credit-risk reports"), written
set-based after each load for the last RISK_FIGURE_MONTHS months.

The whole pipeline, in one transaction (pages read the previous figures until the
new ones commit; a re-run writes the same rows):
1. the month ends (`MonthEnd`): each month's last day, the newest business date for
   the current month; and the month's balance date, the latest business date with
   balances on or before it in that month (one index probe a month);
2. into temporary tables, once: the loans and cards (the account table holds every
   kind of account), those opened within the window (the vintages' cohorts) with
   their first day more than 30 days past due (the vintages' "ever"), and, when a
   month end's snapshot is to be written, the change log (`customers.LoanStatus`) as
   spans: each row holds from its date until the account's next row (LEAD over the
   account's rows);
3. month end by month end, oldest first: its snapshot (`MonthEndStatus`, recorded
   by a `MonthEndSnapshot`): every loan and card on book that day, its bucket and
   classification (the span holding that day, none: current, Normal), its balance on
   the balance date (the balances of that one date, `customers.AccountBalance` read
   by its primary key's leading date) and its amount past due. A snapshot is kept:
   it is written again only for the months a load can change (`recompute_from`),
   when missing, or when its day or balance date is no longer the month end's; a
   month end's balances are a whole day of every account's (2.2 million rows at a
   million customers), read once rather than every night. Then from the snapshot
   three grouped INSERT ... SELECTs: `RiskFigure` (per branch, product line, bucket
   and class), `RollRate` (joined by account with the previous month end's
   snapshot) and `Vintage` (the cohorts at that month end).

On book at a month end: a loan or card opened on or before it (no opening date: always),
unless it is closed now and had neither a balance nor a day past due then (a closed,
repaid account drops out; while it still owed it counted).

Which months a refresh writes (`risk_figures_refresh`): a status row or a balance of a
date changes the month ends from that date on, so the months from the month of the
earliest date loaded to the newest one: normally the current month only; the
previous one too when the night's loads include its last days (a late batch, or the
first load of a month bringing the previous month's last business day), and
any month after the newest one written (a night the step failed); their snapshots
are written again. The months before the window are dropped, and the snapshots
before the month before it. `manage.py credit_risk_figures` rebuilds the whole
window's figures from the kept snapshots (`--from-history`: the snapshots too).

Portable SQL: PostgreSQL and SQLite 3.25+ (window functions); what differs is
spelled per database in `_VENDOR`.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.months import month_back, month_end
from customers.choices import CREDIT_CATEGORIES, AccountStatus, RiskClass

from .buckets import SERIOUS_DAYS, SERIOUSLY_PAST_DUE, bucket_sql
from .models import MonthEndSnapshot, MonthEndStatus, RiskFigure, RollRate, Vintage

logger = logging.getLogger(__name__)

RISK_FIGURE_MONTHS = 24

ACCOUNT_TABLE = "credit_accounts"
COHORT_TABLE = "credit_cohorts"
SPAN_TABLE = "credit_status_spans"
SNAPSHOT_TABLE = MonthEndStatus._meta.db_table
TEMPORARY_TABLES = (ACCOUNT_TABLE, COHORT_TABLE, SPAN_TABLE)

_VENDOR: dict[str, dict[str, str]] = {
    "postgresql": {
        "month_start": "CAST(date_trunc('month', {x}) AS DATE)",
        "month_index": (
            "(CAST(date_part('year', {x}) AS INTEGER) * 12 + CAST(date_part('month', {x}) AS INTEGER) - 1)"
        ),
    },
    "sqlite": {
        "month_start": "date({x}, 'start of month')",
        "month_index": (
            "(CAST(strftime('%%Y', {x}) AS INTEGER) * 12 + CAST(strftime('%%m', {x}) AS INTEGER) - 1)"
        ),
    },
}


def _sql(name: str, x: str) -> str:
    return _VENDOR.get(connection.vendor, _VENDOR["sqlite"])[name].format(x=x)


_CREDIT = ", ".join(f"'{c}'" for c in sorted(CREDIT_CATEGORIES))

# The loans and cards, read once (the account table holds every kind of account).
ACCOUNTS_SQL = f"""
    INSERT INTO {ACCOUNT_TABLE} (id, branch_id, category, open_date, closed)
    SELECT id, branch_id, category, open_date,
           CASE WHEN status = '{AccountStatus.CLOSED.value}' THEN 1 ELSE 0 END
      FROM customers_account
     WHERE category IN ({_CREDIT})
"""


def _cohorts_sql() -> str:
    """The loans and cards opened within the window, their opening month and the first
    day each was reported more than SERIOUS_DAYS days past due (none: NULL)."""
    return f"""
    INSERT INTO {COHORT_TABLE} (id, branch_id, category, open_date, opened, opened_index, since)
    SELECT a.id, a.branch_id, a.category, a.open_date,
           {_sql("month_start", "a.open_date")}, {_sql("month_index", "a.open_date")}, f.since
      FROM {ACCOUNT_TABLE} a
      LEFT JOIN (SELECT account_id, MIN(business_date) AS since
                   FROM customers_loanstatus
                  WHERE overdue_days > {SERIOUS_DAYS} AND business_date <= %(last)s
                  GROUP BY account_id) f ON f.account_id = a.id
     WHERE a.open_date >= %(window)s AND a.open_date <= %(last)s
    """


# Each status row holds from its date until the account's next row.
SPANS_SQL = f"""
    INSERT INTO {SPAN_TABLE} (account_id, valid_from, valid_to, overdue_days, overdue_amount, risk_class)
    SELECT account_id, business_date,
           LEAD(business_date) OVER (PARTITION BY account_id ORDER BY business_date),
           overdue_days, overdue_amount, risk_class
      FROM customers_loanstatus
     WHERE business_date <= %(last)s
"""

# One month end's snapshot: every loan and card on book, its status that day and its
# balance on the month's balance date (NULL when the month has no balances: no row
# joins), in the order of the table's key.
SNAPSHOT_SQL = f"""
    INSERT INTO {SNAPSHOT_TABLE}
           (month, account_id, branch_id, category, bucket, risk_class, balance, overdue_amount)
    SELECT %(month)s, a.id, a.branch_id, a.category,
           {bucket_sql("s.overdue_days")}, COALESCE(s.risk_class, {int(RiskClass.NORMAL)}),
           COALESCE(b.cny_balance, 0), COALESCE(s.overdue_amount, 0)
      FROM {ACCOUNT_TABLE} a
      LEFT JOIN {SPAN_TABLE} s
             ON s.account_id = a.id AND s.valid_from <= %(as_of)s
            AND (s.valid_to IS NULL OR s.valid_to > %(as_of)s)
      LEFT JOIN customers_accountbalance b ON b.business_date = %(balance_date)s AND b.account_id = a.id
     WHERE (a.open_date IS NULL OR a.open_date <= %(as_of)s)
       AND NOT (a.closed = 1 AND COALESCE(b.cny_balance, 0) = 0 AND COALESCE(s.overdue_days, 0) = 0)
     ORDER BY a.id
"""

FIGURES_SQL = f"""
    INSERT INTO credit_riskfigure
           (month, as_of, branch_id, category, bucket, risk_class, accounts, balance, overdue_amount)
    SELECT %(month)s, %(as_of)s, branch_id, category, bucket, risk_class,
           COUNT(*), SUM(balance), SUM(overdue_amount)
      FROM {SNAPSHOT_TABLE}
     WHERE month = %(month)s
     GROUP BY branch_id, category, bucket, risk_class
"""

# The accounts on book at both month ends; their branch and product line now.
ROLL_RATES_SQL = f"""
    INSERT INTO credit_rollrate (month, branch_id, category, from_bucket, to_bucket, accounts, balance)
    SELECT %(month)s, n.branch_id, n.category, p.bucket, n.bucket, COUNT(*), SUM(n.balance)
      FROM {SNAPSHOT_TABLE} n JOIN {SNAPSHOT_TABLE} p ON p.account_id = n.account_id
     WHERE n.month = %(month)s AND p.month = %(previous)s
     GROUP BY n.branch_id, n.category, p.bucket, n.bucket
"""

# Every account of a cohort opened by the month end, whatever became of it (the
# cohort does not shrink); now 30+: its bucket in the snapshot (not on book: current).
VINTAGES_SQL = f"""
    INSERT INTO credit_vintage
           (opened, month, months_on_book, branch_id, category, accounts, ever_past_due, now_past_due)
    SELECT c.opened, %(month)s, %(index)s - c.opened_index, c.branch_id, c.category, COUNT(*),
           SUM(CASE WHEN c.since <= %(as_of)s THEN 1 ELSE 0 END),
           SUM(CASE WHEN s.bucket >= {int(SERIOUSLY_PAST_DUE)} THEN 1 ELSE 0 END)
      FROM {COHORT_TABLE} c LEFT JOIN {SNAPSHOT_TABLE} s ON s.month = %(month)s AND s.account_id = c.id
     WHERE c.open_date <= %(as_of)s
     GROUP BY c.opened, c.opened_index, c.branch_id, c.category
"""


@dataclass(frozen=True)
class MonthEnd:
    month: datetime.date  # its first day
    as_of: datetime.date  # its last day, or the newest business date in the current month
    balance_date: datetime.date | None  # the latest date with balances on or before as_of in the month

    @property
    def index(self) -> int:
        return self.month.year * 12 + self.month.month - 1


def window_start(as_of: datetime.date, months: int = RISK_FIGURE_MONTHS) -> datetime.date:
    """The first month of the `months` up to as_of's."""
    return month_back(as_of.replace(day=1), months - 1)


def month_ends(first: datetime.date, as_of: datetime.date) -> list[MonthEnd]:
    """The month ends from `first`'s month to as_of's, oldest first (one index probe
    each for the balance date)."""
    from customers.models import AccountBalance

    ends = []
    month = first.replace(day=1)
    while month <= as_of:
        day = min(month_end(month), as_of)
        balance_date = AccountBalance.objects.filter(
            business_date__gte=month, business_date__lte=day
        ).aggregate(d=Max("business_date"))["d"]
        ends.append(MonthEnd(month=month, as_of=day, balance_date=balance_date))
        month = month_back(month, -1)
    return ends


def _create_tables(cursor) -> None:
    _drop_tables(cursor)
    temporary = "CREATE TEMPORARY TABLE"
    cursor.execute(
        f"{temporary} {ACCOUNT_TABLE} (id BIGINT PRIMARY KEY, branch_id BIGINT, category VARCHAR(16),"
        " open_date DATE, closed SMALLINT)"
    )
    cursor.execute(
        f"{temporary} {COHORT_TABLE} (id BIGINT PRIMARY KEY, branch_id BIGINT, category VARCHAR(16),"
        " open_date DATE, opened DATE, opened_index INTEGER, since DATE)"
    )


def _drop_tables(cursor) -> None:
    for table in TEMPORARY_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _analyze(cursor, table: str) -> None:
    # temporary tables have no statistics until analysed: without them the planner
    # guesses their size and may loop over one instead of hashing it
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def _stale(end: MonthEnd, kept: MonthEndSnapshot | None, recompute_from: datetime.date | None) -> bool:
    """Whether a month end's snapshot is to be written (module docstring, 3.)."""
    if recompute_from is not None and end.month >= recompute_from:
        return True
    return kept is None or kept.as_of != end.as_of or kept.balance_date != end.balance_date


class _Snapshots:
    """The month ends' snapshots written in a computation; the status spans they read
    are made the first time one is needed (most nights: the current month only)."""

    def __init__(self, cursor, last: str) -> None:
        self.cursor, self.last, self.spans = cursor, last, False

    def write(self, end: MonthEnd, day: dict) -> int:
        cursor = self.cursor
        if not self.spans:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {SPAN_TABLE} (account_id BIGINT, valid_from DATE, valid_to DATE,"
                " overdue_days INTEGER, overdue_amount NUMERIC(18, 2), risk_class SMALLINT)"
            )
            cursor.execute(SPANS_SQL, {"last": self.last})
            _analyze(cursor, SPAN_TABLE)
            self.spans = True
        if connection.vendor == "postgresql":
            # the month's own partition, emptied: no dead rows, no index to keep
            partition, bounds = (
                _partition(end.month),
                [end.month.isoformat(), month_back(end.month, -1).isoformat()],
            )
            # rows of the month written through the ORM (tests) give way to it
            cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE}_default WHERE month >= %s AND month < %s", bounds)
            cursor.execute(
                f"CREATE UNLOGGED TABLE IF NOT EXISTS {partition} PARTITION OF {SNAPSHOT_TABLE}"
                " FOR VALUES FROM (%s) TO (%s)",
                bounds,
            )
            cursor.execute(f"TRUNCATE {partition}")
        else:
            partition = SNAPSHOT_TABLE
            cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE} WHERE month = %s", [day["month"]])
        cursor.execute(SNAPSHOT_SQL, day)
        accounts = cursor.rowcount
        _analyze(cursor, partition)
        MonthEndSnapshot.objects.update_or_create(
            month=end.month,
            defaults={
                "as_of": end.as_of,
                "balance_date": end.balance_date,
                "accounts": accounts,
                "written_at": timezone.now(),
            },
        )
        return accounts


def _partition(month: datetime.date) -> str:
    """The PostgreSQL partition of a month end's statuses (migration credit 0003)."""
    return f"{SNAPSHOT_TABLE}_m{month:%Y%m}"


def _drop_snapshots_before(cursor, month: datetime.date) -> None:
    if connection.vendor != "postgresql":
        cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE} WHERE month < %s", [month.isoformat()])
        return
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        [SNAPSHOT_TABLE],
    )
    for (name,) in cursor.fetchall():
        # the month's digits sort as the months do; the default partition stays
        if name != f"{SNAPSHOT_TABLE}_default" and name < _partition(month):
            cursor.execute(f"DROP TABLE {name}")
    cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE}_default WHERE month < %s", [month.isoformat()])


def write_figures(
    *,
    first: datetime.date,
    as_of: datetime.date,
    window: datetime.date,
    recompute_from: datetime.date | None = None,
) -> dict[str, int]:
    """Replace the figures of the months from `first`'s to as_of's (the vintages of
    accounts opened from `window` on), reading the month end before `first` too for
    the first month's roll rates. The month ends' snapshots from `recompute_from`'s
    month on are written again (None: only those missing or no longer the month
    end's). Returns the rows written per table, and the snapshots written."""
    first = max(first.replace(day=1), window)
    ends = month_ends(month_back(first, 1), as_of)
    kept = {s.month: s for s in MonthEndSnapshot.objects.filter(month__in=[e.month for e in ends])}
    params = {"last": as_of.isoformat(), "window": window.isoformat()}
    written = {"figures": 0, "roll_rates": 0, "vintages": 0, "months": 0, "snapshots": 0}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the joins and groups run in memory rather than spill to disk
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            # a small sample is enough to know a temporary table's size and spread
            cursor.execute("SET LOCAL default_statistics_target = 10")
        _create_tables(cursor)
        cursor.execute(ACCOUNTS_SQL)
        _analyze(cursor, ACCOUNT_TABLE)
        cursor.execute(_cohorts_sql(), params)
        _analyze(cursor, COHORT_TABLE)
        snapshots = _Snapshots(cursor, params["last"])
        RiskFigure.objects.filter(month__gte=first).delete()
        RollRate.objects.filter(month__gte=first).delete()
        Vintage.objects.filter(month__gte=first).delete()
        for i, end in enumerate(ends):
            day: dict[str, str | int | None] = {
                "month": end.month.isoformat(),
                "previous": ends[i - 1].month.isoformat() if i else None,
                "index": end.index,
                "as_of": end.as_of.isoformat(),
                "balance_date": end.balance_date.isoformat() if end.balance_date else None,
            }
            if _stale(end, kept.get(end.month), recompute_from):
                snapshots.write(end, day)
                written["snapshots"] += 1
            if end.month < first:  # the month end before the first: its roll rates' start
                continue
            for name, sql in (
                ("figures", FIGURES_SQL),
                ("roll_rates", ROLL_RATES_SQL),
                ("vintages", VINTAGES_SQL),
            ):
                cursor.execute(sql, day)
                written[name] += cursor.rowcount
            written["months"] += 1
        # the window moved on: its oldest month (and the vintages opened then) goes,
        # and the snapshots before the month before it
        RiskFigure.objects.filter(month__lt=window).delete()
        RollRate.objects.filter(month__lt=window).delete()
        Vintage.objects.filter(opened__lt=window).delete()
        oldest_kept = month_back(window, 1)
        _drop_snapshots_before(cursor, oldest_kept)
        MonthEndSnapshot.objects.filter(month__lt=oldest_kept).delete()
        _drop_tables(cursor)
    return written


def risk_figures_rebuild(
    *, as_of: datetime.date, months: int = RISK_FIGURE_MONTHS, from_history: bool = False
) -> dict[str, int]:
    """Every figure of the `months` months up to as_of's, rewritten from the kept
    month-end snapshots (those missing or no longer the month end's written first);
    `from_history`: every snapshot written again from the change log and balances."""
    window = window_start(as_of, months)
    every = month_back(window, 1) if from_history else None
    return write_figures(first=window, as_of=as_of, window=window, recompute_from=every)


def risk_figures_refresh(dates: list[datetime.date], *, as_of: datetime.date) -> dict[str, int]:
    """After a load of `dates`: the months a load can change (module docstring),
    up to as_of's."""
    window = window_start(as_of)
    newest = RiskFigure.objects.aggregate(m=Max("month"))["m"]
    after_written = month_back(newest, -1) if newest is not None else window
    first = min(min(dates).replace(day=1), after_written, as_of.replace(day=1))
    return write_figures(first=first, as_of=as_of, window=window, recompute_from=first)

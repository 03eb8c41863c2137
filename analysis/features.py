"""The churn features of every customer as of a date (docs/analysis.md, "Churn
features"), written set-based into a temporary table that the nightly scoring and
the model training both read.

The features are read from the history tables only (monthly AUM, transaction
summaries, accounts and their daily balances, interactions, assignments), never
from the "current" columns a load refreshes, so that the same statement gives the
features at any past month end (training) as well as at the business date (the
nightly run). The one exception is the definition's own: an account that matured
counts as run off when it is closed now.

Portable SQL: the statement runs on PostgreSQL and SQLite 3.25+; the two date
differences and the greatest of several values are written per database
(`_DATE_SQL`).

The transactions of the window (the 90 days up to the date and the 90 before) are
counted from the summaries (`TX_COUNTED`), or, at night on PostgreSQL, carried from
the analysis rows of the night before (`TX_CARRIED`, `carried_window`): the same
counts from the few days that entered or left the window instead of its 180 days.

Ratios are rounded to 4 decimals, the precision `CustomerAnalysis` keeps, so that
training and scoring see the very figures the page shows; a ratio against a tiny
base (a few yuan three months before) is capped at `RATIO_CAP` so that one
customer's extreme jump can neither overflow a column nor swamp a model's scaling.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone

from core.months import month_back
from customers.choices import AccountCategory, AccountStatus, AssignmentRole, InteractionKind
from customers.models import BatchLoad, CustomerMerge, TransactionSummary

from .models import TransactionWindow

FEATURES = (
    "aum_change_3m",
    "aum_change_6m",
    "maturity_runoff",
    "outflow",
    "dormant_days",
    "txn_change",
    "complaints",
    "service_requests",
    "manager_changed",
)

# What the model reads of each feature, with the doc's imputation: a missing ratio
# counts as no change (0), a customer who never transacted as 0 days dormant, the
# boolean as 0/1 (it is stored as an integer already).
MODEL_INPUTS: dict[str, str] = {
    "aum_change_3m": "COALESCE(aum_change_3m, 0)",
    "aum_change_6m": "COALESCE(aum_change_6m, 0)",
    "maturity_runoff": "maturity_runoff",
    "outflow": "outflow",
    "dormant_days": "COALESCE(dormant_days, 0)",
    "txn_change": "COALESCE(txn_change, 0)",
    "complaints": "complaints",
    "service_requests": "service_requests",
    "manager_changed": "manager_changed",
}

# Categories whose accounts mature (a matured one not renewed is money leaving).
MATURING = (AccountCategory.DEP_TIME, AccountCategory.WEALTH, AccountCategory.INSURANCE)
RENEWAL_DAYS = 7  # a new account from this many days before the maturity renews it
RECENT_DAYS = 90
RATIO_CAP = 10000

_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")

COLUMNS_SQL = """
    customer_id BIGINT PRIMARY KEY,
    aum NUMERIC(18, 2) NOT NULL,
    aum_3m NUMERIC(18, 2) NOT NULL,
    aum_6m NUMERIC(18, 2) NOT NULL,
    aum_12m NUMERIC(18, 2) NOT NULL,
    aum_change_3m NUMERIC(12, 4),
    aum_change_6m NUMERIC(12, 4),
    maturity_runoff NUMERIC(18, 2) NOT NULL,
    outflow NUMERIC(18, 2) NOT NULL,
    dormant_days INTEGER,
    txn_change NUMERIC(12, 4),
    complaints INTEGER NOT NULL,
    service_requests INTEGER NOT NULL,
    manager_changed INTEGER NOT NULL,
    txn_recent INTEGER NOT NULL,
    txn_before INTEGER NOT NULL
"""

# What is spelled per database: days between two dates, a date less some days, the
# greatest of several values.
_DATE_SQL = {
    "postgresql": {
        "days_between": "(CAST({later} AS DATE) - CAST({earlier} AS DATE))",
        "minus_days": "(CAST({date} AS DATE) - {days})",
        "greatest": "GREATEST({values})",
    },
    "sqlite": {
        "days_between": "CAST(julianday({later}) - julianday({earlier}) AS INTEGER)",
        "minus_days": "date({date}, '-' || {days} || ' days')",
        "greatest": "MAX({values})",  # the scalar MAX of several values
    },
}


def _ratio(now: str, before: str) -> str:
    """now ÷ before − 1 to 4 decimals, capped; none when `before` is 0 or missing.
    `* 1.0` keeps SQLite from dividing integers as integers."""
    return (
        f"CASE WHEN {before} IS NULL OR {before} = 0 THEN NULL "
        f"WHEN {before} > 0 AND {now} > {RATIO_CAP + 1} * {before} THEN {RATIO_CAP} "
        f"ELSE ROUND({now} * 1.0 / {before} - 1, 4) END"
    )


def _largest_fall(ends: list[str], vendor: str) -> str:
    """The largest fall from one month-end to the next among `ends` (oldest first),
    0 if none fell."""
    falls = ", ".join(f"{a} - {b}" for a, b in zip(ends, ends[1:], strict=False))
    return _date_sql(vendor, "greatest").format(values=f"0, {falls}")


def _date_sql(vendor: str, name: str) -> str:
    return _DATE_SQL.get(vendor, _DATE_SQL["sqlite"])[name]


# Per customer, the transactions of the window's two halves and the last
# transaction (`customer_id, txn_recent, txn_before, last_txn, known`). Counted
# from the window's summaries, only the customers with one in the window have a
# row, and the last transaction of the others is looked up (`known` 0).
TX_COUNTED = """
        SELECT customer_id,
               SUM(CASE WHEN business_date > %(recent_start)s THEN txn_count ELSE 0 END) AS txn_recent,
               SUM(CASE WHEN business_date <= %(recent_start)s THEN txn_count ELSE 0 END) AS txn_before,
               MAX(business_date) AS last_txn,
               0 AS known
          FROM customers_transactionsummary
         WHERE business_date > %(before_start)s AND business_date <= %(as_of)s
         GROUP BY customer_id
"""

# Carried from the analysis rows as of an earlier date P (PostgreSQL): their counts,
# plus the days that entered the recent half, (P, as_of], moved from the recent
# half to the one before, (P - 90, as_of - 90], and left the window,
# (P - 180, as_of - 180]; the last transaction the later of the row's (as_of -
# dormant_days, forgotten when older than the oldest summary kept, as the count
# forgets it) and the new days'. Every analysed customer's last transaction is then
# known; the customers without a row (new since P) count their own summaries.
TX_CARRIED = """
        SELECT s.customer_id,
               s.txn_recent + COALESCE(d.txn_recent, 0) AS txn_recent,
               s.txn_before + COALESCE(d.txn_before, 0) AS txn_before,
               GREATEST(s.last_txn, d.last_txn) AS last_txn,
               1 AS known
          FROM (
                SELECT customer_id, txn_recent, txn_before,
                       CASE WHEN CAST(%(prev_as_of)s AS DATE) - dormant_days >= %(oldest)s
                            THEN CAST(%(prev_as_of)s AS DATE) - dormant_days END AS last_txn
                  FROM analysis_customeranalysis
               ) s
          LEFT JOIN (
                SELECT customer_id, SUM(recent) AS txn_recent, SUM(before) AS txn_before,
                       MAX(entered) AS last_txn
                  FROM (
                        SELECT customer_id, txn_count AS recent, 0 AS before, business_date AS entered
                          FROM customers_transactionsummary
                         WHERE business_date > %(prev_as_of)s AND business_date <= %(as_of)s
                        UNION ALL
                        SELECT customer_id, -txn_count, txn_count, NULL
                          FROM customers_transactionsummary
                         WHERE business_date > %(prev_recent_start)s AND business_date <= %(recent_start)s
                        UNION ALL
                        SELECT customer_id, 0, -txn_count, NULL
                          FROM customers_transactionsummary
                         WHERE business_date > %(prev_before_start)s AND business_date <= %(before_start)s
                       ) days
                 GROUP BY customer_id
               ) d ON d.customer_id = s.customer_id
        UNION ALL
        SELECT c.id, COALESCE(h.txn_recent, 0), COALESCE(h.txn_before, 0), h.last_txn, 1
          FROM customers_customer c
         CROSS JOIN LATERAL (
                SELECT SUM(CASE WHEN t.business_date > %(recent_start)s THEN t.txn_count END) AS txn_recent,
                       SUM(CASE WHEN t.business_date > %(before_start)s
                                 AND t.business_date <= %(recent_start)s THEN t.txn_count END) AS txn_before,
                       MAX(t.business_date) AS last_txn
                  FROM customers_transactionsummary t
                 WHERE t.customer_id = c.id AND t.business_date <= %(as_of)s
               ) h
         WHERE c.merged_into_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM analysis_customeranalysis a WHERE a.customer_id = c.id)
"""


def _features_sql(table: str, vendor: str, tx: str = TX_COUNTED) -> str:
    dormant = _date_sql(vendor, "days_between").format(later="%(as_of)s", earlier="f.last_txn")
    renewal_from = _date_sql(vendor, "minus_days").format(date="a.maturity_date", days=RENEWAL_DAYS)
    maturing = ", ".join(f"'{category}'" for category in MATURING)
    ends = ["COALESCE(f.e3, 0)", "COALESCE(f.e2, 0)", "COALESCE(f.e1, 0)", "COALESCE(f.e0, 0)"]
    return f"""
INSERT INTO {table} (
    customer_id, aum, aum_3m, aum_6m, aum_12m,
    aum_change_3m, aum_change_6m, maturity_runoff, outflow, dormant_days, txn_change,
    complaints, service_requests, manager_changed, txn_recent, txn_before
)
SELECT f.customer_id,
       COALESCE(f.a0, 0), COALESCE(f.a3, 0), COALESCE(f.a6, 0), COALESCE(f.a12, 0),
       {_ratio("COALESCE(f.a0, 0)", "f.a3")},
       {_ratio("COALESCE(f.a0, 0)", "f.a6")},
       COALESCE(f.runoff, 0),
       {_largest_fall(ends, vendor)},
       CASE WHEN f.last_txn IS NULL THEN NULL ELSE {dormant} END,
       {_ratio("COALESCE(f.txn_recent, 0)", "f.txn_before")},
       COALESCE(f.complaints, 0),
       COALESCE(f.service_requests, 0),
       COALESCE(f.manager_changed, 0),
       COALESCE(f.txn_recent, 0), COALESCE(f.txn_before, 0)
  FROM (
        SELECT c.id AS customer_id,
               ma.a0, ma.a3, ma.a6, ma.a12, ma.e0, ma.e1, ma.e2, ma.e3,
               ro.runoff,
               tx.txn_recent, tx.txn_before,
               -- the last transaction: from the window's (already aggregated), else
               -- looked up by index for the customers without one, unless known
               COALESCE(
                   tx.last_txn,
                   CASE WHEN tx.known = 1 THEN NULL ELSE
                       (SELECT MAX(t.business_date)
                          FROM customers_transactionsummary t
                         WHERE t.customer_id = c.id AND t.business_date <= %(as_of)s)
                   END
               ) AS last_txn,
               ia.complaints, ia.service_requests,
               mg.changed AS manager_changed
          FROM customers_customer c
          LEFT JOIN (
                SELECT customer_id,
                       MAX(CASE WHEN month = %(m0)s THEN avg_aum END) AS a0,
                       MAX(CASE WHEN month = %(m3)s THEN avg_aum END) AS a3,
                       MAX(CASE WHEN month = %(m6)s THEN avg_aum END) AS a6,
                       MAX(CASE WHEN month = %(m12)s THEN avg_aum END) AS a12,
                       MAX(CASE WHEN month = %(m0)s THEN end_aum END) AS e0,
                       MAX(CASE WHEN month = %(m1)s THEN end_aum END) AS e1,
                       MAX(CASE WHEN month = %(m2)s THEN end_aum END) AS e2,
                       MAX(CASE WHEN month = %(m3)s THEN end_aum END) AS e3
                  FROM customers_customermonthlyaum
                 WHERE month IN (%(m0)s, %(m1)s, %(m2)s, %(m3)s, %(m6)s, %(m12)s)
                 GROUP BY customer_id
               ) ma ON ma.customer_id = c.id
          LEFT JOIN ({tx}) tx ON tx.customer_id = c.id
          LEFT JOIN (
                SELECT a.customer_id,
                       SUM(COALESCE((
                           SELECT b.cny_balance
                             FROM customers_accountbalance b
                            WHERE b.account_id = a.id AND b.business_date <= a.maturity_date
                            ORDER BY b.business_date DESC
                            LIMIT 1
                       ), 0)) AS runoff
                  FROM customers_account a
                 WHERE a.category IN ({maturing})
                   AND a.status = %(closed)s
                   AND a.maturity_date > %(recent_start)s AND a.maturity_date <= %(as_of)s
                   AND NOT EXISTS (
                        SELECT 1
                          FROM customers_account n
                         WHERE n.customer_id = a.customer_id
                           AND n.category = a.category
                           AND n.id <> a.id
                           AND n.open_date >= {renewal_from}
                           AND n.open_date <= %(as_of)s
                   )
                 GROUP BY a.customer_id
               ) ro ON ro.customer_id = c.id
          LEFT JOIN (
                SELECT customer_id,
                       SUM(CASE WHEN kind = %(complaint)s THEN 1 ELSE 0 END) AS complaints,
                       SUM(CASE WHEN kind = %(service_request)s THEN 1 ELSE 0 END) AS service_requests
                  FROM customers_interaction
                 WHERE kind IN (%(complaint)s, %(service_request)s)
                   AND occurred_at >= %(year_from)s AND occurred_at < %(day_after)s
                 GROUP BY customer_id
               ) ia ON ia.customer_id = c.id
          LEFT JOIN (
                -- only the customers whose manager of record started lately, and
                -- of them those who had one before
                SELECT n.customer_id, 1 AS changed
                  FROM (
                        SELECT customer_id, MAX(start_date) AS newest
                          FROM customers_customerassignment
                         WHERE role = %(primary)s
                           AND start_date > %(recent_start)s AND start_date <= %(as_of)s
                         GROUP BY customer_id
                       ) n
                 WHERE EXISTS (
                        SELECT 1
                          FROM customers_customerassignment e
                         WHERE e.customer_id = n.customer_id
                           AND e.role = %(primary)s
                           AND e.start_date < n.newest
                 )
               ) mg ON mg.customer_id = c.id
         WHERE c.merged_into_id IS NULL
       ) f
"""


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` months earlier (the month's last day when it has fewer)."""
    month = month_back(day.replace(day=1), months)
    following = month_back(month, -1)
    last = (following - datetime.timedelta(days=1)).day
    return month.replace(day=min(day.day, last))


def _moment(day: datetime.date):
    """Local midnight starting `day`, as the database compares datetimes."""
    value = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return connection.ops.adapt_datetimefield_value(value)


def feature_params(as_of: datetime.date) -> dict:
    month = as_of.replace(day=1)
    recent_start = as_of - datetime.timedelta(days=RECENT_DAYS)
    return {
        "as_of": as_of,
        "m0": month,
        "m1": month_back(month, 1),
        "m2": month_back(month, 2),
        "m3": month_back(month, 3),
        "m6": month_back(month, 6),
        "m12": month_back(month, 12),
        "recent_start": recent_start,
        "before_start": recent_start - datetime.timedelta(days=RECENT_DAYS),
        "closed": AccountStatus.CLOSED.value,
        "complaint": InteractionKind.COMPLAINT.value,
        "service_request": InteractionKind.SERVICE_REQUEST.value,
        "primary": AssignmentRole.PRIMARY.value,
        # the 12 months up to as_of: (as_of - 12 months, as_of]
        "year_from": _moment(months_before(as_of, 12) + datetime.timedelta(days=1)),
        "day_after": _moment(as_of + datetime.timedelta(days=1)),
    }


@dataclass(frozen=True)
class Carried:
    """The analysis rows' transaction counts can be carried forward: they were
    counted as of `as_of`, and the oldest summary kept is of `oldest`."""

    as_of: datetime.date
    oldest: datetime.date


def carried_window(as_of: datetime.date) -> Carried | None:
    """Whether tonight's transaction counts as of `as_of` can be derived from the
    analysis rows' (`TX_CARRIED`) instead of counting the window's summaries again:
    on PostgreSQL, when the rows were counted as of an earlier date P with today's
    window, and nothing they were counted from changed since they were written: no
    batch of a date up to P loaded after (or still loading), no customer merged
    after (a merge folds one's summaries into the other's), and the days leaving
    the window still kept (the history reaches back past P - 180 days). Else None:
    count them again."""
    if connection.vendor != "postgresql":
        return None
    window = TransactionWindow.objects.first()
    if window is None or window.recent_days != RECENT_DAYS or not window.as_of < as_of:
        return None
    changed = BatchLoad.objects.filter(business_date__lte=window.as_of, started_at__isnull=False).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=window.written_at)
    )
    if changed.exists() or CustomerMerge.objects.filter(merged_at__gte=window.written_at).exists():
        return None
    oldest = TransactionSummary.objects.aggregate(oldest=Min("business_date"))["oldest"]
    if oldest is None or oldest > window.as_of - datetime.timedelta(days=2 * RECENT_DAYS - 1):
        return None
    return Carried(as_of=window.as_of, oldest=oldest)


def write_features(
    cursor, as_of: datetime.date, table: str = "analysis_features", *, carried: Carried | None = None
) -> None:
    """(Re)create the temporary table `table`: one row per customer (merged records
    left out) with their month-average AUM now and 3, 6 and 12 months before (0 when
    none), every feature of FEATURES as of `as_of` and the transactions txn_change
    compares. `carried` (from `carried_window`): the transactions are derived from
    the analysis rows' instead of counted again, with the same result. The table
    lives as long as the connection; a later call replaces it."""
    if not _TABLE.fullmatch(table):
        raise ValueError(f"not a table name: {table!r}")
    params = feature_params(as_of)
    tx = TX_COUNTED
    if carried is not None:
        tx = TX_CARRIED
        params |= {
            "prev_as_of": carried.as_of,
            "oldest": carried.oldest,
            "prev_recent_start": carried.as_of - datetime.timedelta(days=RECENT_DAYS),
            "prev_before_start": carried.as_of - datetime.timedelta(days=2 * RECENT_DAYS),
        }
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMPORARY TABLE {table} ({COLUMNS_SQL})")
    cursor.execute(_features_sql(table, connection.vendor, tx), params)
    if connection.vendor == "postgresql":
        # Temporary tables are never analysed by autovacuum: the joins that read this
        # one plan with its real size.
        cursor.execute(f"ANALYZE {table}")

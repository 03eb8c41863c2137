"""The nightly marketing profile: RFM quintiles and the AUM history the segment
rules read, for every customer, in one INSERT ... SELECT (portable SQL: the same
statement runs on PostgreSQL and SQLite 3.25+).

- Recency: the latest business date with a transaction in the window; frequency:
  the number of transactions; monetary: their amount (transaction summaries of the
  last `window_days` days up to `as_of`).
- Scores: NTILE(5) over the customers with transactions in the window (5 = most
  recent, most frequent, largest). NTILE splits a run of equal values across two
  quintiles arbitrarily; equal values get the highest quintile their run reaches
  instead (MAX(...) OVER (PARTITION BY value)), so two customers who last
  transacted on the same day always share their recency score. Customers without
  transactions in the window have no scores (NULL). Only the customers profiled
  count: the summaries of a merged record (loaded after its merge) or of a customer
  that no longer exists take no part in the quintiles.
- Last transaction ever (for dormancy), and the month-average AUM of this month
  and of 1, 3, 6 and 12 months before (0 when the customer held nothing then).

The table is rebuilt in one transaction (DELETE + INSERT): readers see last
night's profile until the new one commits, and a re-run gives the same rows.

Full rebuild or incremental night. The full rebuild reads every summary ever (the
last transaction) and the whole window. On PostgreSQL the nightly step passes the
business dates it just loaded (`loaded`), and when the profile in the table is the
one of an earlier date P, built with the same window, and nothing it was computed
from has changed since (no date up to P reloaded, no profiled customer merged
since) the new profile is derived from it instead, reading a few days of
summaries (the table is partitioned by month):

- window sums: the profile's frequency and monetary (the window up to P), plus the
  summaries of the days (P, as_of], minus those of the days that left the window,
  (P - window, as_of - window];
- last transaction ever: the later of the profile's and the newest of the new
  days. A customer is in the window iff that date is after as_of - window (a
  summary row in the window, whatever its count), and then it is its recency date;
- customers without a profile row (new since P) from their own history;
- the scores and the monthly AUM as in the full rebuild (the same SQL).

The result equals the full rebuild row for row, including when the oldest months
of history have been retired (`customers.partitions`) since P: a last
transaction older than the oldest summary left is forgotten, as the full rebuild
forgets it. The days leaving the window must still be there to be subtracted:
while the history is younger than the window, or if it were ever retired into
the previous window (the window is shorter than the history kept), the night is
a full rebuild. The window the previous profile was built with is not stored:
it is checked against the profile's rows (a customer is scored iff its last
transaction is within the window), which catches a change of WINDOW_DAYS as soon
as any customer's last transaction lies between the two windows' starts; after
changing WINDOW_DAYS, rebuild in full once (the `marketing.profile_refresh`
task) to be sure. Any other case (SQLite, a caller without `loaded`, an empty
or mixed profile) is a full rebuild.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from core.months import month_back

WINDOW_DAYS = 365

_PROFILE_INSERT = """
INSERT INTO marketing_marketingprofile (
    customer_id, as_of, last_txn_date, frequency, monetary,
    recency_score, frequency_score, monetary_score, rfm_score,
    aum_now, aum_1m, aum_3m, aum_6m, aum_12m
)
SELECT c.id, %(as_of)s, lt.last_date,
       COALESCE(s.freq, 0), COALESCE(s.amount, 0),
       s.r, s.f, s.m, s.r + s.f + s.m,
       COALESCE(ma.a0, 0), COALESCE(ma.a1, 0), COALESCE(ma.a3, 0), COALESCE(ma.a6, 0), COALESCE(ma.a12, 0)
  FROM customers_customer c
  LEFT JOIN ({last}) lt ON lt.customer_id = c.id
  LEFT JOIN (
        SELECT customer_id, freq, amount,
               MAX(r0) OVER (PARTITION BY recent) AS r,
               MAX(f0) OVER (PARTITION BY freq) AS f,
               MAX(m0) OVER (PARTITION BY amount) AS m
          FROM (
                SELECT w.customer_id, w.recent, w.freq, w.amount,
                       NTILE(5) OVER (ORDER BY w.recent, w.customer_id) AS r0,
                       NTILE(5) OVER (ORDER BY w.freq, w.customer_id) AS f0,
                       NTILE(5) OVER (ORDER BY w.amount, w.customer_id) AS m0
                  FROM ({window}) w
                  JOIN customers_customer wc ON wc.id = w.customer_id AND wc.merged_into_id IS NULL
               ) n
       ) s ON s.customer_id = c.id
  LEFT JOIN (
        SELECT customer_id,
               MAX(CASE WHEN month = %(m0)s THEN avg_aum END) AS a0,
               MAX(CASE WHEN month = %(m1)s THEN avg_aum END) AS a1,
               MAX(CASE WHEN month = %(m3)s THEN avg_aum END) AS a3,
               MAX(CASE WHEN month = %(m6)s THEN avg_aum END) AS a6,
               MAX(CASE WHEN month = %(m12)s THEN avg_aum END) AS a12
          FROM customers_customermonthlyaum
         WHERE month IN (%(m0)s, %(m1)s, %(m3)s, %(m6)s, %(m12)s)
         GROUP BY customer_id
       ) ma ON ma.customer_id = c.id
 WHERE c.merged_into_id IS NULL
"""


def _profile_sql(*, last: str, window: str) -> str:
    """The profile's INSERT ... SELECT, given per customer its last transaction
    (`customer_id, last_date`) and its window figures (`customer_id, recent, freq,
    amount`, only the customers with a summary row in the window)."""
    return _PROFILE_INSERT.replace("{last}", last).replace("{window}", window)


# The full rebuild: every summary ever, and the whole window.
PROFILE_SQL = _profile_sql(
    last="""
        SELECT customer_id, MAX(business_date) AS last_date
          FROM customers_transactionsummary
         WHERE business_date <= %(as_of)s
         GROUP BY customer_id
    """,
    window="""
        SELECT customer_id, MAX(business_date) AS recent,
               SUM(txn_count) AS freq, SUM(txn_amount) AS amount
          FROM customers_transactionsummary
         WHERE business_date > %(window_start)s AND business_date <= %(as_of)s
         GROUP BY customer_id
    """,
)

# The incremental night (PostgreSQL): each customer's last transaction and window
# sums as of `as_of`, from last night's profile (as of `prev_as_of`) and the days
# that entered and left the window, into a temporary table read after the DELETE.
# Customers without a profile row (new since) read their own history (by index).
STATE_TABLE = "marketing_rfm_state"
STATE_SQL = f"""
CREATE TEMPORARY TABLE {STATE_TABLE} ON COMMIT DROP AS
WITH added AS (
        SELECT customer_id, MAX(business_date) AS last_date,
               SUM(txn_count) AS freq, SUM(txn_amount) AS amount
          FROM customers_transactionsummary
         WHERE business_date > %(prev_as_of)s AND business_date <= %(as_of)s
         GROUP BY customer_id
     ),
     dropped AS (
        SELECT customer_id, SUM(txn_count) AS freq, SUM(txn_amount) AS amount
          FROM customers_transactionsummary
         WHERE business_date > %(prev_window_start)s AND business_date <= %(window_start)s
         GROUP BY customer_id
     )
SELECT p.customer_id,
       GREATEST(CASE WHEN p.last_txn_date >= %(oldest)s THEN p.last_txn_date END, a.last_date) AS last_date,
       p.frequency + COALESCE(a.freq, 0) - COALESCE(d.freq, 0) AS freq,
       p.monetary + COALESCE(a.amount, 0) - COALESCE(d.amount, 0) AS amount
  FROM marketing_marketingprofile p
  LEFT JOIN added a ON a.customer_id = p.customer_id
  LEFT JOIN dropped d ON d.customer_id = p.customer_id
UNION ALL
SELECT c.id, h.last_date, h.freq, h.amount
  FROM customers_customer c
 CROSS JOIN LATERAL (
        SELECT MAX(t.business_date) AS last_date,
               SUM(CASE WHEN t.business_date > %(window_start)s THEN t.txn_count END) AS freq,
               SUM(CASE WHEN t.business_date > %(window_start)s THEN t.txn_amount END) AS amount
          FROM customers_transactionsummary t
         WHERE t.customer_id = c.id AND t.business_date <= %(as_of)s
       ) h
 WHERE c.merged_into_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM marketing_marketingprofile p WHERE p.customer_id = c.id)
"""
INCREMENTAL_SQL = _profile_sql(
    last=f"SELECT customer_id, last_date FROM {STATE_TABLE}",
    window=f"""
        SELECT customer_id, last_date AS recent, freq, amount
          FROM {STATE_TABLE}
         WHERE last_date > %(window_start)s
    """,
)

# What decides whether last night's profile can be carried forward: its dates, a
# profiled customer merged since, and whether its scored customers match the window
# (scored iff the last transaction is within the window before its date).
PREVIOUS_SQL = """
SELECT MIN(p.as_of), MAX(p.as_of),
       COALESCE(BOOL_OR(c.merged_into_id IS NOT NULL), FALSE),
       COALESCE(BOOL_OR((p.recency_score IS NOT NULL)
                        <> COALESCE(p.last_txn_date > p.as_of - %(window_days)s, FALSE)), FALSE)
  FROM marketing_marketingprofile p
  LEFT JOIN customers_customer c ON c.id = p.customer_id
"""


def _previous_profile(
    cursor: CursorWrapper, as_of: datetime.date, window_days: int, loaded: Iterable[datetime.date] | None
) -> tuple[datetime.date, datetime.date] | None:
    """The date of the profile in the table and the oldest summary's date when the
    new profile can be derived from it (see the module docstring), else None (a
    full rebuild)."""
    if connection.vendor != "postgresql" or loaded is None:
        return None
    loaded = list(loaded)
    if not loaded:
        return None
    cursor.execute(PREVIOUS_SQL, {"window_days": window_days})
    first, last, merged, other_window = cursor.fetchone()
    if first is None or first != last or not first < as_of or not min(loaded) > first:
        return None
    if merged or other_window:
        return None
    # The days leaving the window must still be there to be subtracted: not when
    # history was retired into the previous window (or is younger than it).
    cursor.execute("SELECT MIN(business_date) FROM customers_transactionsummary")
    (oldest,) = cursor.fetchone()
    if oldest is None or oldest > first - datetime.timedelta(days=window_days - 1):
        return None
    return first, oldest


@transaction.atomic
def profile_refresh(
    as_of: datetime.date,
    *,
    window_days: int = WINDOW_DAYS,
    loaded: Iterable[datetime.date] | None = None,
) -> int:
    """Rebuild the marketing profile for business date `as_of`; returns the rows.
    `loaded`: the business dates the night's load just loaded, which lets
    PostgreSQL derive the profile from last night's (the same rows)."""
    month = as_of.replace(day=1)
    window_start = as_of - datetime.timedelta(days=window_days)
    params = {
        "as_of": as_of,
        "window_start": window_start,
        "m0": month,
        "m1": month_back(month, 1),
        "m3": month_back(month, 3),
        "m6": month_back(month, 6),
        "m12": month_back(month, 12),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The window sorts of a million rows fit in memory instead of spilling.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # One refresh at a time (readers go on reading): the next one starts
            # from the profile this one commits.
            cursor.execute("LOCK TABLE marketing_marketingprofile IN SHARE ROW EXCLUSIVE MODE")
        previous = _previous_profile(cursor, as_of, window_days, loaded)
        if previous is None:
            cursor.execute("DELETE FROM marketing_marketingprofile")
            cursor.execute(PROFILE_SQL, params)
            return cursor.rowcount
        prev_as_of, oldest = previous
        state = {
            **params,
            "prev_as_of": prev_as_of,
            "prev_window_start": prev_as_of - datetime.timedelta(days=window_days),
            "oldest": oldest,
        }
        cursor.execute(STATE_SQL, state)
        cursor.execute(f"ANALYZE {STATE_TABLE}")
        cursor.execute("DELETE FROM marketing_marketingprofile")
        cursor.execute(INCREMENTAL_SQL, params)
        rows = cursor.rowcount
        cursor.execute(f"DROP TABLE {STATE_TABLE}")
        return rows

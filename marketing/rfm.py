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
  transactions in the window have no scores (NULL).
- Last transaction ever (for dormancy), and the month-average AUM of this month
  and of 1, 3, 6 and 12 months before (0 when the customer held nothing then).

The table is rebuilt in one transaction (DELETE + INSERT): readers see last
night's profile until the new one commits, and a re-run gives the same rows.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction

from core.months import month_back

WINDOW_DAYS = 365


PROFILE_SQL = """
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
  LEFT JOIN (
        SELECT customer_id, MAX(business_date) AS last_date
          FROM customers_transactionsummary
         WHERE business_date <= %(as_of)s
         GROUP BY customer_id
       ) lt ON lt.customer_id = c.id
  LEFT JOIN (
        SELECT customer_id, freq, amount,
               MAX(r0) OVER (PARTITION BY recent) AS r,
               MAX(f0) OVER (PARTITION BY freq) AS f,
               MAX(m0) OVER (PARTITION BY amount) AS m
          FROM (
                SELECT customer_id, recent, freq, amount,
                       NTILE(5) OVER (ORDER BY recent, customer_id) AS r0,
                       NTILE(5) OVER (ORDER BY freq, customer_id) AS f0,
                       NTILE(5) OVER (ORDER BY amount, customer_id) AS m0
                  FROM (
                        SELECT customer_id, MAX(business_date) AS recent,
                               SUM(txn_count) AS freq, SUM(txn_amount) AS amount
                          FROM customers_transactionsummary
                         WHERE business_date > %(window_start)s AND business_date <= %(as_of)s
                         GROUP BY customer_id
                       ) w
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


@transaction.atomic
def profile_refresh(as_of: datetime.date, *, window_days: int = WINDOW_DAYS) -> int:
    """Rebuild the marketing profile for business date `as_of`; returns the rows."""
    month = as_of.replace(day=1)
    params = {
        "as_of": as_of,
        "window_start": as_of - datetime.timedelta(days=window_days),
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
        cursor.execute("DELETE FROM marketing_marketingprofile")
        cursor.execute(PROFILE_SQL, params)
        return cursor.rowcount

"""AUM per customer per day, month-average AUM and the latest figures on the
customer and account rows, recomputed from one business date's balances.

Set-based: a handful of INSERT ... SELECT ... ON CONFLICT and UPDATE ... FROM
statements, whatever the number of customers (the same SQL runs on PostgreSQL and
on SQLite 3.33+). Running it twice for the same date gives the same result. On
PostgreSQL the night's run splits its writes over several connections
(`aum_refresh`)."""

from __future__ import annotations

import datetime
from collections import Counter
from functools import partial

from django.db import connection, transaction

from core.parallel import bulk_writers, id_ranges, side_by_side

from .choices import ASSET_CATEGORIES, LIABILITY_CATEGORIES, AccountCategory
from .models import Customer, MonthlyAumBuild

# The categories with a column of their own in CustomerDailyAum (the performance
# figures price each of them with its own FTP spread).
PRICED_CATEGORIES = (
    AccountCategory.DEP_CUR,
    AccountCategory.DEP_TIME,
    AccountCategory.LOAN_MORTGAGE,
    AccountCategory.LOAN_CONSUMER,
    AccountCategory.LOAN_BUSINESS,
    AccountCategory.CREDIT_CARD,
)
# The amounts of a CustomerDailyAum row (what a merge of two customers adds up).
DAILY_SUMS = ("aum", "liabilities", *(c.lower() for c in PRICED_CATEGORIES))


def _in_list(values) -> str:
    # Category codes are our own constants, never user input.
    return ", ".join(f"'{v}'" for v in sorted(str(x) for x in values))


def write_daily_figures(business_date: datetime.date) -> int:
    """One business date's CustomerDailyAum rows, replaced from that date's balances:
    per customer the AUM, the liabilities and the balance of each priced category.
    Returns the number of rows written."""
    assets, liabilities = _in_list(ASSET_CATEGORIES), _in_list(LIABILITY_CATEGORIES)
    priced = ", ".join(c.lower() for c in PRICED_CATEGORIES)
    sums = ", ".join(
        f"COALESCE(SUM(CASE WHEN a.category = '{c}' THEN b.cny_balance END), 0)" for c in PRICED_CATEGORIES
    )
    with connection.cursor() as cur:
        cur.execute("DELETE FROM customers_customerdailyaum WHERE business_date = %s", [business_date])
        cur.execute(
            f"""
            INSERT INTO customers_customerdailyaum (business_date, customer_id, aum, liabilities, {priced})
            SELECT %s, a.customer_id,
                   COALESCE(SUM(CASE WHEN a.category IN ({assets}) THEN b.cny_balance END), 0),
                   COALESCE(SUM(CASE WHEN a.category IN ({liabilities}) THEN b.cny_balance END), 0),
                   {sums}
              FROM customers_accountbalance b
              JOIN customers_account a ON a.id = b.account_id
             WHERE b.business_date = %s
             GROUP BY a.customer_id
            """,
            [business_date, business_date],
        )
        return cur.rowcount


def aum_refresh(business_date: datetime.date) -> dict[str, int]:
    """The accounts' latest balances, the day's and the month's figures per customer,
    then the latest figures on the customer rows, for `business_date`. Returns the
    rows written by each part.

    On PostgreSQL outside a transaction the customer rows, the night's largest
    write (each moved AUM is an entry in every index of the customer table), are
    split by ranges of ids over BULK_WRITERS connections (core.parallel), after
    the accounts, the day and the month are committed. Each part commits on its
    own; running the refresh again for the same date gives the same result, so a
    failed part leaves the night's steps owed and the next run puts it right.
    Elsewhere, or inside a transaction, all in one transaction."""
    writers = bulk_writers()
    if writers == 1:
        with transaction.atomic():
            return _aum_refresh(business_date, 1)
    return _aum_refresh(business_date, writers)


def _aum_refresh(business_date: datetime.date, writers: int) -> dict[str, int]:
    # The accounts, the day and the month first, in one transaction: side by side
    # they slowed each other (the day's figures read the account rows being
    # rewritten) and the pair took as long as one after the other.
    counts: Counter[str] = Counter()
    with transaction.atomic():
        counts.update(_latest_balances(business_date))
        counts["daily_aum"] = write_daily_figures(business_date)
        counts["monthly_aum"] = _month_so_far(business_date)
    ranges = id_ranges(Customer._meta.db_table, writers)
    for part in side_by_side(
        *(partial(_customer_figures, business_date, first, last) for first, last in ranges)
    ):
        counts.update(part)
    return {name: counts[name] for name in ("accounts", "daily_aum", "monthly_aum", "customers", "emptied")}


def _latest_balances(business_date: datetime.date) -> dict[str, int]:
    """The latest balance on each account with one that day."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE customers_account SET balance = b.balance, cny_balance = b.cny_balance,
                   balance_date = b.business_date
              FROM customers_accountbalance b
             WHERE b.account_id = customers_account.id AND b.business_date = %s
            """,
            [business_date],
        )
        return {"accounts": cursor.rowcount}


def _customer_figures(business_date: datetime.date, first: int, last: int) -> dict[str, int]:
    """The latest figures on the rows of the customers with ids `first`..`last`,
    written only where they change; those with no balance left that day hold
    nothing. Returns the rows changed ("customers") and emptied."""
    month_start = business_date.replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE customers_customer
               SET aum = d.aum, liabilities = d.liabilities, aum_date = d.business_date,
                   month_avg_aum = m.avg_aum
              FROM customers_customerdailyaum d
              JOIN customers_customermonthlyaum m
                ON m.customer_id = d.customer_id AND m.month = %s
             WHERE d.customer_id = customers_customer.id AND d.business_date = %s
               AND d.customer_id BETWEEN %s AND %s AND m.customer_id BETWEEN %s AND %s
               AND customers_customer.id BETWEEN %s AND %s
               AND (customers_customer.aum <> d.aum OR customers_customer.liabilities <> d.liabilities
                    OR customers_customer.month_avg_aum <> m.avg_aum
                    OR customers_customer.aum_date IS NULL OR customers_customer.aum_date <> d.business_date)
            """,
            [month_start, business_date, first, last, first, last, first, last],
        )
        changed = cursor.rowcount
        cursor.execute(
            """
            UPDATE customers_customer SET aum = 0, liabilities = 0, aum_date = %s,
                   month_avg_aum = COALESCE((SELECT m.avg_aum FROM customers_customermonthlyaum m
                                              WHERE m.customer_id = customers_customer.id
                                                AND m.month = %s), 0)
             WHERE id BETWEEN %s AND %s
               AND (aum <> 0 OR liabilities <> 0) AND (aum_date IS NULL OR aum_date < %s)
               AND NOT EXISTS (SELECT 1 FROM customers_customerdailyaum d
                                WHERE d.customer_id = customers_customer.id AND d.business_date = %s)
            """,
            [business_date, month_start, first, last, business_date, business_date],
        )
        return {"customers": changed, "emptied": cursor.rowcount}


def _month_so_far(business_date: datetime.date) -> int:
    """Each customer's month so far as of `business_date`: the sums of the month's
    daily AUM and liabilities, their averages over the calendar days elapsed, the
    day's AUM as the month end and the days with balances. The next date of the
    month (the build's `through` before it: an ordinary night) adds its days to the
    sums kept on the rows, so a night costs the same on the 1st and the 30th; any
    other date (the month's first, a batch loaded again, an older one) sums the
    month's days again. Returns the number of rows written."""
    month_start = business_date.replace(day=1)
    build = MonthlyAumBuild.objects.filter(month=month_start).first()
    adding = build is not None and build.through < business_date
    since = build.through if build is not None and adding else month_start - datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        if not adding:
            # summed again: as of this date, a customer without a day of the month so far
            # has no row (a row left from a later date would be added to again)
            cursor.execute("DELETE FROM customers_customermonthlyaum WHERE month = %s", [month_start])
        # the month's rows so far (when adding) and the new days' rows, in customer order
        # (both read by index), summed per customer
        kept = (
            "SELECT customer_id, aum_sum AS a, liabilities_sum AS l, days AS n, 0 AS e "
            "FROM customers_customermonthlyaum WHERE month = %s UNION ALL "
            if adding
            else ""
        )
        cursor.execute(
            f"""
            INSERT INTO customers_customermonthlyaum
                   (customer_id, month, avg_aum, end_aum, avg_liabilities, days, aum_sum, liabilities_sum)
            SELECT customer_id, %s, ROUND(SUM(a) * 1.0 / %s, 2), SUM(e), ROUND(SUM(l) * 1.0 / %s, 2),
                   SUM(n), ROUND(SUM(a), 2), ROUND(SUM(l), 2)
              FROM ({kept}SELECT d.customer_id, d.aum AS a, d.liabilities AS l, 1 AS n,
                           CASE WHEN d.business_date = %s THEN d.aum ELSE 0 END AS e
                      FROM customers_customerdailyaum d
                     WHERE d.business_date > %s AND d.business_date <= %s
                     ORDER BY 1) AS days
             GROUP BY customer_id
            ON CONFLICT (customer_id, month) DO UPDATE
               SET avg_aum = excluded.avg_aum, end_aum = excluded.end_aum,
                   avg_liabilities = excluded.avg_liabilities, days = excluded.days,
                   aum_sum = excluded.aum_sum, liabilities_sum = excluded.liabilities_sum
            """,
            [
                month_start,
                business_date.day,
                business_date.day,
                *([month_start] if adding else []),
                business_date,
                since,
                business_date,
            ],
        )
        written = cursor.rowcount
    MonthlyAumBuild.objects.update_or_create(month=month_start, defaults={"through": business_date})
    return written

"""The history backfill: what the portal knows about the demo customers' past, set-based.

A demo customer is generated with the accounts and balances of the business date
(`demo.people`). Their history -- the daily AUM of the month so far and the monthly
AUM of the twelve months before, which the tier evaluation's windows, the VIP
history and the marketing profile read -- is derived from those rows in SQL
(``INSERT ... SELECT``, the same statements on PostgreSQL and SQLite), chunk by chunk.
Loading some 390 daily batches through the loader would take far longer than a
demo is worth, so the days before the business date are written here.
The account balances of the business days of the previous month and of this month
so far, which the performance figures count, are written after the seeding by
`demo.loaded_days`, from these rows: on every day of this month a customer's asset
accounts add up to the daily AUM written here.

The business date itself comes through the real load in `manage.py seed_demo`
(`demo.business_day`): the day's balances and transactions are in its batch and the
jobs after the load compute the day's AUM. `latest_day=True` derives that day here
too (its balances from the account rows, its daily AUM from the customer rows), for
a database seeded without a load: the benchmarks and the generator's own tests.

Consistency: the month's daily AUM add up to the month-average AUM the generator
chose, so `customers.aum.aum_refresh(business date)` -- run after the load, or on
rows seeded with `latest_day=True` -- computes that same average, to the cent.
"""

from __future__ import annotations

import datetime
import time

from django.db import connection
from django.db.models import Model

from customers.models import Account, AccountBalance, Customer, CustomerDailyAum, CustomerMonthlyAum

from .tables import SeedStats

# The tables written here (the seeding refreshes their planner statistics).
HISTORY_TABLES: tuple[type[Model], ...] = (AccountBalance, CustomerDailyAum, CustomerMonthlyAum)


def _days_in_month(month: datetime.date) -> int:
    nxt = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return (nxt - month).days


def derive_history(
    *, first_no: str, last_no: str, latest: datetime.date, stats: SeedStats, latest_day: bool = True
) -> None:
    """Daily AUM for the month so far and monthly AUM for 13 months of the customers
    numbered first_no..last_no, from their customer rows; with `latest_day`, also the
    business date's balances (from the account rows) and daily AUM."""
    qn = connection.ops.quote_name
    date = connection.ops.adapt_datefield_value
    customer, account = qn(Customer._meta.db_table), qn(Account._meta.db_table)
    balance_t = qn(AccountBalance._meta.db_table)
    daily_t, monthly_t = qn(CustomerDailyAum._meta.db_table), qn(CustomerMonthlyAum._meta.db_table)
    month = latest.replace(day=1)
    days = latest.day

    def run(table: str, sql: str, params: list) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = max(cursor.rowcount, 0)
        stats.add(table.strip('"'), rows, time.perf_counter() - started)

    if latest_day:
        run(
            balance_t,
            f"""INSERT INTO {balance_t} (business_date, account_id, balance, cny_balance)
                SELECT a.balance_date, a.id, a.balance, a.cny_balance FROM {account} a
                 WHERE a.status <> 'C' AND a.balance_date IS NOT NULL
                   AND a.customer_id IN (SELECT id FROM {customer} WHERE customer_no BETWEEN %s AND %s)""",
            [first_no, last_no],
        )
    # Every day of the month so far, so that the month average is what aum_refresh
    # computes: the latest day is the customer's AUM (a cents), the days before add up
    # to month_avg_aum * days - a (t cents), spread evenly plus noise that sums to zero
    # (w(k) - w(k+1) around a cycle), so the average is exact on both databases.
    if days > 1:
        n = days - 1
        w = "((c.id * 7919 + ({k}) * 104729) %% 21)"
        earlier = (
            f"(c.t / {n} + CASE WHEN d.column2 <= c.t %% {n} THEN 1 ELSE 0 END"
            f" + (c.a / 1000) * ({w.format(k='d.column2')} - {w.format(k=f'd.column2 %% {n} + 1')})) / 100.0"
        )
    else:
        earlier = "c.aum"
    day_params: list = []
    for back in range(0 if latest_day else 1, days):
        day_params += [date(latest - datetime.timedelta(days=back)), back]
    if day_params:
        run(
            daily_t,
            f"""INSERT INTO {daily_t} (business_date, customer_id, aum, liabilities)
                SELECT d.column1, c.id, CASE WHEN d.column2 = 0 THEN c.aum ELSE {earlier} END, c.liabilities
                  FROM (SELECT id, aum, liabilities, CAST(ROUND(aum * 100) AS BIGINT) AS a,
                               CAST(ROUND(month_avg_aum * 100) AS BIGINT) * {days}
                               - CAST(ROUND(aum * 100) AS BIGINT) AS t
                          FROM {customer} WHERE customer_no BETWEEN %s AND %s) c
                 CROSS JOIN (VALUES {", ".join(["(%s, %s)"] * (len(day_params) // 2))}) d""",
            [first_no, last_no, *day_params],
        )
    # The current month is the customer's figures; the twelve before follow a yearly
    # trend of -15%..+30% that ends at today's AUM, with noise, and a month average a
    # little above or below the month end. Loans amortise: liabilities were higher.
    months: list = [date(month), 0, days]
    m = month
    for back in range(1, 13):
        m = (m - datetime.timedelta(days=1)).replace(day=1)
        months += [date(m), back, _days_in_month(m)]
    end = (
        "(1000 - ((c.id * 40503) %% 451 - 150) * m.column2 / 12"
        " + (c.id * 7919 + m.column2 * 104729) %% 121 - 60)"
    )
    run(
        monthly_t,
        f"""INSERT INTO {monthly_t} (customer_id, month, avg_aum, end_aum, avg_liabilities, days)
            SELECT c.id, m.column1,
                   CASE WHEN m.column2 = 0 THEN c.month_avg_aum
                        ELSE ROUND(c.aum * ({end} + (c.id * 104729 + m.column2 * 7919) %% 81 - 40)
                                   / 1000.0, 2)
                   END,
                   CASE WHEN m.column2 = 0 THEN c.aum ELSE ROUND(c.aum * {end} / 1000.0, 2) END,
                   ROUND(c.liabilities * (1000 + 4 * m.column2) / 1000.0, 2),
                   m.column3
              FROM {customer} c CROSS JOIN (VALUES {", ".join(["(%s, %s, %s)"] * 13)}) m
             WHERE c.customer_no BETWEEN %s AND %s""",
        [*months, first_no, last_no],
    )

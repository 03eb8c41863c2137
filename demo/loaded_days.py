"""The demo's loaded days: a month and more of business days as if core banking had
delivered them, so that the performance figures count real days.

The performance engine counts only the business dates of loaded batches
(`customers.BatchLoad`, status loaded), reading each day's row per customer that the
load writes from the day's balances (`customers.CustomerDailyAum`; docs/performance.md,
"Coverage"). `manage.py seed_demo` loads the business date
itself through the real load (`demo.business_day`); loading the forty-odd days
before it batch by batch would take far longer than a demo is worth, so this module
writes them set-based (``INSERT ... SELECT``, the same statements on PostgreSQL and
SQLite), for every business day (Monday to Friday) of the previous calendar month
and of the current month up to the day before the business date:

- The end-of-day balance of every account held that day. A customer's asset
  accounts add up, to the cent, to the daily AUM the history backfill wrote for the
  days of the current month (`demo.history`), and in the previous month follow a
  path from its monthly figures whose calendar-day average is near the month's
  average AUM and whose last day is its month-end AUM. Each account keeps its share
  of the customer's AUM with a few percent of daily noise; an account opened during
  those days has balances from its opening date on; some closed accounts were held
  until they closed (at maturity, or on a day of the window). Loans stand at their
  balance (a little higher the month before: they amortise); card debt varies.
- The day's row per customer from those balances, as the load writes it (AUM,
  liabilities, each priced category); this month's rows of the history backfill
  keep their AUM and take the rest.
- The intermediary income of those days: a few active customers in a hundred, on
  an account they held (or tied to no account).
- The loan statuses of those days (`demo.business_day.demo_loan_statuses`: the
  few past-due accounts a day fewer behind each day back), kept as the load keeps
  them: a row where an account's status differs from its day before (every loan
  and card on the first day), so the credit-risk reports' previous month ends and
  roll rates have a history.
- One `BatchLoad` per day, status loaded, recorded (and audited) like a real
  load's: business date, content digest, per-file row counts (BALANCE.dat,
  INCOME.dat, LOAN_STATUS.dat: the rows kept), "started via" `demo history`.

Once per demo bank, the assignment history gets a handful of mid-window transfers
(the manager of record took the customer over from another client manager) and
some split credit (an assisting manager with a `credit_share`).

After the load, `publish_demo_months` computes the previous month and publishes it
through the maker-checker services (version 1: demo_bm proposes, the second
business manager approves) and computes the current month's provisional figures.

Idempotent: days that already have a loaded batch are not written again; the
assignment history is written once; a published month is not proposed again.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Avg, Count, Min, Q, Sum
from django.utils import timezone

from accounts.audit import Action, audit
from accounts.models import User
from accounts.roles import Role
from customers.aum import PRICED_CATEGORIES
from customers.choices import (
    ASSET_CATEGORIES,
    CREDIT_CATEGORIES,
    LIABILITY_CATEGORIES,
    AccountCategory,
    AccountStatus,
    AssignmentRole,
    BatchFilePhase,
    BatchStatus,
    CustomerStatus,
)
from customers.ingest.loads import audit_load
from customers.ingest.spec import BALANCE, INCOME, LOAN_STATUS
from customers.models import (
    Account,
    AccountBalance,
    BatchFile,
    BatchLoad,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMonthlyAum,
    IncomeEntry,
    LoanStatus,
)

from .business_day import demo_loan_statuses
from .reference import USD_CNY

# How the written days appear under Admin → Customers → Batch loads ("started by").
STARTED_VIA = "demo history"
TRANSFER_REASON = "月中移交（演示数据）"
SPLIT_REASON = "协办分成（演示数据）"
PUBLISH_REASON = "Month-end close of the demo month (demo data)."
APPROVE_NOTE = "Checked against the loaded days (demo data)."
# The income type an account of each category brings (the rest: OTHER, no account).
INCOME_OF_CATEGORY = {
    AccountCategory.FUND: "AGENCY_FUND",
    AccountCategory.WEALTH: "AGENCY_WEALTH",
    AccountCategory.INSURANCE: "AGENCY_INSURANCE",
    AccountCategory.CREDIT_CARD: "CARD_FEE",
    AccountCategory.CUSTODY: "CUSTODY_FEE",
    AccountCategory.DEP_CUR: "SETTLEMENT_FEE",
}


@dataclass
class LoadedDays:
    days: list[datetime.date] = field(default_factory=list)  # the days written by this run
    balances: int = 0
    income: int = 0
    loan_statuses: int = 0
    transfers: int = 0
    split_credit: int = 0
    seconds: float = 0.0


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(day: datetime.date) -> datetime.date:
    """The first day of the month before `day`'s."""
    return (month_start(day) - datetime.timedelta(days=1)).replace(day=1)


def _days_in_month(month: datetime.date) -> int:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return (following - month).days


def window_days(business_date: datetime.date) -> list[datetime.date]:
    """The business days (Monday to Friday) from the first of the previous month to
    the day before the business date."""
    day, result = previous_month(business_date), []
    while day < business_date:
        if day.weekday() < 5:
            result.append(day)
        day += datetime.timedelta(days=1)
    return result


def seed_loaded_days(
    *, business_date: datetime.date, write: Callable[[str], object] = lambda text: None
) -> LoadedDays:
    """Write the days of `window_days(business_date)` that have no loaded batch yet,
    and (once) the assignment history of the window."""
    started = time.perf_counter()
    result = LoadedDays()
    loaded = set(
        BatchLoad.objects.filter(status=BatchStatus.LOADED, business_date__lt=business_date).values_list(
            "business_date", flat=True
        )
    )
    missing = [day for day in window_days(business_date) if day not in loaded]
    with transaction.atomic():
        if missing and Customer.objects.exists():
            result.days = missing
            result.balances = _write_balances(missing, business_date)
            _write_daily_figures(missing)
            result.income = _write_income(missing)
            result.loan_statuses, statuses_read = _write_loan_statuses(missing, business_date)
            _record_loads(missing, read={LOAN_STATUS.name: statuses_read})
        result.transfers, result.split_credit = _assignment_history(business_date)
    result.seconds = time.perf_counter() - started
    if result.days:
        write(
            f"Loaded days: {len(result.days)} business days from {result.days[0]} to {result.days[-1]} "
            f"({result.balances:,} balances, {result.income:,} income rows, {result.loan_statuses:,} loan "
            f"status changes) in {result.seconds:.1f} s."
        )
    else:
        write("Loaded days: every business day before the business date is loaded already.")
    if result.transfers or result.split_credit:
        write(
            f"Assignment history: {result.transfers} mid-month transfers, "
            f"{result.split_credit} customers with split credit."
        )
    return result


# --- balances -------------------------------------------------------------------------------


def _in(values) -> str:
    # Category and status codes are our own constants, never user input.
    return ", ".join(f"'{v}'" for v in sorted(str(x) for x in values))


def _values(rows: Sequence[tuple], width: int) -> tuple[str, list]:
    marks = "(" + ", ".join(["%s"] * width) + ")"
    params = [value for row in rows for value in row]
    return ", ".join([marks] * len(rows)), params


def _write_balances(days: list[datetime.date], business_date: datetime.date) -> int:
    """The balances of `days`: asset accounts share the customer's AUM of the day,
    liability accounts stand at their balance (see the module's docstring)."""
    qn = connection.ops.quote_name
    date = connection.ops.adapt_datefield_value
    balance_t, account_t = qn(AccountBalance._meta.db_table), qn(Account._meta.db_table)
    customer_t = qn(Customer._meta.db_table)
    daily_t, monthly_t = qn(CustomerDailyAum._meta.db_table), qn(CustomerMonthlyAum._meta.db_table)
    first_day = day_number(days[0])
    span = max(day_number(business_date) - first_day, 1)
    current = month_start(business_date)
    this_month = [d for d in days if d >= current]
    earlier = [d for d in days if d < current]
    written = 0

    # The customer's AUM of each day, in cents (t): the current month's from its daily
    # AUM, an earlier month's on a path from 2*avg - end on its first day to the
    # month-end AUM on its last (calendar-day average: the month's average), with
    # noise around a cycle that sums to zero.
    targets: list[tuple[str, list]] = []
    if this_month:
        marks, params = _values([(date(d), day_number(d)) for d in this_month], 2)
        targets.append(
            (
                f"""SELECT da.customer_id AS customer_id, dd.column1 AS d, CAST(dd.column2 AS BIGINT) AS dn,
                           CAST(ROUND(da.aum * 100) AS BIGINT) AS t
                      FROM {daily_t} da JOIN (VALUES {marks}) dd ON dd.column1 = da.business_date""",
                params,
            )
        )
    for month in sorted({month_start(d) for d in earlier}):
        n = _days_in_month(month)
        days_of = [d for d in earlier if month_start(d) == month]
        marks, params = _values([(date(d), day_number(d), d.day - 1) for d in days_of], 3)
        w = "((m.customer_id * 7919 + ({k}) * 104729) %% 21)"
        path = (
            f"(m.a + (m.e - m.a) * (2 * dd.column3 - {n - 1}) / {n - 1}"
            f" + (m.e / 1000) * ({w.format(k='dd.column3')} - {w.format(k=f'(dd.column3 + 1) %% {n}')}))"
        )
        targets.append(
            (
                f"""SELECT m.customer_id AS customer_id, dd.column1 AS d, CAST(dd.column2 AS BIGINT) AS dn,
                           CASE WHEN {path} < 0 THEN 0 ELSE {path} END AS t
                      FROM (SELECT customer_id, CAST(ROUND(avg_aum * 100) AS BIGINT) AS a,
                                   CAST(ROUND(end_aum * 100) AS BIGINT) AS e
                              FROM {monthly_t} WHERE month = %s) m
                     CROSS JOIN (VALUES {marks}) dd""",
                [date(month), *params],
            )
        )

    # Which accounts hold a share on a day (opened by then; a closed one until its
    # maturity, or for one in three without a maturity, until a day of the window),
    # and their weight: the account's share of the customer's AUM (a closed account's
    # made up) times 90%..110% of daily noise.
    # Which of those without a maturity is counted from the first of them open by the
    # window's first day (the ids' starting point depends on the database's
    # sequence), so that one at least is held on that day.
    first_closed = (
        Account.objects.filter(
            Q(open_date__isnull=True) | Q(open_date__lte=days[0]),
            status=AccountStatus.CLOSED,
            maturity_date__isnull=True,
            category__in=ASSET_CATEGORIES,
        ).aggregate(first=Min("id"))["first"]
        or 0
    )
    k = f"(a.id - {first_closed})"
    held = f"""(a.open_date IS NULL OR a.open_date <= t.d)
               AND (a.status <> '{AccountStatus.CLOSED}'
                    OR (a.maturity_date IS NOT NULL AND a.maturity_date > t.d)
                    OR (a.maturity_date IS NULL AND {k} %% 3 = 0
                        AND t.dn <= {first_day} + ({k} * 7919) %% {span}))"""
    weight = (
        f"(CASE WHEN a.status = '{AccountStatus.CLOSED}' THEN CAST(ROUND(c.aum * 25) AS BIGINT) + 1000000"
        " ELSE CAST(ROUND(a.cny_balance * 100) AS BIGINT) END)"
        " * (900 + (a.id * 7919 + t.dn * 104729) %% 201)"
    )
    in_currency = (
        f"CASE WHEN s.currency = 'CNY' THEN s.cents / 100.0"
        " WHEN s.cny0 <> 0 THEN ROUND(s.cents * s.balance0 / s.cny0 / 100.0, 2)"
        f" ELSE ROUND(s.cents / {USD_CNY * 100:.4f}, 2) END"
    )
    for target_sql, target_params in targets:
        # Shares rounded to the cent; the account with the largest weight takes what
        # the rounding left, so that the accounts add up to the day's AUM exactly.
        sql = f"""
            INSERT INTO {balance_t} (business_date, account_id, balance, cny_balance)
            SELECT s.d, s.account_id, {in_currency}, s.cents / 100.0
              FROM (SELECT r.d, r.account_id, r.currency, r.balance0, r.cny0,
                           CASE WHEN r.rn = 1
                                THEN r.t - (SUM(r.c) OVER (PARTITION BY r.customer_id, r.d) - r.c)
                                ELSE r.c END AS cents
                      FROM (SELECT e.d, e.account_id, e.customer_id, e.currency, e.balance0, e.cny0, e.t,
                                   COALESCE(CAST(ROUND(e.t * (e.w * 1.0 / NULLIF(
                                       SUM(e.w) OVER (PARTITION BY e.customer_id, e.d), 0)))
                                       AS BIGINT), 0) AS c,
                                   ROW_NUMBER() OVER (PARTITION BY e.customer_id, e.d
                                                      ORDER BY e.w DESC, e.account_id) AS rn
                              FROM (SELECT t.d, t.t, a.id AS account_id, a.customer_id, a.currency,
                                           a.balance AS balance0, a.cny_balance AS cny0, {weight} AS w
                                      FROM ({target_sql}) t
                                      JOIN {customer_t} c ON c.id = t.customer_id
                                      JOIN {account_t} a ON a.customer_id = t.customer_id
                                     WHERE a.category IN ({_in(ASSET_CATEGORIES)}) AND {held}) e) r) s"""
        with connection.cursor() as cursor:
            cursor.execute(sql, target_params)
            written += max(cursor.rowcount, 0)

    # Liabilities: the current month at the account's balance (the history's daily
    # liabilities); earlier, loans a little higher (they amortise), card debt varies.
    marks, params = _values([(date(d), day_number(d), 1 if d < current else 0) for d in days], 3)
    liability = (
        "CASE WHEN dd.column3 = 0 THEN a.{col}"
        f" WHEN a.category = '{AccountCategory.CREDIT_CARD}'"
        " THEN ROUND(a.{col} * (700 + (a.id * 7919 + CAST(dd.column2 AS BIGINT) * 104729) %% 601)"
        " / 1000.0, 2)"
        " ELSE ROUND(a.{col} * 1.004, 2) END"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {balance_t} (business_date, account_id, balance, cny_balance)
                SELECT dd.column1, a.id, {liability.format(col="balance")},
                       {liability.format(col="cny_balance")}
                  FROM {account_t} a CROSS JOIN (VALUES {marks}) dd
                 WHERE a.category IN ({_in(LIABILITY_CATEGORIES)}) AND a.status <> '{AccountStatus.CLOSED}'
                   AND (a.open_date IS NULL OR a.open_date <= dd.column1)""",
            params,
        )
        written += max(cursor.rowcount, 0)
    return written


def day_number(day: datetime.date) -> int:
    return day.toordinal()


def _write_daily_figures(days: list[datetime.date]) -> None:
    """The days' one row per customer that the performance figures read, from the
    balances just written, as the load writes it (`customers.aum.write_daily_figures`):
    AUM, liabilities and each priced category. The rows the history backfill wrote for
    this month keep their AUM (the balances add up to it) and take the rest."""
    qn = connection.ops.quote_name
    date = connection.ops.adapt_datefield_value
    daily_t = qn(CustomerDailyAum._meta.db_table)
    balance_t, account_t = qn(AccountBalance._meta.db_table), qn(Account._meta.db_table)
    priced = [category.lower() for category in PRICED_CATEGORIES]
    sums = ", ".join(
        f"COALESCE(SUM(CASE WHEN a.category = '{c}' THEN b.cny_balance END), 0)" for c in PRICED_CATEGORIES
    )
    updates = ", ".join(f"{column} = excluded.{column}" for column in ["liabilities", *priced])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {daily_t} (business_date, customer_id, aum, liabilities, {", ".join(priced)})
                SELECT b.business_date, a.customer_id,
                       COALESCE(SUM(CASE WHEN a.category IN ({_in(ASSET_CATEGORIES)})
                                         THEN b.cny_balance END), 0),
                       COALESCE(SUM(CASE WHEN a.category IN ({_in(LIABILITY_CATEGORIES)})
                                         THEN b.cny_balance END), 0),
                       {sums}
                  FROM {balance_t} b JOIN {account_t} a ON a.id = b.account_id
                 WHERE b.business_date IN ({", ".join(["%s"] * len(days))})
                 GROUP BY b.business_date, a.customer_id
                ON CONFLICT (business_date, customer_id) DO UPDATE SET {updates}""",
            [date(day) for day in days],
        )


# --- income ---------------------------------------------------------------------------------


def _write_income(days: list[datetime.date]) -> int:
    """Four active customers in a hundred a day book a fee: on the account of theirs
    open before the window that brings fees (the newest such), else an OTHER fee tied
    to no account; one in twenty is a reversal."""
    qn = connection.ops.quote_name
    date = connection.ops.adapt_datefield_value
    income_t, customer_t, account_t = (
        qn(IncomeEntry._meta.db_table),
        qn(Customer._meta.db_table),
        qn(Account._meta.db_table),
    )
    marks, params = _values([(date(d), day_number(d)) for d in days], 2)
    kinds = " ".join(f"WHEN '{category}' THEN '{kind}'" for category, kind in INCOME_OF_CATEGORY.items())
    h = "(c.id * 104729 + CAST(dd.column2 AS BIGINT) * 7919)"
    cents = f"((({h} %% 1000) * ({h} %% 1000)) / 5 + 1000 + (c.id %% 97))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {income_t} (business_date, customer_id, account_id, income_type, cny_amount)
                SELECT dd.column1, c.id, acc.id, COALESCE(CASE acc.category {kinds} END, 'OTHER'),
                       CASE WHEN ({h} / 1000) %% 20 = 0 THEN -{cents} ELSE {cents} END / 100.0
                  FROM {customer_t} c CROSS JOIN (VALUES {marks}) dd
                  LEFT JOIN (SELECT customer_id, MAX(id) AS id FROM {account_t}
                              WHERE status = '{AccountStatus.OPEN}'
                                AND category IN ({_in(INCOME_OF_CATEGORY)})
                                AND (open_date IS NULL OR open_date < %s)
                              GROUP BY customer_id) pick ON pick.customer_id = c.id
                  LEFT JOIN {account_t} acc ON acc.id = pick.id
                 WHERE c.status = '{CustomerStatus.ACTIVE}' AND c.merged_into_id IS NULL
                   AND (c.id * 7919 + CAST(dd.column2 AS BIGINT) * 104729) %% 100 < 4""",
            [*params, date(days[0])],
        )
        return max(cursor.rowcount, 0)


def _write_loan_statuses(
    days: list[datetime.date], business_date: datetime.date
) -> tuple[int, dict[datetime.date, int]]:
    """The statuses of `days` as changes (module docstring): each day's rows of the
    file the demo would have sent, kept where the account's status differs from its
    latest before (none: a first status). A few thousand rows at the demo's size.
    Returns the rows kept and, per day, the rows of its file."""
    ids = dict(Account.objects.filter(category__in=CREDIT_CATEGORIES).values_list("account_no", "pk"))
    latest: dict[int, tuple[int, Decimal, int]] = {}
    for account_id, overdue_days, amount, risk_class in (
        LoanStatus.objects.filter(business_date__lt=days[0])
        .order_by("account_id", "business_date")
        .values_list("account_id", "overdue_days", "overdue_amount", "risk_class")
    ):
        latest[account_id] = (overdue_days, amount, risk_class)
    changes, read = [], dict.fromkeys(days, 0)
    for day in days:
        for account_no, overdue_days, amount, risk_class in demo_loan_statuses(
            day, business_date=business_date
        ):
            status = (int(overdue_days), Decimal(amount), int(risk_class))
            account_id = ids[account_no]
            read[day] += 1
            if latest.get(account_id) != status:
                latest[account_id] = status
                changes.append(
                    LoanStatus(
                        business_date=day,
                        account_id=account_id,
                        overdue_days=status[0],
                        overdue_amount=status[1],
                        risk_class=status[2],
                    )
                )
    LoanStatus.objects.bulk_create(changes, batch_size=5_000)
    return len(changes), read


# --- the load records -----------------------------------------------------------------------


def _record_loads(days: list[datetime.date], *, read: dict[str, dict[datetime.date, int]]) -> None:
    """One loaded BatchLoad per day, with its per-file counts (the rows written, or
    for a file in `read`, the rows of each day's file), audited like a load."""
    counts: dict[tuple[datetime.date, str], tuple[int, str]] = {}
    for name, model, amount in (
        (BALANCE.name, AccountBalance, "cny_balance"),
        (INCOME.name, IncomeEntry, "cny_amount"),
    ):
        for day, rows, total in (
            model.objects.filter(business_date__in=days)
            .values_list("business_date")
            .annotate(Count("business_date"), Sum(amount))
            .order_by()
        ):
            counts[(day, name)] = (rows, f"{total}")
    for name, rows_of in read.items():
        for day, rows in rows_of.items():
            counts[(day, name)] = (rows, "")
    now = timezone.now()
    loads = []
    for day in days:
        balances, balance_sum = counts.get((day, BALANCE.name), (0, "0"))
        income, income_sum = counts.get((day, INCOME.name), (0, "0"))
        digest = hashlib.sha256(
            f"{STARTED_VIA}|{day}|{balances}|{balance_sum}|{income}|{income_sum}".encode()
        ).hexdigest()
        loads.append(
            BatchLoad(
                business_date=day,
                digest=digest,
                source=f"seed_demo: {day:%Y%m%d} written set-based (no batch file)",
                status=BatchStatus.LOADED,
                started_via=STARTED_VIA,
                created_at=now,
                started_at=now,
                finished_at=now,
                attempts=1,
                rows_loaded=balances + income,
                message=(
                    f"Demo history: {balances} balances and {income} income rows of {day} written by "
                    "seed_demo, not read from a batch."
                ),
            )
        )
    created = BatchLoad.objects.bulk_create(loads)
    BatchFile.objects.bulk_create(
        [
            BatchFile(
                load=load,
                name=name,
                control_rows=counts.get((day, name), (0, ""))[0],
                loaded=counts.get((day, name), (0, ""))[0],
                phase=BatchFilePhase.DONE,
                progress=100,
            )
            for day, load in zip(days, created, strict=True)
            for name in (BALANCE.name, INCOME.name, LOAN_STATUS.name)
        ]
    )
    for load in created:
        audit_load(load)


# --- the assignment history -----------------------------------------------------------------


def _assignment_history(business_date: datetime.date) -> tuple[int, int]:
    """Once per demo bank: a handful of customers whose manager of record took them
    over during the window from another client manager, and some with an assisting
    manager who counts a share of their figures. Returns (transfers, split credit)."""
    from customers.numbers import PREFIX

    if CustomerAssignment.objects.filter(reason__in=[TRANSFER_REASON, SPLIT_REASON]).exists():
        return 0, 0
    days = window_days(business_date)
    managers = list(
        User.objects.filter(groups__name=Role.CLIENT_MANAGER, is_active=True)
        .order_by("username")
        .values_list("pk", flat=True)
        .distinct()
    )
    if len(days) < 6 or len(managers) < 2:
        return 0, 0
    running = sorted(
        CustomerAssignment.objects.filter(
            role=AssignmentRole.PRIMARY,
            end_date__isnull=True,
            start_date__lt=previous_month(business_date),
            customer__status=CustomerStatus.ACTIVE,
            customer__merged_into__isnull=True,
            customer__customer_no__startswith=PREFIX,
        ).values_list("pk", "customer_id", "manager_id", "start_date"),
        key=lambda row: ((row[1] * 7919) % 1009, row[1]),
    )
    transfers = running[: max(2, len(running) // 150)]
    splits = running[len(transfers) : len(transfers) + max(3, len(running) // 50)]

    def other_manager(manager_id: int, customer_id: int) -> int:
        others = [pk for pk in managers if pk != manager_id]
        return others[customer_id % len(others)]

    third = len(days) // 3
    earlier_rows, moved = [], {}
    for pk, customer_id, manager_id, start in transfers:
        taken_over = days[third + customer_id % third]  # mid-window, a business day
        moved[pk] = taken_over
        earlier_rows.append(
            CustomerAssignment(
                customer_id=customer_id,
                manager_id=other_manager(manager_id, customer_id),
                role=AssignmentRole.PRIMARY,
                start_date=start,
                end_date=taken_over - datetime.timedelta(days=1),
                reason=TRANSFER_REASON,
            )
        )
    for pk, taken_over in moved.items():  # a handful: one UPDATE each
        CustomerAssignment.objects.filter(pk=pk).update(start_date=taken_over, reason=TRANSFER_REASON)
    shared = []
    for k, (_pk, customer_id, manager_id, _start) in enumerate(splits):
        starts = days[(customer_id * 7) % third]  # in the first third of the window
        ends = days[-2] if k % 3 == 2 else None  # one in three assisted only until lately
        shared.append(
            CustomerAssignment(
                customer_id=customer_id,
                manager_id=other_manager(manager_id, customer_id),
                role=AssignmentRole.SECONDARY,
                credit_share=(20, 30, 40, 50)[customer_id % 4],
                start_date=starts,
                end_date=ends,
                reason=SPLIT_REASON,
            )
        )
    CustomerAssignment.objects.bulk_create([*earlier_rows, *shared])
    for row in [*earlier_rows, *shared]:
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor_username="seed_demo",
            target_type="customers.customer",
            target_id=row.customer_id,
            details={
                "role": row.role,
                "start_date": row.start_date.isoformat(),
                "end_date": row.end_date.isoformat() if row.end_date else None,
                "credit_share": str(row.credit_share) if row.credit_share is not None else None,
                "reason": row.reason,
            },
        )
    return len(earlier_rows), len(shared)


# --- the months' figures --------------------------------------------------------------------


@dataclass
class DemoMonths:
    previous: str
    current: str
    published: int | None = None  # the version published by this run
    proposed_by: str = ""
    approved_by: str = ""
    current_days: int = 0


DEMO_SCHEME = "客户经理月度考核"


def approve_demo_scheme(
    code: str, *, by: User, targets_from: str, write: Callable[[str], object] = lambda text: None
) -> None:
    """A client-manager scheme for the month, drafted by `by` and approved by a second
    business manager through the services (so the month's figures are scored), unless
    the month has an approved one: deposits' daily average (60 points, completion with
    a cap of 120%) and the total contribution (40 points, in steps), each against the
    managers' average in the open month `targets_from` (so that completion spreads
    around 100%), graded by share: A the best 20%, B the next 50%, C the rest."""
    from marketing.models import Indicator
    from performance.models import ManagerResult, ResultVersion, Scheme
    from performance.schemes import (
        BandInput,
        scheme_bands_set,
        scheme_create,
        scheme_decide,
        scheme_indicator_set,
        scheme_submit,
    )
    from performance.services import performance_run

    if Scheme.objects.filter(period__code=code, role="client_manager", status="approved").exists():
        return
    approver = (
        User.objects.filter(groups__name=Role.BUSINESS_MANAGER, is_active=True)
        .exclude(pk=by.pk)
        .order_by("username")
        .first()
    )
    if approver is None:
        return
    version = ResultVersion.objects.filter(period__code=targets_from, number=0).first() or performance_run(
        targets_from
    )
    averages = ManagerResult.objects.filter(version=version, manager__isnull=False).aggregate(
        deposit=Avg("deposit_avg"), total=Avg("total")
    )
    if not averages["deposit"] or not averages["total"]:
        return
    deposit_target = max(Decimal(10000), (averages["deposit"] / 10000).quantize(Decimal(1)) * 10000)
    total_target = max(Decimal(100), (averages["total"] / 100).quantize(Decimal(1)) * 100)
    scheme = scheme_create(by=by, period=code, role="client_manager", name=DEMO_SCHEME)
    scheme_indicator_set(
        scheme=scheme,
        by=by,
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=60,
        formula="completion",
        params={"floor": 0, "cap": 120},
        target=deposit_target,
    )
    scheme_indicator_set(
        scheme=scheme,
        by=by,
        indicator=Indicator.objects.get(code="contribution_total"),
        weight=40,
        formula="steps",
        params={"steps": [[50, 40], [80, 70], [100, 100]]},
        target=total_target,
    )
    scheme_bands_set(
        scheme=scheme,
        by=by,
        bands=[
            BandInput("A", share=Decimal(20)),
            BandInput("B", share=Decimal(70)),
            BandInput("C", share=Decimal(100)),
        ],
    )
    scheme_submit(scheme=scheme, by=by)
    scheme_decide(scheme=scheme, by=approver, approve=True, note=APPROVE_NOTE)
    write(f"Performance {code}: scheme “{DEMO_SCHEME}” approved by {approver.username}.")


def publish_demo_months(
    *, business_date: datetime.date, write: Callable[[str], object] = lambda text: None
) -> DemoMonths:
    """Close the previous month (its figures proposed by demo_bm and approved by a
    second business manager, else a system administrator: version 1) unless it is
    closed already, and compute the current month's provisional figures."""
    from core.approvals import ApprovalStatus
    from performance.choices import PeriodStatus
    from performance.models import Period, Publication
    from performance.publication import proposed_version_compute, publication_decide, publication_propose
    from performance.services import last_loaded_date, performance_run

    months = DemoMonths(previous=f"{previous_month(business_date):%Y-%m}", current=f"{business_date:%Y-%m}")
    proposer = User.objects.filter(username="demo_bm", is_active=True).first()
    if proposer is not None:
        for code in (months.previous, months.current):
            approve_demo_scheme(code, by=proposer, targets_from=months.current, write=write)
    period = Period.objects.filter(code=months.previous).first()
    loaded_before = BatchLoad.objects.filter(
        status=BatchStatus.LOADED, business_date__lt=month_start(business_date)
    ).exists()
    if proposer is not None and loaded_before and (period is None or period.status == PeriodStatus.OPEN):
        publication = (
            Publication.objects.filter(version__period=period, status=ApprovalStatus.PENDING).first()
            if period is not None
            else None
        )
        if publication is None:
            publication = publication_propose(code=months.previous, by=proposer, reason=PUBLISH_REASON)
        # the demo waits for the figures a job computes after a proposal
        proposed_version_compute(version_id=publication.version_id, user_id=proposer.pk)
        approver = (
            User.objects.filter(groups__name=Role.BUSINESS_MANAGER, is_active=True)
            .exclude(pk=publication.proposed_by_id)
            .order_by("username")
            .first()
        ) or User.objects.filter(groups__name=Role.SYSTEM_ADMIN, is_active=True).order_by("username").first()
        if approver is not None:
            publication = publication_decide(
                publication=publication, by=approver, approve=True, note=APPROVE_NOTE
            )
            months.published = publication.version.number
            months.proposed_by, months.approved_by = publication.proposed_by.username, approver.username
            write(
                f"Performance {months.previous}: version {months.published} published "
                f"(proposed by {months.proposed_by}, approved by {months.approved_by})."
            )
    current = Period.objects.filter(code=months.current).first()
    shown = current.versions.filter(number=0).first() if current is not None else None
    if shown is None or shown.counted_through != last_loaded_date():
        shown = performance_run(months.current)
    months.current_days = shown.counted_days
    write(f"Performance {months.current}: provisional figures over {months.current_days} counted days.")
    return months

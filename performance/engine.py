"""The figures of a period, computed set-based from the loaded data exactly as
docs/performance.md defines them.

1. Coverage: each loaded batch stands for the calendar days from its business date
   to the day before the next loaded batch (a weekend carries Friday's balances),
   within the counted days. A day before the first loaded batch has no balance.
2. Per customer and batch: the balances of the day by kind (deposits, loans, AUM)
   and the day's FTP contribution (balance × spread, per category).
3. Credit: who counts a customer's days. The manager of record counts a day in full,
   less the shares of assisting managers (split credit); an assisting manager counts
   their share; a day without a manager of record counts for the customer's home
   branch (the pool), less the assisting shares. Written as signed rows over day
   ranges, so that the shares of every day add up to exactly one.
4. A customer's figures for a manager: Σ over credit rows and batches of share ×
   (days the two ranges share) × the batch's values, plus share × the intermediary
   income booked on a credited day. Contribution divides by 365.
5. A manager's figures: the sum over their customers, rounded half-up to 2 decimals
   once; daily averages divide by the counted days. Managers and pools add up to the
   bank, customer by customer.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction

from customers.choices import AssignmentRole, BatchStatus
from customers.models import BatchLoad

from .models import CustomerResult, ManagerResult, ResultVersion

DEPOSIT = ("DEP_CUR", "DEP_TIME")
LOAN = ("LOAN_MORTGAGE", "LOAN_CONSUMER", "LOAN_BUSINESS")
AUM = (*DEPOSIT, "WEALTH", "FUND", "INSURANCE", "CUSTODY")
LIABILITY_BUSINESS = DEPOSIT
ASSET_BUSINESS = (*LOAN, "CREDIT_CARD")
EPOCH = datetime.date(1970, 1, 1)
CENT = Decimal("0.01")
ZERO_BELOW = "0.0000001"  # a pool's +1 and -1 over the same days leave nothing (or float dust)


def day_number(day: datetime.date) -> int:
    return (day - EPOCH).days


def round_half_up(value: Decimal | float | int | None) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Coverage:
    batch: datetime.date
    first: datetime.date
    last: datetime.date


def loaded_dates(through: datetime.date) -> list[datetime.date]:
    """Business dates of the loaded batches, up to `through`."""
    dates = (
        BatchLoad.objects.filter(status=BatchStatus.LOADED, business_date__lte=through)
        .values_list("business_date", flat=True)
        .distinct()
    )
    return sorted(d for d in dates if d is not None)


def coverage(loaded: Sequence[datetime.date], start: datetime.date, through: datetime.date) -> list[Coverage]:
    """The counted days each loaded batch stands for."""
    result = []
    for i, batch in enumerate(loaded):
        following = loaded[i + 1] - datetime.timedelta(days=1) if i + 1 < len(loaded) else through
        first, last = max(batch, start), min(following, through)
        if first <= last:
            result.append(Coverage(batch, first, last))
    return result


class _Sql:
    """Where PostgreSQL and SQLite write the same thing differently."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def day(self, expr: str) -> str:
        if self.postgres:
            return f"({expr} - DATE '1970-01-01')"
        return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.postgres else f"MIN({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.postgres else f"MAX({a}, {b})"


def compute(
    version: ResultVersion,
    *,
    start: datetime.date,
    through: datetime.date | None,
    spreads: Mapping[str, Decimal],
) -> int:
    """Write the version's customer and manager figures (replacing any it had) for
    the counted days from `start` to `through`; returns the number of counted days."""
    with transaction.atomic():
        CustomerResult.objects.filter(version=version).delete()
        ManagerResult.objects.filter(version=version).delete()
        if through is None or through < start:
            return 0
        days = (through - start).days + 1
        covered = coverage(loaded_dates(through), start, through)
        with connection.cursor() as cursor:
            _Credit(cursor, _Sql(), start=start, through=through, covered=covered, spreads=spreads).run(
                version
            )
        _manager_figures(version, days)
        return days


class _Credit:
    def __init__(self, cursor, sql: _Sql, *, start, through, covered: list[Coverage], spreads):
        self.cursor, self.sql = cursor, sql
        self.start, self.through, self.covered, self.spreads = start, through, covered, spreads
        self.d0, self.d1 = day_number(start), day_number(through)

    def run(self, version: ResultVersion) -> None:
        for table in ("perf_cov", "perf_cb", "perf_credit"):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            self._coverage()
            self._customer_batches()
            self._credit_rows()
            self._customer_figures(version)
        finally:
            for table in ("perf_cov", "perf_cb", "perf_credit"):
                self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def _coverage(self) -> None:
        self.cursor.execute("CREATE TEMP TABLE perf_cov (b DATE, d0 INTEGER, d1 INTEGER)")
        if self.covered:
            self.cursor.executemany(
                "INSERT INTO perf_cov (b, d0, d1) VALUES (%s, %s, %s)",
                [(c.batch, day_number(c.first), day_number(c.last)) for c in self.covered],
            )

    def _customer_batches(self) -> None:
        """Per customer and covered batch: the day's balances by kind and its FTP
        contribution before ÷ 365."""

        def among(categories: Sequence[str]) -> tuple[str, list]:
            marks = ", ".join(["%s"] * len(categories))
            return f"CASE WHEN a.category IN ({marks}) THEN ab.cny_balance ELSE 0 END", list(categories)

        def priced(categories: Sequence[str]) -> tuple[str, list]:
            whens = " ".join("WHEN %s THEN ab.cny_balance * %s" for _c in categories)
            params: list = []
            for category in categories:
                params += [category, self.spreads.get(category, Decimal("0"))]
            return f"CASE a.category {whens} ELSE 0 END", params

        parts = [among(DEPOSIT), among(LOAN), among(AUM), priced(LIABILITY_BUSINESS), priced(ASSET_BUSINESS)]
        columns = ", ".join(
            f"SUM({expr}) AS {name}"
            for (expr, _p), name in zip(parts, ("dep", "loan", "aum", "liab", "asset"), strict=True)
        )
        params = [p for _expr, part_params in parts for p in part_params]
        self.cursor.execute(
            "CREATE TEMP TABLE perf_cb AS "
            f"SELECT a.customer_id AS customer_id, ab.business_date AS b, {columns} "
            "FROM customers_accountbalance ab JOIN customers_account a ON a.id = ab.account_id "
            "WHERE ab.business_date IN (SELECT b FROM perf_cov) GROUP BY a.customer_id, ab.business_date",
            params,
        )

    def _credit_rows(self) -> None:
        """Signed shares over day ranges: kind P (manager of record), S (assisting),
        D (what the manager of record gives the assisting), N (the pool)."""
        sql, cursor = self.sql, self.cursor
        cursor.execute(
            "CREATE TEMP TABLE perf_credit (customer_id BIGINT, manager_id BIGINT, kind CHAR(1), "
            "share NUMERIC(12, 6), d0 INTEGER, d1 INTEGER)"
        )
        # An assignment's last day: its end date, and the day before the next one of the
        # same role starts (a change of manager ends the old assignment on the day the
        # new one starts: that day is the new manager's).
        next_start = sql.day("LEAD(start_date) OVER (PARTITION BY customer_id ORDER BY start_date, id)")
        last_day = sql.least(sql.day("COALESCE(end_date, %s)"), f"COALESCE({next_start} - 1, %s)")
        for kind, role, share in (
            ("P", AssignmentRole.PRIMARY, "1"),
            ("S", AssignmentRole.SECONDARY, "credit_share / 100.0"),
        ):
            condition = "" if kind == "P" else " AND credit_share IS NOT NULL AND credit_share > 0"
            cursor.execute(
                f"INSERT INTO perf_credit SELECT customer_id, manager_id, %s, share, "
                f"{sql.greatest('first_day', '%s')}, {sql.least('last_day', '%s')} FROM ("
                f"SELECT customer_id, manager_id, {share} AS share, {sql.day('start_date')} AS first_day, "
                f"{last_day} AS last_day FROM customers_customerassignment "
                f"WHERE role = %s AND start_date <= %s{condition}) AS spans WHERE last_day >= %s",
                [kind, self.d0, self.d1, self.through, self.d1, role, self.through, self.d0],
            )
        overlap = f"{sql.greatest('p.d0', 's.d0')}, {sql.least('p.d1', 's.d1')}"
        both = (
            "FROM perf_credit p JOIN perf_credit s "
            "ON s.customer_id = p.customer_id AND p.kind = 'P' AND s.kind = 'S'"
        )
        cursor.execute(
            f"INSERT INTO perf_credit SELECT p.customer_id, p.manager_id, 'D', -s.share, {overlap} {both}"
        )
        # the pool: every day of every customer with figures, less what managers count
        cursor.execute(
            "INSERT INTO perf_credit SELECT customer_id, NULL, 'N', 1, %s, %s FROM ("
            "SELECT customer_id FROM perf_cb UNION SELECT customer_id FROM customers_incomeentry "
            "WHERE business_date >= %s AND business_date <= %s) AS held",
            [self.d0, self.d1, self.start, self.through],
        )
        less = (
            "INSERT INTO perf_credit SELECT customer_id, NULL, 'N', {share}, d0, d1 "
            "FROM perf_credit WHERE kind = %s"
        )
        cursor.execute(less.format(share="-1"), ["P"])
        cursor.execute(less.format(share="-share"), ["S"])
        cursor.execute(f"INSERT INTO perf_credit SELECT p.customer_id, NULL, 'N', s.share, {overlap} {both}")
        cursor.execute("DELETE FROM perf_credit WHERE d0 > d1")

    def _customer_figures(self, version: ResultVersion) -> None:
        sql = self.sql
        days = f"({sql.least('c.d1', 'v.d1')} - {sql.greatest('c.d0', 'v.d0')} + 1)"
        income_day = sql.day("i.business_date")
        sums = ("dep", "loan", "aum", "liab", "asset", "inter")
        having = " OR ".join(f"ABS(SUM({name})) > {ZERO_BELOW}" for name in sums)
        self.cursor.execute(
            "INSERT INTO performance_customerresult (version_id, customer_id, manager_id, deposit_days, "
            "loan_days, aum_days, liability, asset, intermediary) "
            "SELECT %s, customer_id, manager_id, SUM(dep), SUM(loan), SUM(aum), SUM(liab), SUM(asset), "
            "SUM(inter) "
            "FROM ("
            f"SELECT c.customer_id, c.manager_id, c.share * {days} * cb.dep AS dep, "
            f"c.share * {days} * cb.loan AS loan, c.share * {days} * cb.aum AS aum, "
            f"c.share * {days} * cb.liab / 365.0 AS liab, c.share * {days} * cb.asset / 365.0 AS asset, "
            "0 AS inter "
            "FROM perf_credit c JOIN perf_cb cb ON cb.customer_id = c.customer_id "
            "JOIN perf_cov v ON v.b = cb.b "
            f"WHERE {sql.least('c.d1', 'v.d1')} >= {sql.greatest('c.d0', 'v.d0')} "
            "UNION ALL "
            "SELECT c.customer_id, c.manager_id, 0, 0, 0, 0, 0, c.share * i.cny_amount "
            "FROM perf_credit c JOIN customers_incomeentry i ON i.customer_id = c.customer_id "
            "WHERE i.business_date >= %s AND i.business_date <= %s "
            f"AND {income_day} >= c.d0 AND {income_day} <= c.d1"
            f") AS credited GROUP BY customer_id, manager_id HAVING {having}",
            [version.pk, self.start, self.through],
        )


def _manager_figures(version: ResultVersion, days: int) -> None:
    """A manager's (or a branch pool's) figures: their customers' summed, rounded once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cr.manager_id, COALESCE(u.branch_id, c.home_branch_id), SUM(cr.deposit_days), "
            "SUM(cr.loan_days), SUM(cr.aum_days), SUM(cr.liability), SUM(cr.asset), SUM(cr.intermediary) "
            "FROM performance_customerresult cr JOIN customers_customer c ON c.id = cr.customer_id "
            "LEFT JOIN accounts_user u ON u.id = cr.manager_id WHERE cr.version_id = %s "
            "GROUP BY cr.manager_id, COALESCE(u.branch_id, c.home_branch_id)",
            [version.pk],
        )
        rows = cursor.fetchall()
    results = []
    for manager, branch, deposit, loan, aum, liability, asset, income in rows:
        exact = [Decimal(str(v or 0)) for v in (deposit, loan, aum, liability, asset, income)]
        results.append(
            ManagerResult(
                version=version,
                manager_id=manager,
                branch_id=branch,
                deposit_avg=round_half_up(exact[0] / days),
                loan_avg=round_half_up(exact[1] / days),
                aum_avg=round_half_up(exact[2] / days),
                liability=round_half_up(exact[3]),
                asset=round_half_up(exact[4]),
                intermediary=round_half_up(exact[5]),
                total=round_half_up(exact[3] + exact[4] + exact[5]),
            )
        )
    ManagerResult.objects.bulk_create(results, batch_size=2000)

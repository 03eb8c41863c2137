"""The figures of a period, computed set-based from the loaded data exactly as
docs/performance.md defines them.

1. Coverage: each loaded batch stands for the calendar days from its business date
   to the day before the next loaded batch (a weekend carries Friday's balances),
   within the counted days. A day before the first loaded batch has no balance.
2. Per customer and batch: the balances of the day by kind (deposits, loans, AUM)
   and the day's FTP contribution (balance × spread, per category), read from the
   day's one row per customer (`customers.CustomerDailyAum`, written by the load)
   rather than from every account's balance.
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

The nightly run extends a period instead of computing it again (`extend`): the
figures are sums over days, so the days from the last counted day to the new one
are computed alone and added to each customer's row. Only when nothing already
counted can have changed (`services.compute_version` decides). On PostgreSQL a
night builds credit rows only for the customers whose assignments change within its
days or who have an assisting manager; every other customer's days count whole for
the manager of record of the last day, or the pool (`_Credit._steady`).

The customer rows are written through `rows.VersionRows`: on PostgreSQL into a
table of the version's own, swapped in whole once the managers' figures are read
from it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction

from customers.choices import AssignmentRole, BatchStatus
from customers.models import BatchLoad

from .models import ManagerResult, ResultVersion
from .rows import ZERO_BELOW, VersionRows

DEPOSIT = ("DEP_CUR", "DEP_TIME")
LOAN = ("LOAN_MORTGAGE", "LOAN_CONSUMER", "LOAN_BUSINESS")
AUM = (*DEPOSIT, "WEALTH", "FUND", "INSURANCE", "CUSTODY")
LIABILITY_BUSINESS = DEPOSIT
ASSET_BUSINESS = (*LOAN, "CREDIT_CARD")
EPOCH = datetime.date(1970, 1, 1)
CENT = Decimal("0.01")
SUMS = ("dep", "loan", "aum", "liab", "asset", "inter")
# at most this many batches (a night's: Friday's for the weekend and Monday's) are
# summed in customer order, more by hashing
NIGHT_BATCHES = 3
# FTP spreads have 4 decimals (performance.parameters.PLACES): whole ten-thousandths
SPREAD_UNITS = 10000
# the sums of a customer's batches, in whole cents (balances) and cents × ten-thousandths
# (contribution before ÷ 365)
SCALE = {"dep": 100, "loan": 100, "aum": 100, "liab": 100 * SPREAD_UNITS, "asset": 100 * SPREAD_UNITS}


def spread_units(spread: Decimal | None) -> int:
    """A spread in ten-thousandths, exactly (0.0200 → 200)."""
    units = (spread or Decimal("0")) * SPREAD_UNITS
    if units != units.to_integral_value():
        raise ValueError(f"an FTP spread has at most 4 decimals, not {spread}")
    return int(units)


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

    def cents(self, expr: str) -> str:
        """A 2-decimal amount as whole cents (exact: SQLite holds decimals as floats)."""
        if self.postgres:
            return f"CAST({expr} * 100 AS BIGINT)"
        return f"CAST(ROUND({expr} * 100) AS INTEGER)"

    def exact(self, name: str) -> str:
        """An integer sum as a decimal, to divide exactly."""
        return f"CAST({name} AS NUMERIC)" if self.postgres else f"({name} * 1.0)"


def compute(
    version: ResultVersion,
    *,
    start: datetime.date,
    through: datetime.date | None,
    spreads: Mapping[str, Decimal],
) -> int:
    """Write the version's customer and manager figures (replacing any it had) for
    the counted days from `start` to `through`; returns the number of counted days."""
    with transaction.atomic(), connection.cursor() as cursor:
        ManagerResult.objects.filter(version=version).delete()
        rows = VersionRows.of(cursor, version.pk)
        rows.replace()
        days = 0
        if through is not None and through >= start:
            days = (through - start).days + 1
            covered = coverage(loaded_dates(through), start, through)
            credit = _Credit(cursor, _Sql(), start=start, through=through, covered=covered, spreads=spreads)
            credit.run(lambda: rows.write(*credit.figures()))
            _manager_figures(version, days, rows.table)
        rows.finish()
        return days


def extend(
    version: ResultVersion,
    *,
    start: datetime.date,
    counted_through: datetime.date,
    through: datetime.date,
    spreads: Mapping[str, Decimal],
    new_days: NewDays | None = None,
) -> int:
    """Add the days after `counted_through` up to `through` to a version computed
    from `start` to `counted_through` with the same spreads and data: the same figures
    `compute` would write for `start`..`through`, computed from the new days only
    (or taken from `new_days`, where another period of the night computed them).
    Returns the number of counted days."""
    days = (through - start).days + 1
    with transaction.atomic(), connection.cursor() as cursor:
        rows = VersionRows.of(cursor, version.pk)
        rows.keep()
        key = (counted_through, through, tuple(sorted((c, str(v)) for c, v in spreads.items())))
        computed = new_days.computed(cursor, key) if new_days is not None else None
        if computed is not None:
            rows.add(f"SELECT * FROM {computed}", [])
        else:
            first = counted_through + datetime.timedelta(days=1)
            covered = coverage(loaded_dates(through), first, through)
            credit = _Credit(
                cursor, _Sql(), start=first, through=through, covered=covered, spreads=spreads, steady=True
            )

            def add() -> None:
                select, params = credit.figures()
                if new_days is not None:
                    select, params = new_days.keep(cursor, key, select, params), []
                rows.add(select, params)

            credit.run(add)
        ManagerResult.objects.filter(version=version).delete()
        _manager_figures(version, days, rows.table)
        rows.finish()
    return days


class NewDays:
    """The figures of the days a night adds, computed once for the open periods it
    extends by the same days with the same spreads (the month, the quarter and the
    year, most nights): kept in a temporary table of the connection's until the end
    of the `with` block."""

    def __init__(self) -> None:
        self.tables: dict[tuple, str] = {}

    def __enter__(self) -> NewDays:
        return self

    def __exit__(self, *exc) -> None:
        with connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tables.clear()

    def computed(self, cursor, key: tuple) -> str | None:
        """The table of the days of `key`, if a committed computation left it."""
        table = self.tables.get(key)
        if table is None:
            return None
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.{table}"])
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE name = %s", [table])
        found = cursor.fetchone()
        return table if found and found[0] is not None else None

    def keep(self, cursor, key: tuple, select: str, params: list) -> str:
        """Write the rows of `select` into a table kept for the other periods; its name."""
        table = f"perf_new_days_{len(self.tables) + 1}"
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE {table} AS {select}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")  # what the periods join it by (their rows, a million)
        self.tables[key] = table
        return f"SELECT * FROM {table}"


class _Credit:
    def __init__(
        self,
        cursor,
        sql: _Sql,
        *,
        start,
        through,
        covered: list[Coverage],
        spreads,
        customer=None,
        steady=False,
    ):
        self.cursor, self.sql = cursor, sql
        self.start, self.through, self.covered, self.spreads = start, through, covered, spreads
        self.d0, self.d1 = day_number(start), day_number(through)
        # one customer only (the explanation of a customer's figures), or every one
        self.only, self.only_params = ("", []) if customer is None else (" AND {} = %s", [customer])
        # the customers whose income is read: the same
        self.income_only, self.income_params = self.only, self.only_params
        # steady (a night's few days, PostgreSQL): credit rows only for the customers
        # whose assignments change within the days or who have an assisting manager
        # (`_moving`); the others' figures come from their manager of record of the
        # last day (`_steady`)
        self.steady = steady and sql.postgres and customer is None and bool(covered)
        self.moving = True
        if self.steady:
            self.only = " AND {} IN (SELECT customer_id FROM perf_moving)"

    def _only(self, column: str, hashed: bool = False) -> str:
        if hashed and self.steady:
            # a hashed lookup in the moving customers, whatever the planner estimates of the
            # assignments it filters (a nested loop over both took seconds)
            return f" AND ({column} IN (SELECT customer_id FROM perf_moving)) IS TRUE"
        return self.only.format(column)

    def run(self, write) -> None:
        tables = ("perf_cov", "perf_whole", "perf_income", "perf_credit", "perf_single", "perf_moving")
        for table in tables:
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            self._coverage()
            if self.steady:
                self._moving()
            self._customer_batches()
            self._credit_rows()
            write()
        finally:
            for table in tables:
                self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def _moving(self) -> None:
        """perf_moving: the customers credited by credit rows: those with an
        assignment (of any role) starting after the first day or ending before the
        last (they can count for different managers on different days of the range),
        and those with an assisting manager within it (shares). Every other customer
        counts all through the range for the manager of record of its last day, or
        the pool (`_steady`)."""
        self.cursor.execute(
            "CREATE TEMP TABLE perf_moving AS SELECT DISTINCT customer_id FROM customers_customerassignment "
            "WHERE (start_date > %s AND start_date <= %s) OR (end_date >= %s AND end_date < %s) "
            "OR (role = %s AND credit_share > 0 AND start_date <= %s "
            "AND (end_date IS NULL OR end_date >= %s))",
            [
                self.start,
                self.through,
                self.start,
                self.through,
                AssignmentRole.SECONDARY,
                self.through,
                self.start,
            ],
        )
        self.cursor.execute("CREATE INDEX perf_moving_customer ON perf_moving (customer_id)")
        self.cursor.execute("ANALYZE perf_moving")
        self.cursor.execute("SELECT EXISTS (SELECT 1 FROM perf_moving)")
        self.moving = bool(self.cursor.fetchone()[0])

    def _coverage(self) -> None:
        self.cursor.execute("CREATE TEMP TABLE perf_cov (b DATE, d0 INTEGER, d1 INTEGER)")
        if self.covered:
            self.cursor.executemany(
                "INSERT INTO perf_cov (b, d0, d1) VALUES (%s, %s, %s)",
                [(c.batch, day_number(c.first), day_number(c.last)) for c in self.covered],
            )

    def _customer_batches(self) -> None:
        """Per customer and covered batch: the day's balances by kind and its FTP
        contribution before ÷ 365, from the day's row per customer (`self.cb`, read
        where it is needed rather than copied); and per customer the whole counted
        range's sums (`perf_whole`: each batch's values times the days it stands
        for), which every credit row spanning the whole range takes its share of."""

        def priced(categories: Sequence[str]) -> tuple[str, list]:
            return " + ".join(f"d.{c.lower()} * %s" for c in categories), [
                self.spreads.get(c, Decimal("0")) for c in categories
            ]

        liability, liability_params = priced(LIABILITY_BUSINESS)
        asset, asset_params = priced(ASSET_BUSINESS)
        batch_params = [c.batch for c in self.covered]
        batches = ", ".join(["%s"] * len(batch_params)) or "NULL"
        self.cb = (
            "(SELECT d.customer_id AS customer_id, d.business_date AS b, "
            f"{' + '.join(f'd.{c.lower()}' for c in DEPOSIT)} AS dep, "
            f"{' + '.join(f'd.{c.lower()}' for c in LOAN)} AS loan, d.aum AS aum, "
            f"{liability} AS liab, {asset} AS asset "
            # the batches' dates written into the statement: the daily rows are
            # partitioned by month (PostgreSQL), and only written dates prune them
            f"FROM customers_customerdailyaum d WHERE d.business_date IN ({batches})"
            f"{self._only('d.customer_id')}) AS cb"
        )
        self.cb_params = [*liability_params, *asset_params, *batch_params, *self.only_params]
        self._whole()
        self.cursor.execute(
            "CREATE TEMP TABLE perf_income AS SELECT customer_id, SUM(cny_amount) AS inter "
            "FROM customers_incomeentry WHERE business_date >= %s AND business_date <= %s"
            f"{self.income_only.format('customer_id')} GROUP BY customer_id",
            [self.start, self.through, *self.income_params],
        )

    def _whole(self) -> None:
        """perf_whole: per customer, Σ over the covered batches of the days a batch
        stands for × its values (`_summed`)."""
        sql = self.sql
        if not self.covered:
            self.cursor.execute(
                "CREATE TEMP TABLE perf_whole (customer_id BIGINT, "
                + ", ".join(f"{name} NUMERIC(30, 10)" for name in SUMS[:-1])
                + ")"
            )
            return
        summed, params = self._summed(self.only, self.only_params)
        self.cursor.execute(
            "CREATE TEMP TABLE perf_whole AS SELECT customer_id, "
            + ", ".join(f"{sql.exact(name)} / {scale} AS {name}" for name, scale in SCALE.items())
            + f" FROM ({summed}) AS summed",
            params,
        )

    def _summed(self, only: str, only_params: list) -> tuple[str, list]:
        """SELECT per customer (of `only`), Σ over the covered batches of the days a
        batch stands for × its values, as integers in `SCALE`ths. The bulk of a
        computation (a row per customer and loaded day), so it sums whole cents and
        spreads in ten-thousandths (exact, and several times faster than decimals),
        in parallel where the database can (the coverage is written into the
        statement: a temporary table would keep it from running in parallel)."""
        sql = self.sql
        union = " UNION ALL ".join(["SELECT %s AS b, %s AS n"] * len(self.covered))
        coverage_params: list = []
        for c in self.covered:
            coverage_params += [c.batch, (c.last - c.first).days + 1]

        def cents(column: str) -> str:
            return sql.cents(f"d.{column.lower()}")

        def priced(categories: Sequence[str]) -> str:
            return " + ".join(f"{cents(c)} * {spread_units(self.spreads.get(c))}" for c in categories)

        sums = {
            "dep": " + ".join(cents(c) for c in DEPOSIT),
            "loan": " + ".join(cents(c) for c in LOAN),
            "aum": cents("aum"),
            "liab": priced(LIABILITY_BUSINESS),
            "asset": priced(ASSET_BUSINESS),
        }
        only = only.format("d.customer_id")
        if len(self.covered) == 1:
            # one batch (most nights): a row per customer already
            summed = (
                "SELECT d.customer_id AS customer_id, "
                + ", ".join(f"%s * ({expr}) AS {name}" for name, expr in sums.items())
                + f" FROM customers_customerdailyaum d WHERE d.business_date = %s{only}"
            )
            c = self.covered[0]
            return summed, [(c.last - c.first).days + 1] * len(sums) + [c.batch, *only_params]
        if len(self.covered) <= NIGHT_BATCHES:
            # a night's few batches: each batch's rows in customer order (its index),
            # merged and summed in that order rather than hashed
            rows = " UNION ALL ".join(
                "SELECT d.customer_id AS customer_id, "
                + ", ".join(f"%s * ({expr}) AS {name}" for name, expr in sums.items())
                + f" FROM customers_customerdailyaum d WHERE d.business_date = %s{only}"
                for _c in self.covered
            )
            params: list = []
            for c in self.covered:
                params += [(c.last - c.first).days + 1] * len(sums) + [c.batch, *only_params]
            summed = (
                "SELECT customer_id, "
                + ", ".join(f"SUM({name}) AS {name}" for name in sums)
                + f" FROM ({rows} ORDER BY 1) AS rows GROUP BY customer_id"
            )
        else:
            summed = (
                "SELECT d.customer_id AS customer_id, "
                + ", ".join(f"SUM(v.n * ({expr})) AS {name}" for name, expr in sums.items())
                + f" FROM customers_customerdailyaum d JOIN ({union}) AS v ON v.b = d.business_date"
                + f" WHERE TRUE{only} GROUP BY d.customer_id"
            )
            params = [*coverage_params, *only_params]
        return summed, params

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
                f"WHERE role = %s AND start_date <= %s{condition}"
                f"{self._only('customer_id', hashed=True)}) AS spans "
                "WHERE last_day >= %s",
                [
                    kind,
                    self.d0,
                    self.d1,
                    self.through,
                    self.d1,
                    role,
                    self.through,
                    *self.only_params,
                    self.d0,
                ],
            )
        overlap = f"{sql.greatest('p.d0', 's.d0')}, {sql.least('p.d1', 's.d1')}"
        both = (
            "FROM perf_credit p JOIN perf_credit s "
            "ON s.customer_id = p.customer_id AND p.kind = 'P' AND s.kind = 'S'"
        )
        cursor.execute(
            f"INSERT INTO perf_credit SELECT p.customer_id, p.manager_id, 'D', -s.share, {overlap} {both}"
        )
        cursor.execute("DELETE FROM perf_credit WHERE d0 > d1")
        # The pool: the days without a manager of record (before the first, between two
        # and after the last; every day for a customer with none), less what assisting
        # managers count on those days. Only a customer with a manager of record over
        # part of the range can have such days between or around them: most have one
        # over all of it, and are left out of the ordering.
        partly = (
            "kind = 'P' AND customer_id IN (SELECT customer_id FROM perf_credit "
            f"WHERE kind = 'P' AND (d0 > {int(self.d0)} OR d1 < {int(self.d1)}))"
        )
        cursor.execute(
            "INSERT INTO perf_credit SELECT customer_id, NULL, 'N', 1, g0, g1 FROM ("
            "SELECT customer_id, "
            "COALESCE(LAG(d1) OVER (PARTITION BY customer_id ORDER BY d0) + 1, %s) AS g0, "
            f"d0 - 1 AS g1 FROM perf_credit WHERE {partly} "
            "UNION ALL "
            "SELECT customer_id, d1 + 1, %s FROM ("
            "SELECT customer_id, d1, LEAD(d0) OVER (PARTITION BY customer_id ORDER BY d0) AS following "
            f"FROM perf_credit WHERE {partly}) AS spans WHERE following IS NULL"
            ") AS gaps WHERE g0 <= g1",
            [self.d0, self.d1],
        )
        cursor.execute("CREATE INDEX perf_credit_customer ON perf_credit (customer_id, kind)")
        cursor.execute(
            "INSERT INTO perf_credit SELECT c.id, NULL, 'N', 1, %s, %s FROM customers_customer c "
            "WHERE NOT EXISTS (SELECT 1 FROM perf_credit p WHERE p.customer_id = c.id AND p.kind = 'P')"
            f"{self._only('c.id')}",
            [self.d0, self.d1, *self.only_params],
        )
        cursor.execute(
            "INSERT INTO perf_credit SELECT customer_id, NULL, 'N', -share, d0, d1 "
            "FROM perf_credit WHERE kind = 'S'"
        )
        cursor.execute(f"INSERT INTO perf_credit SELECT p.customer_id, NULL, 'N', s.share, {overlap} {both}")
        cursor.execute("DELETE FROM perf_credit WHERE d0 > d1")
        # the customers with one credit row, over the whole range
        cursor.execute(
            "CREATE TEMP TABLE perf_single AS SELECT customer_id FROM perf_credit GROUP BY customer_id "
            "HAVING COUNT(*) = 1 AND MIN(d0) = %s AND MAX(d1) = %s",
            [self.d0, self.d1],
        )
        cursor.execute("CREATE INDEX perf_single_customer ON perf_single (customer_id)")
        for table in ("perf_credit", "perf_whole", "perf_income", "perf_single"):
            cursor.execute(f"ANALYZE {table}")

    def figures(self) -> tuple[str, list]:
        """SELECT customer_id, manager_id and the six unrounded sums of the counted
        days, one row per customer and manager (or pool) with anything to count.

        Most customers have one credit row over the whole range (one manager, or the
        pool, all period): their row is their sums as they are. The others (a
        transfer, split credit, days in the pool) are summed credit row by credit
        row: a whole-range row takes its share of the customer's sums, a row over
        part of the range the days it shares with each batch, and the income booked
        on its days."""
        sql = self.sql
        days = f"({sql.least('c.d1', 'v.d1')} - {sql.greatest('c.d0', 'v.d0')} + 1)"
        income_day = sql.day("i.business_date")
        having = " OR ".join(f"ABS(SUM({name})) > {ZERO_BELOW}" for name in SUMS)
        steady, steady_params = self._steady() if self.steady else ("", [])
        whole = f"c.d0 = {self.d0} AND c.d1 = {self.d1}"
        single = "c.customer_id IN (SELECT customer_id FROM perf_single)"
        shared = ", ".join(
            f"c.share * COALESCE({column}, 0){per_day} AS {name}"
            for column, per_day, name in (
                ("w.dep", "", "dep"),
                ("w.loan", "", "loan"),
                ("w.aum", "", "aum"),
                ("w.liab", " / 365.0", "liab"),
                ("w.asset", " / 365.0", "asset"),
                ("n.inter", "", "inter"),
            )
        )
        of_whole = (
            "FROM perf_credit c LEFT JOIN perf_whole w ON w.customer_id = c.customer_id "
            "LEFT JOIN perf_income n ON n.customer_id = c.customer_id"
        )
        anything = " OR ".join(
            f"ABS(COALESCE({column}, 0)) > {ZERO_BELOW}"
            for column in ("w.dep", "w.loan", "w.aum", "w.liab", "w.asset", "n.inter")
        )
        return (
            f"SELECT c.customer_id, c.manager_id, {shared} {of_whole} WHERE {single} AND ({anything}) "
            "UNION ALL "
            "SELECT customer_id, manager_id, "
            "SUM(dep), SUM(loan), SUM(aum), SUM(liab), SUM(asset), SUM(inter) FROM ("
            f"SELECT c.customer_id, c.manager_id, {shared} "
            f"{of_whole} WHERE {whole} AND NOT {single} "
            "UNION ALL "
            f"SELECT c.customer_id, c.manager_id, c.share * {days} * cb.dep, "
            f"c.share * {days} * cb.loan, c.share * {days} * cb.aum, "
            f"c.share * {days} * cb.liab / 365.0, c.share * {days} * cb.asset / 365.0, 0 "
            f"FROM perf_credit c JOIN {self.cb} ON cb.customer_id = c.customer_id "
            "JOIN perf_cov v ON v.b = cb.b "
            f"WHERE NOT ({whole}) AND {sql.least('c.d1', 'v.d1')} >= {sql.greatest('c.d0', 'v.d0')} "
            "UNION ALL "
            "SELECT c.customer_id, c.manager_id, 0, 0, 0, 0, 0, c.share * i.cny_amount "
            "FROM perf_credit c JOIN customers_incomeentry i ON i.customer_id = c.customer_id "
            f"WHERE NOT ({whole}) AND i.business_date >= %s AND i.business_date <= %s "
            f"AND {income_day} >= c.d0 AND {income_day} <= c.d1"
            f") AS credited GROUP BY customer_id, manager_id HAVING {having}"
            + (f" UNION ALL {steady}" if self.steady else ""),
            [*self.cb_params, self.start, self.through, *steady_params],
        )

    def _steady(self) -> tuple[str, list]:
        """The figures of the customers not moving (`_moving`), PostgreSQL: no
        assisting manager and the same manager of record all through the range, that
        of the last day, who counts the customer's sums (the home branch's pool
        without one). The same as the credit rows: of the primary assignments starting
        by the last day, the latest (by start, then id) stands on the last day unless
        it has ended; an earlier one ended before the range (the day before the next
        one started). The customers' sums are read here (`_summed`), not from
        perf_whole."""
        last = f"DATE '{self.through.isoformat()}'"
        primary = (
            "SELECT customer_id, manager_id FROM ("
            "SELECT DISTINCT ON (customer_id) customer_id, manager_id, end_date "
            f"FROM customers_customerassignment WHERE role = '{AssignmentRole.PRIMARY.value}' "
            f"AND start_date <= {last} ORDER BY customer_id, start_date DESC, id DESC) AS latest "
            f"WHERE end_date IS NULL OR end_date >= {last}"
        )
        # whole cents × 0.01 exactly; cents × ten-thousandths ÷ 365 as `figures` divides
        unit = {
            name: f" * {Decimal(1) / scale}" if scale == 100 else f" / {scale * 365}.0"
            for name, scale in SCALE.items()
        }
        values = ", ".join(f"w.{name}{unit[name]} AS {name}" for name in SCALE)
        having = " OR ".join(f"ABS({name}) > {ZERO_BELOW}" for name in SUMS)
        summed, params = self._summed("", [])
        customers = (
            "SELECT COALESCE(w.customer_id, n.customer_id) AS customer_id, "
            + ", ".join(f"COALESCE(w.{name}, 0) AS {name}" for name in SCALE)
            + f", COALESCE(n.inter, 0) AS inter FROM ({summed}) AS w FULL JOIN perf_income n "
            "ON n.customer_id = w.customer_id"
        )
        # a pool's customer is one of the bank's (a manager's is, by its assignment); looked
        # up one by one (LIMIT: not by hashing every customer), for the pool's only
        conditions = [
            "(p.customer_id IS NOT NULL OR "
            "(SELECT 1 FROM customers_customer c WHERE c.id = w.customer_id LIMIT 1) IS NOT NULL)"
        ]
        if self.moving:
            conditions.append("NOT EXISTS (SELECT 1 FROM perf_moving v WHERE v.customer_id = w.customer_id)")
        # OFFSET 0: the figures are computed once, then filtered (not again in the filter)
        return (
            f"SELECT customer_id, manager_id, {', '.join(SUMS)} FROM ("
            f"SELECT w.customer_id, p.manager_id, {values}, w.inter FROM ({customers}) AS w "
            f"LEFT JOIN ({primary}) AS p ON p.customer_id = w.customer_id "
            f"WHERE {' AND '.join(conditions)} OFFSET 0"
            f") AS steady WHERE {having}"
        ), params

    def day_rows(self) -> list[tuple]:
        """The credited day ranges one by one: (manager id, batch date, first day,
        last day, share, deposits, loans, AUM, liability and asset contribution of a
        day before ÷ 365)."""
        sql = self.sql
        self.cursor.execute(
            f"SELECT c.manager_id, v.b, {sql.greatest('c.d0', 'v.d0')}, {sql.least('c.d1', 'v.d1')}, "
            "SUM(c.share), cb.dep, cb.loan, cb.aum, cb.liab, cb.asset "
            f"FROM perf_credit c JOIN {self.cb} ON cb.customer_id = c.customer_id "
            "JOIN perf_cov v ON v.b = cb.b "
            f"WHERE {sql.least('c.d1', 'v.d1')} >= {sql.greatest('c.d0', 'v.d0')} "
            f"GROUP BY c.manager_id, v.b, {sql.greatest('c.d0', 'v.d0')}, {sql.least('c.d1', 'v.d1')}, "
            "cb.dep, cb.loan, cb.aum, cb.liab, cb.asset "
            f"HAVING ABS(SUM(c.share)) > {ZERO_BELOW} ORDER BY 3, 1",
            self.cb_params,
        )
        return self.cursor.fetchall()

    def income_rows(self) -> list[tuple]:
        """The income booked on credited days: (manager id, date, type, amount, share)."""
        income_day = self.sql.day("i.business_date")
        self.cursor.execute(
            "SELECT c.manager_id, i.business_date, i.income_type, i.cny_amount, SUM(c.share) "
            "FROM perf_credit c JOIN customers_incomeentry i ON i.customer_id = c.customer_id "
            f"WHERE i.business_date >= %s AND i.business_date <= %s AND {income_day} >= c.d0 "
            f"AND {income_day} <= c.d1 GROUP BY c.manager_id, i.id, i.business_date, i.income_type, "
            f"i.cny_amount HAVING ABS(SUM(c.share)) > {ZERO_BELOW} ORDER BY 2, 1",
            [self.start, self.through],
        )
        return self.cursor.fetchall()


@dataclass(frozen=True)
class CreditedDays:
    """Days of one customer credited to one manager (or the pool) at one share,
    with the balances of the batch that stands for them."""

    manager_id: int | None
    batch: datetime.date
    first: datetime.date
    last: datetime.date
    share: Decimal
    deposit: Decimal
    loan: Decimal
    aum: Decimal
    liability: Decimal  # of the whole period's credited days, after ÷ 365
    asset: Decimal

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class CreditedIncome:
    manager_id: int | None
    day: datetime.date
    income_type: str
    amount: Decimal
    share: Decimal

    @property
    def credited(self) -> Decimal:
        return self.amount * self.share


def explain(
    customer_id: int, *, start: datetime.date, through: datetime.date | None, spreads: Mapping[str, Decimal]
) -> tuple[list[CreditedDays], list[CreditedIncome]]:
    """One customer's figures of the counted days, day range by day range, by the
    same statements as `compute` (restricted to that customer): what a drill-down
    shows below a customer's row. Writes nothing."""
    if through is None or through < start:
        return [], []
    covered = coverage(loaded_dates(through), start, through)
    found: dict[str, list] = {}
    try:  # the scratch tables are rolled back: a read writes nothing
        with transaction.atomic(), connection.cursor() as cursor:
            _explain_into(
                found, cursor, customer_id, start=start, through=through, covered=covered, spreads=spreads
            )
            raise _Scratch
    except _Scratch:
        pass
    return _credited_days(found["days"]), [
        CreditedIncome(manager, _as_date(day), kind, _dec(amount), Decimal(str(share)))
        for manager, day, kind, amount, share in found["income"]
    ]


class _Scratch(Exception):
    """Raised to roll back an explanation's scratch tables."""


def _explain_into(found: dict[str, list], cursor, customer_id: int, **credit_options) -> None:
    credit = _Credit(cursor, _Sql(), customer=customer_id, **credit_options)

    def read() -> None:
        found["days"], found["income"] = credit.day_rows(), credit.income_rows()

    credit.run(read)


def _credited_days(rows: list[tuple]) -> list[CreditedDays]:
    epoch_day = EPOCH.toordinal()
    days = []
    for manager, batch, d0, d1, share, dep, loan, aum, liab, asset in rows:
        first = datetime.date.fromordinal(epoch_day + int(d0))
        last = datetime.date.fromordinal(epoch_day + int(d1))
        span, share = Decimal((last - first).days + 1), Decimal(str(share))
        days.append(
            CreditedDays(
                manager,
                _as_date(batch),
                first,
                last,
                share,
                _dec(dep),
                _dec(loan),
                _dec(aum),
                share * span * _dec(liab) / 365,
                share * span * _dec(asset) / 365,
            )
        )
    return days


def _dec(value) -> Decimal:
    return Decimal(str(value or 0))


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _manager_figures(version: ResultVersion, days: int, table: str) -> None:
    """A manager's (or a branch pool's) figures: their customers' (the version's rows
    in `table`) summed, rounded once. A manager counts for their branch; a pool (or
    a manager of no branch) for the customers' home branch, the only rows that read
    the customers."""
    sums = "SUM(cr.deposit_days), SUM(cr.loan_days), SUM(cr.aum_days), SUM(cr.liability), SUM(cr.asset), "
    sums += "SUM(cr.intermediary)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cr.manager_id, u.branch_id, {sums} FROM {table} cr "
            "JOIN accounts_user u ON u.id = cr.manager_id "
            "WHERE cr.version_id = %s AND u.branch_id IS NOT NULL GROUP BY cr.manager_id, u.branch_id "
            f"UNION ALL SELECT cr.manager_id, c.home_branch_id, {sums} FROM {table} cr "
            "JOIN customers_customer c ON c.id = cr.customer_id "
            "LEFT JOIN accounts_user u ON u.id = cr.manager_id "
            "WHERE cr.version_id = %s AND u.branch_id IS NULL GROUP BY cr.manager_id, c.home_branch_id",
            [version.pk, version.pk],
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

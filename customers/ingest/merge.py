"""From the checked staging tables into the portal's tables, set-based: a handful of
UPDATE ... FROM, INSERT ... SELECT (ON CONFLICT ... DO UPDATE) and DELETE statements
per file, the same SQL on PostgreSQL and SQLite 3.33+.

- CUSTOMER: existing customer numbers are updated (UPDATE ... FROM), new ones
  inserted in file order. The stored ciphertext and name-search columns are kept
  when the identity or the name did not change. Portal-owned columns (manager,
  tier, VIP status, consents, household, AUM...) are never touched.
- CONTACT: the set of a customer's valid rows replaces their previous contact
  points; the customer's mobile follows (the primary mobile, else the first).
- ACCOUNT: INSERT ... ON CONFLICT (account_no) DO UPDATE; the latest balance stays
  with the AUM refresh that runs after the load.
- BALANCE, TXN_SUMMARY, INCOME: the business date's rows are replaced as a whole,
  so a corrected batch of the same date leaves no stale row behind (a batch without
  the file has no rows of that kind that day). Income rows are kept one by one, as
  booked: several of one type on a day add up when summed.
- LOAN_STATUS: a change log. The business date's rows are replaced, but a row is
  written only where the account's status differs from its latest status before
  that date (or it has none): the status on a date is the account's latest row on
  or before it, so an account without a row in a batch keeps its status.

Columns of the target tables that the interface does not fill get their model
default, read from the model, so a column added later by another area does not
break the load."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Model

from accounts.models import Branch

from ..choices import QualityIssueKind, QualityIssueStatus
from ..models import (
    Account,
    AccountBalance,
    ContactPoint,
    Customer,
    DataQualityIssue,
    IncomeEntry,
    LoanStatus,
    TransactionSummary,
)
from .dialect import Dialect
from .spec import ACCOUNT, BALANCE, CONTACT, CUSTOMER, INCOME, LOAN_STATUS, TXN_SUMMARY
from .staging import Staging, staging_table

MOBILES = "ing_mobile"
logger = logging.getLogger(__name__)
# Bulk mode (PostgreSQL): a load that brings at least this many rows and at least as
# many as the table holds rebuilds the table's secondary indexes and foreign keys.
BULK_INDEX_MEMORY = "512MB"
BULK_MIN_ROWS = 50_000
# How long bulk mode may wait for its table lock before loading the ordinary way.
BULK_LOCK_TIMEOUT = "5s"


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Param:
    """A value passed as a query parameter in an INSERT ... SELECT list."""

    def __init__(self, value):
        self.value = value


def _insert_columns(model: type[Model], provided: Mapping[str, str | Param]) -> tuple[str, str, list]:
    """(column list, select list, params) for an INSERT ... SELECT into `model`:
    the `provided` SQL expressions (or parameters) by column, every other column
    its model default."""
    columns, expressions, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.auto_created:
            continue
        columns.append(connection.ops.quote_name(f.column))
        expression = provided.get(f.column)
        if isinstance(expression, str):
            expressions.append(expression)
            continue
        if expression is None:
            default = f.get_default()
            if default is None and not f.null:
                raise TypeError(f"The ingest does not know how to fill {model.__name__}.{f.name}")
            expression = Param(f.get_db_prep_save(default, connection))
        expressions.append("%s")
        params.append(expression.value)
    return ", ".join(columns), ", ".join(expressions), params


class Merger:
    def __init__(self, staging: Staging, dialect: Dialect, *, business_date: datetime.date):
        self.staging = staging
        self.d = dialect
        self.business_date = business_date
        ops = connection.ops
        self.now = ops.adapt_datetimefield_value(_now())
        self.day = ops.adapt_datefield_value(business_date)

    def execute(self, sql: str, params=()) -> int:
        return self.staging.execute(sql, params)

    @contextmanager
    def bulk(self, model: type[Model], incoming: int) -> Iterator[bool]:
        """Around the writes into `model`'s table: when the load at least doubles a
        big table (a first load), drop its secondary indexes and outgoing foreign
        keys, and build them again afterwards — an index built from sorted rows and a
        foreign key checked by one join cost a fraction of keeping them up to date
        row by row (measured: a million customers, 63 s with the indexes against
        6 s plus 26 s of index builds). Everything happens in the load's
        transaction: a crash rolls the definitions back with the rows, and the
        schema after the load is the schema before it. The price: from the first
        DROP to the commit the table is locked (ACCESS EXCLUSIVE) and the portal's
        readers of it wait, which is why only first loads do this. Yields whether
        bulk mode is on."""
        if not self.d.postgres or incoming < getattr(settings, "INGEST_BULK_MIN_ROWS", BULK_MIN_ROWS):
            yield False
            return
        name = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {table(model)} LIMIT %s) t", [incoming])
            if cursor.fetchone()[0] >= incoming:
                yield False
                return
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = %s::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                " ORDER BY 1",
                [name],
            )
            # an index of a partitioned table (the daily history, customers.partitions)
            # prints as "ON ONLY <table>", which would build it without its partitions'
            indexes = [
                (index, definition.replace(" ON ONLY ", " ON ", 1)) for index, definition in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
                [name],
            )
            foreign_keys = cursor.fetchall()
            if foreign_keys:
                # The foreign keys are deferred: the rows an earlier file wrote in this
                # transaction (new accounts, say) leave checks queued on the tables they
                # refer to, and PostgreSQL refuses to alter a table with queued checks
                # ("pending trigger events"), which dropping a key does on both of its
                # tables. Run the queued checks now, as the commit would have.
                connection.check_constraints()
            try:
                with transaction.atomic():
                    cursor.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'")
                    cursor.execute(f"LOCK TABLE {table(model)} IN ACCESS EXCLUSIVE MODE")
                    for index, _definition in indexes:
                        cursor.execute(f"DROP INDEX {index}")
                    for constraint, _definition in foreign_keys:
                        quoted = connection.ops.quote_name(constraint)
                        cursor.execute(f"ALTER TABLE {table(model)} DROP CONSTRAINT {quoted}")
                    cursor.execute("SET LOCAL lock_timeout = 0")
            except OperationalError as exc:  # the table is busy: load it the ordinary way
                logger.warning("ingest: no bulk mode for %s (%s)", name, exc)
                yield False
                return
        yield True
        with connection.cursor() as cursor:
            # index builds sort in memory up to this much (the server default, 64MB,
            # spills a million-row GIN or B-tree build to disk in many passes)
            memory = getattr(settings, "INGEST_INDEX_BUILD_MEMORY", BULK_INDEX_MEMORY)
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [memory])
            for _index, definition in indexes:
                cursor.execute(definition)
            for constraint, definition in foreign_keys:
                quoted = connection.ops.quote_name(constraint)
                cursor.execute(f"ALTER TABLE {table(model)} ADD CONSTRAINT {quoted} {definition}")

    # ------------------------------------------------------------------ customers

    def customers(self) -> int:
        d, s = self.d, staging_table(CUSTOMER)
        customer, branch = table(Customer), table(Branch)
        source = (
            f"{s} s JOIN ing_customer_py p ON p.line_no = s.line_no"
            f" JOIN {branch} b ON b.code = s.c_home_branch"
            f" LEFT JOIN {MOBILES} m ON m.cust_no = s.c_cust_no"
        )
        keep = "CASE WHEN p.{flag} THEN {t}.{col} ELSE p.{col} END"
        updated = self.execute(
            f"""UPDATE {customer} SET
                   name = s.c_name, id_type = s.c_id_type,
                   id_number_enc = {keep.format(flag="keep_id", t=customer, col="id_number_enc")},
                   id_hash = p.id_hash, id_suffix = p.id_suffix,
                   gender = p.gender, birth_date = {d.iso_date("p.birth_date")},
                   nationality = COALESCE(s.c_nationality, 'CHN'),
                   occupation = COALESCE(s.c_occupation, ''), employer = COALESCE(s.c_employer, ''),
                   education = COALESCE(s.c_education, ''), marital = COALESCE(s.c_marital, ''),
                   annual_income = {d.amount("s.c_annual_income")},
                   risk_level = COALESCE(s.c_risk_level, ''), risk_expiry = {d.date("s.c_risk_expiry")},
                   home_branch_id = b.id, open_date = {d.date("s.c_open_date")},
                   status = COALESCE(s.c_status, 'A'),
                   name_pinyin = {keep.format(flag="keep_name", t=customer, col="name_pinyin")},
                   name_initials = {keep.format(flag="keep_name", t=customer, col="name_initials")},
                   search_tokens = {keep.format(flag="keep_name", t=customer, col="search_tokens")},
                   mobile_enc = COALESCE(m.mobile_enc, {customer}.mobile_enc),
                   mobile_hash = COALESCE(m.mobile_hash, {customer}.mobile_hash),
                   mobile_suffix = COALESCE(m.mobile_suffix, {customer}.mobile_suffix),
                   updated_at = %s
              FROM {source}
             WHERE {customer}.customer_no = s.c_cust_no""",
            [self.now],
        )
        columns, select, params = _insert_columns(
            Customer,
            {
                "customer_no": "s.c_cust_no",
                "name": "s.c_name",
                "id_type": "s.c_id_type",
                "id_number_enc": "p.id_number_enc",
                "id_hash": "p.id_hash",
                "id_suffix": "p.id_suffix",
                "gender": "p.gender",
                "birth_date": d.iso_date("p.birth_date"),
                "nationality": "COALESCE(s.c_nationality, 'CHN')",
                "occupation": "COALESCE(s.c_occupation, '')",
                "employer": "COALESCE(s.c_employer, '')",
                "education": "COALESCE(s.c_education, '')",
                "marital": "COALESCE(s.c_marital, '')",
                "annual_income": d.amount("s.c_annual_income"),
                "risk_level": "COALESCE(s.c_risk_level, '')",
                "risk_expiry": d.date("s.c_risk_expiry"),
                "home_branch_id": "b.id",
                "open_date": d.date("s.c_open_date"),
                "status": "COALESCE(s.c_status, 'A')",
                "name_pinyin": "p.name_pinyin",
                "name_initials": "p.name_initials",
                "search_tokens": "p.search_tokens",
                "mobile_enc": "COALESCE(m.mobile_enc, '')",
                "mobile_hash": "COALESCE(m.mobile_hash, '')",
                "mobile_suffix": "COALESCE(m.mobile_suffix, '')",
                "created_at": Param(self.now),
                "updated_at": Param(self.now),
            },
        )
        # In file order, so that the ids (and "the oldest record" of a duplicate
        # pair) are the same on every load of the same batch.
        return updated + self.execute(
            f"INSERT INTO {customer} ({columns}) SELECT {select} FROM {source}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {customer} x WHERE x.customer_no = s.c_cust_no)"
            f" ORDER BY s.line_no",
            params,
        )

    def flag_duplicates(self) -> int:
        """The same person (ID type + ID number) under two customer numbers loads and
        enters the data-quality queue: one duplicate_id issue per later record of a
        group, paired with the oldest (lowest id) — the rule of `customers.quality`,
        restricted to the identities of this batch, so the nightly scan finds them
        already there."""
        customer, issue = table(Customer), table(DataQualityIssue)
        kind = QualityIssueKind.DUPLICATE_ID.value
        open_, dismissed = QualityIssueStatus.OPEN.value, QualityIssueStatus.DISMISSED.value
        return self.execute(
            f"""INSERT INTO {issue} (kind, customer_id, other_customer_id, pair_key, branch_id, detail,
                                     status, detected_at, resolution)
                SELECT %s, g.first_id, b.id, CAST(b.id AS VARCHAR(24)), a.home_branch_id, '', %s, %s, ''
                  FROM (SELECT c.id_type, c.id_hash, MIN(c.id) AS first_id FROM {customer} c
                          JOIN (SELECT DISTINCT id_type, id_hash FROM ing_customer_py) k
                            ON k.id_type = c.id_type AND k.id_hash = c.id_hash
                         WHERE c.merged_into_id IS NULL AND c.id_hash <> ''
                         GROUP BY c.id_type, c.id_hash HAVING COUNT(*) > 1) g
                  JOIN {customer} b ON b.id_type = g.id_type AND b.id_hash = g.id_hash
                                   AND b.id > g.first_id AND b.merged_into_id IS NULL
                  JOIN {customer} a ON a.id = g.first_id
                 WHERE NOT EXISTS (SELECT 1 FROM {issue} i WHERE i.kind = %s AND i.customer_id = g.first_id
                                     AND i.pair_key = CAST(b.id AS VARCHAR(24)) AND i.status IN (%s, %s))
                ON CONFLICT DO NOTHING""",
            [kind, open_, self.now, kind, open_, dismissed],
        )

    # ------------------------------------------------------------------- contacts

    def contacts(self) -> int:
        s, customer, contact = staging_table(CONTACT), table(Customer), table(ContactPoint)
        self.execute(
            f"DELETE FROM {contact} WHERE customer_id IN (SELECT c.id FROM {customer} c"
            f" WHERE c.customer_no IN (SELECT cust_no FROM {MOBILES}))"
        )
        columns, select, params = _insert_columns(
            ContactPoint,
            {
                "customer_id": "c.id",
                "type": "s.c_type",
                "value_enc": "p.value_enc",
                "value_hash": "p.value_hash",
                "is_primary": "(COALESCE(s.c_is_primary, 'N') = 'Y')",
                "updated_at": Param(self.now),
            },
        )
        return self.execute(
            f"INSERT INTO {contact} ({columns}) SELECT {select}"
            f" FROM {s} s JOIN ing_contact_py p ON p.line_no = s.line_no"
            f" JOIN {customer} c ON c.customer_no = s.c_cust_no ORDER BY s.line_no",
            params,
        )

    def other_mobiles(self) -> int:
        """The mobile of customers with new contacts but no CUSTOMER row in the batch
        (the others got theirs with their row), where it changed."""
        customer = table(Customer)
        return self.execute(
            f"""UPDATE {customer} SET mobile_enc = m.mobile_enc, mobile_hash = m.mobile_hash,
                       mobile_suffix = m.mobile_suffix, updated_at = %s
                  FROM {MOBILES} m
                 WHERE {customer}.customer_no = m.cust_no AND {customer}.mobile_hash <> m.mobile_hash
                   AND NOT EXISTS (SELECT 1 FROM {staging_table(CUSTOMER)} s
                                    WHERE s.c_cust_no = m.cust_no)""",
            [self.now],
        )

    # ------------------------------------------------------------------- accounts

    def accounts(self) -> int:
        """Existing account numbers updated, new ones inserted (two plain statements:
        INSERT ... ON CONFLICT pays a speculative insertion per row, twice the
        time on a first load of millions)."""
        d, s = self.d, staging_table(ACCOUNT)
        account, customer, branch = table(Account), table(Customer), table(Branch)
        source = (
            f"{s} s JOIN {customer} c ON c.customer_no = s.c_cust_no JOIN {branch} b ON b.code = s.c_branch"
        )
        values = {
            "account_no": "s.c_acct_no",
            "customer_id": "c.id",
            "product_code": "COALESCE(s.c_product_code, '')",
            "category": "s.c_category",
            "currency": "s.c_currency",
            "open_date": d.date("s.c_open_date"),
            "maturity_date": d.date("s.c_maturity_date"),
            "status": "s.c_status",
            "branch_id": "b.id",
        }
        changes = ", ".join(
            f"{column} = {expression}" for column, expression in values.items() if column != "account_no"
        )
        updated = self.execute(
            f"UPDATE {account} SET {changes} FROM {source} WHERE {account}.account_no = s.c_acct_no"
        )
        columns, select, params = _insert_columns(Account, values)
        return updated + self.execute(
            f"INSERT INTO {account} ({columns}) SELECT {select} FROM {source}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {account} x WHERE x.account_no = s.c_acct_no)"
            f" ORDER BY s.line_no",
            params,
        )

    # ------------------------------------------------------------ daily figures

    def balances(self) -> int:
        d, s, account, balance = self.d, staging_table(BALANCE), table(Account), table(AccountBalance)
        self.execute(f"DELETE FROM {balance} WHERE business_date = %s", [self.day])
        return self.execute(
            f"INSERT INTO {balance} (business_date, account_id, balance, cny_balance)"
            f" SELECT %s, a.id, {d.amount('s.c_balance')}, {d.amount('s.c_cny_balance')}"
            f" FROM {s} s JOIN {account} a ON a.account_no = s.c_acct_no ORDER BY s.line_no",
            [self.day],
        )

    def transactions(self) -> int:
        d, s, customer, txn = self.d, staging_table(TXN_SUMMARY), table(Customer), table(TransactionSummary)
        self.execute(f"DELETE FROM {txn} WHERE business_date = %s", [self.day])
        return self.execute(
            f"INSERT INTO {txn} (business_date, customer_id, channel, txn_count, txn_amount)"
            f" SELECT %s, c.id, s.c_channel, CAST(s.c_txn_count AS INTEGER), {d.amount('s.c_txn_amount')}"
            f" FROM {s} s JOIN {customer} c ON c.customer_no = s.c_cust_no ORDER BY s.line_no",
            [self.day],
        )

    def income(self) -> int:
        """The day's income rows, each as booked (its account where one is given)."""
        d, s = self.d, staging_table(INCOME)
        income, customer, account = table(IncomeEntry), table(Customer), table(Account)
        self.execute(f"DELETE FROM {income} WHERE business_date = %s", [self.day])
        columns, select, params = _insert_columns(
            IncomeEntry,
            {
                "business_date": Param(self.day),
                "customer_id": "c.id",
                "account_id": "a.id",
                "income_type": "s.c_income_type",
                "cny_amount": d.amount("s.c_cny_amount"),
            },
        )
        return self.execute(
            f"INSERT INTO {income} ({columns}) SELECT {select}"
            f" FROM {s} s JOIN {customer} c ON c.customer_no = s.c_cust_no"
            f" LEFT JOIN {account} a ON a.account_no = s.c_acct_no ORDER BY s.line_no",
            params,
        )

    def loan_statuses(self) -> int:
        """The day's loan statuses, kept as changes: the date's rows are replaced by
        the staged rows whose status differs from the account's latest before the
        date (one INSERT ... SELECT). Returns the rows written, at most the rows
        staged (an unchanged status writes nothing)."""
        d, s = self.d, staging_table(LOAN_STATUS)
        status, account = table(LoanStatus), table(Account)
        self.execute(f"DELETE FROM {status} WHERE business_date = %s", [self.day])
        days, amount, risk_class = (
            "CAST(s.c_overdue_days AS INTEGER)",
            d.amount("s.c_overdue_amount"),
            "CAST(s.c_risk_class AS INTEGER)",
        )
        columns, select, params = _insert_columns(
            LoanStatus,
            {
                "account_id": "a.id",
                "business_date": Param(self.day),
                "overdue_days": days,
                "overdue_amount": amount,
                "risk_class": risk_class,
            },
        )
        # The account's latest status before the date, read by one backward probe of
        # the primary key per staged row (0: the same as the staged one; none: a
        # first status). A join would hash the whole history every night.
        same_as_before = (
            f"SELECT CASE WHEN p.overdue_days = {days} AND p.overdue_amount = {amount}"
            f" AND p.risk_class = {risk_class} THEN 0 ELSE 1 END FROM {status} p"
            f" WHERE p.account_id = a.id AND p.business_date < %s ORDER BY p.business_date DESC LIMIT 1"
        )
        written = self.execute(
            f"INSERT INTO {status} ({columns}) SELECT {select}"
            f" FROM {s} s JOIN {account} a ON a.account_no = s.c_acct_no"
            f" WHERE COALESCE(({same_as_before}), 1) = 1 ORDER BY s.line_no",
            [*params, self.day],
        )
        # A re-load of an older date (forced) can make an account's next row repeat
        # the status the date now ends with: that row is no change any more.
        self.execute(
            f"DELETE FROM {status} WHERE business_date > %s AND EXISTS (SELECT 1 FROM {status} p"
            f" WHERE p.account_id = {status}.account_id AND p.business_date <= %s"
            f" AND p.business_date = (SELECT MAX(q.business_date) FROM {status} q"
            f" WHERE q.account_id = {status}.account_id AND q.business_date < {status}.business_date)"
            f" AND p.overdue_days = {status}.overdue_days AND p.overdue_amount = {status}.overdue_amount"
            f" AND p.risk_class = {status}.risk_class)",
            [self.day, self.day],
        )
        return written


def _now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()

"""Loading a verified batch inside the caller's transaction: each file staged and
checked (SQL, then the checks only Python can do: resident IDs, encryption), then
merged into the portal's tables, customers and their contacts first; then the error
report, the counts and the `loaded` mark."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Branch
from core.text import visible_control_characters

from ..choices import CREDIT_CATEGORIES, BatchFilePhase, BatchStatus
from ..masking import mask_account_no, mask_contact, mask_id_number, mask_name
from ..models import (
    Account,
    AccountBalance,
    BatchFile,
    BatchLoad,
    ContactPoint,
    Customer,
    IncomeEntry,
    LoadError,
    LoanStatus,
    TransactionSummary,
)
from .control import Batch
from .dialect import Dialect
from .loads import audit_load
from .merge import MOBILES, Merger, table
from .progress import Progress, checkpoint
from .python_checks import PythonPass, check_customers, default_workers, encrypt_contacts
from .spec import (
    ACCOUNT,
    BALANCE,
    CONTACT,
    CUSTOMER,
    INCOME,
    LOAN_STATUS,
    MASK_ACCOUNT,
    MASK_CONTACT,
    MASK_ID,
    MASK_NAME,
    TXN_SUMMARY,
    FileSpec,
)
from .staging import ERROR_TABLE, Staging, staging_table

FETCH_CHUNK = 5000


@dataclass
class FileResult:
    lines: int = 0
    loaded: int = 0
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


_CUSTOMER_PY_COLUMNS = (
    "line_no", "id_type", "id_number_enc", "id_hash", "id_suffix", "keep_id", "gender", "birth_date",
    "keep_name", "name_pinyin", "name_initials", "search_tokens",
)  # fmt: skip
_CONTACT_PY_COLUMNS = ("line_no", "value_enc", "value_hash")


# The table each of the later files is written to.
TARGETS = {
    ACCOUNT: Account,
    BALANCE: AccountBalance,
    TXN_SUMMARY: TransactionSummary,
    INCOME: IncomeEntry,
    LOAN_STATUS: LoanStatus,
}
# Files whose merge writes only the rows that change what the portal holds (the
# others write every checked row).
CHANGES_ONLY = frozenset({LOAN_STATUS})


class BatchLoader:
    """Loads a verified batch inside the caller's transaction."""

    def __init__(self, load: BatchLoad, batch: Batch, files: dict[str, BatchFile]):
        self.load = load
        self.batch = batch
        self.files = files
        self.dialect = Dialect(connection.vendor)
        self.results: dict[str, FileResult] = {}
        self.lines: dict[str, int] = {}
        self._seconds: dict[str, float] = {}
        self.duplicates = 0
        self.progress: Progress | None = None

    def run(self) -> None:
        started = time.perf_counter()
        self.progress = Progress(self.files)
        try:
            with connection.cursor() as cursor:
                staging = Staging(cursor, self.dialect)
                if self.dialect.postgres:
                    # big hash joins and sorts in memory rather than in temp files
                    staging.execute("SET LOCAL work_mem = '256MB'")
                    staging.execute("SET LOCAL maintenance_work_mem = '512MB'")
                staging.create_common()
                merger = Merger(staging, self.dialect, business_date=self.batch.business_date)
                self._people(staging, merger)
                self._later_files(staging, merger)
                self._finish(staging, self.duplicates, time.perf_counter() - started)
                staging.drop_common()
        finally:
            self.progress.close()

    def _later_files(self, staging: Staging, merger: Merger) -> None:
        """Accounts, balances, transaction summaries, income and loan statuses, in
        that order: each file is checked once what it refers to is written."""
        merges = {
            ACCOUNT: merger.accounts,
            BALANCE: merger.balances,
            TXN_SUMMARY: merger.transactions,
            INCOME: merger.income,
            LOAN_STATUS: merger.loan_statuses,
        }
        for spec, merge in merges.items():
            self._stage_and_check(spec, staging)
            self._phase(spec, BatchFilePhase.MERGING, 75)
            with self._timing(spec):
                with merger.bulk(TARGETS[spec], staging.count(spec)):
                    written = merge()
                if spec is ACCOUNT and self.dialect.postgres:
                    # fresh statistics: the balances join on the accounts just written
                    staging.execute(f"ANALYZE {table(Account)} (account_no, customer_id)")
            self._done(spec, staging, written)
            checkpoint(f"{spec.kind}:merged")

    # ------------------------------------------------------------------- steps

    def _phase(self, spec: FileSpec, phase: str, percent: float) -> None:
        assert self.progress is not None  # set for the length of run()
        self.progress(spec, phase, percent)

    @contextmanager
    def _timing(self, spec: FileSpec):
        """Time spent on a file (customers and contacts interleave)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[spec.name] = self._seconds.get(spec.name, 0.0) + time.perf_counter() - started

    def _stage_and_check(self, spec: FileSpec, staging: Staging) -> None:
        """Stage a file and run every check SQL can do; the rows left are valid so far."""
        entry = self.batch.entries.get(spec.name)
        path = self.batch.path / spec.name if entry else None
        size = entry.size if entry else 0
        self._phase(spec, BatchFilePhase.READING, 0)
        with self._timing(spec):
            self.lines[spec.name] = staging.stage(
                spec,
                path,
                entry,
                lambda done: self._phase(spec, BatchFilePhase.READING, 50 * done / max(size, 1)),
            )
        checkpoint(f"{spec.kind}:staged")
        self._phase(spec, BatchFilePhase.CHECKING, 50)
        with self._timing(spec):
            staging.check_fields(spec, _references(spec))
            staging.check_conditions(spec, _belongs(spec))
            if spec is not CUSTOMER:  # customers are checked for repeats after the ID check
                staging.check_repeats(spec)

    def _done(self, spec: FileSpec, staging: Staging, written: int) -> None:
        loaded = staging.count(spec)
        if written != loaded and not (spec in CHANGES_ONLY and written < loaded):
            # every checked row must have been written (of a change log, at most every
            # one): never lose one silently
            raise RuntimeError(f"{spec.name}: {loaded} rows passed the checks but {written} were written")
        staging.drop(staging_table(spec), f"{staging_table(spec)}_py")
        self._phase(spec, BatchFilePhase.DONE, 100)
        self.results[spec.name] = FileResult(
            lines=self.lines.get(spec.name, 0), loaded=loaded, seconds=self._seconds.get(spec.name, 0.0)
        )

    def _people(self, staging: Staging, merger: Merger) -> None:
        """Customers and their contacts, checked together before either is written:
        a new customer is inserted with the mobile of its contacts (no second
        pass over the customer table)."""
        setting = getattr(settings, "INGEST_PYTHON_WORKERS", 0)
        rows = sum(e.rows for n, e in self.batch.entries.items() if n in (CUSTOMER.name, CONTACT.name))
        with PythonPass(default_workers(rows, setting)) as python:
            self._stage_and_check(CUSTOMER, staging)
            self._phase(CUSTOMER, BatchFilePhase.CHECKING, 60)
            with self._timing(CUSTOMER):
                self._customers_python(staging, python)
                staging.check_repeats(CUSTOMER)
            checkpoint("customer:checked")  # the check pool (if any) is up
            self._stage_and_check(CONTACT, staging)
            with self._timing(CONTACT):
                self._contacts_python(staging, python)
        self._phase(CUSTOMER, BatchFilePhase.MERGING, 75)
        with self._timing(CUSTOMER):
            with merger.bulk(Customer, staging.count(CUSTOMER)):
                customers_written = merger.customers()
            if self.dialect.postgres and self.lines[CUSTOMER.name]:
                # fresh statistics for what follows, which joins on the customers just
                # written (those columns only: the others wait for autovacuum)
                staging.execute(f"ANALYZE {table(Customer)} (customer_no, id_type, id_hash, merged_into_id)")
            self.duplicates = merger.flag_duplicates()
        checkpoint("customer:merged")
        self._phase(CONTACT, BatchFilePhase.MERGING, 75)
        with self._timing(CONTACT):
            with merger.bulk(ContactPoint, staging.count(CONTACT)):
                contacts_written = merger.contacts()
            merger.other_mobiles()
        self._done(CONTACT, staging, contacts_written)
        self._done(CUSTOMER, staging, customers_written)
        staging.drop("ing_mobile")
        checkpoint("contact:merged")

    def _customers_python(self, staging: Staging, python: PythonPass) -> None:
        d = self.dialect
        staging.drop("ing_customer_py")
        staging.execute(
            d.create_temp(
                "ing_customer_py",
                f"line_no BIGINT, id_type TEXT, id_number_enc TEXT, id_hash TEXT, id_suffix TEXT,"
                f" keep_id {d.boolean}, gender TEXT, birth_date TEXT, keep_name {d.boolean},"
                " name_pinyin TEXT, name_initials TEXT, search_tokens TEXT",
            )
        )
        rows = staging.fetch_chunks(
            f"SELECT s.line_no, s.c_id_type, s.c_id_no, s.c_gender, s.c_birth_date, s.c_name,"
            f" c.id_type, c.id_hash, c.name FROM {staging_table(CUSTOMER)} s"
            f" LEFT JOIN {table(Customer)} c ON c.customer_no = s.c_cust_no",
            size=FETCH_CHUNK,
        )
        for out, errors in python.map(check_customers, rows):
            staging.insert_rows("ing_customer_py", _CUSTOMER_PY_COLUMNS, out)
            staging.add_errors(CUSTOMER, errors)
        staging.remove_rejected(CUSTOMER)

    def _contacts_python(self, staging: Staging, python: PythonPass) -> None:
        """Encrypt the contacts; the mobile that becomes each customer's (their first
        primary mobile, else their first mobile, in file order) is also encrypted for
        the customer row, into MOBILES."""
        d, contact = self.dialect, staging_table(CONTACT)
        staging.drop("ing_contact_py", MOBILES)
        staging.execute(d.create_temp("ing_contact_py", "line_no BIGINT, value_enc TEXT, value_hash TEXT"))
        staging.execute(
            d.create_temp(MOBILES, "cust_no TEXT, mobile_enc TEXT, mobile_hash TEXT, mobile_suffix TEXT")
        )
        rows = staging.fetch_chunks(
            f"SELECT s.line_no, s.c_cust_no, s.c_type, s.c_value,"
            f" CASE WHEN ch.first_line IS NULL THEN 0 ELSE 1 END"
            f" FROM {contact} s LEFT JOIN ("
            f"SELECT COALESCE(MIN(CASE WHEN c_is_primary = 'Y' THEN line_no END), MIN(line_no)) AS first_line"
            f" FROM {contact} WHERE c_type = 'MOBILE' GROUP BY c_cust_no) ch ON ch.first_line = s.line_no",
            size=FETCH_CHUNK,
        )
        for out, mobiles in python.map(encrypt_contacts, rows):
            staging.insert_rows("ing_contact_py", _CONTACT_PY_COLUMNS, out)
            staging.insert_rows(MOBILES, ["cust_no", "mobile_enc", "mobile_hash", "mobile_suffix"], mobiles)
        # customers whose new contacts hold no mobile have none any more
        staging.execute(
            f"INSERT INTO {MOBILES} (cust_no, mobile_enc, mobile_hash, mobile_suffix)"
            f" SELECT DISTINCT s.c_cust_no, '', '', '' FROM {contact} s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {MOBILES} m WHERE m.cust_no = s.c_cust_no)"
        )

    # ------------------------------------------------------------------ the end

    def _finish(self, staging: Staging, duplicates: int, seconds: float) -> None:
        """The error report, the counts and the `loaded` mark, in the load's
        transaction."""
        rejected = self._error_report(staging)
        total_loaded = total_rejected = 0
        for name, record in self.files.items():
            result = self.results.get(name, FileResult())
            record.loaded, record.rejected = result.loaded, rejected.get(name, 0)
            record.phase, record.progress, record.seconds = BatchFilePhase.DONE, 100, round(result.seconds, 3)
            total_loaded += record.loaded
            total_rejected += record.rejected
        BatchFile.objects.bulk_update(
            list(self.files.values()), ["loaded", "rejected", "phase", "progress", "seconds"]
        )
        load = self.load
        load.status = BatchStatus.LOADED
        load.finished_at = timezone.now()
        load.rows_loaded, load.rows_rejected = total_loaded, total_rejected
        load.message = (
            f"Loaded {total_loaded} rows, rejected {total_rejected} (see the error report)"
            + (
                f"; {duplicates} possible duplicate customers sent to the data-quality queue"
                if duplicates
                else ""
            )
            + f" in {seconds:.1f} s."
        )
        load.save(update_fields=["status", "finished_at", "rows_loaded", "rows_rejected", "message"])
        audit_load(load)

    def _error_report(self, staging: Staging) -> dict[str, int]:
        """The load's error report (LoadError rows, values masked), from the error
        table. Returns the rejected lines per file."""
        staging.cursor.execute(f"SELECT file, COUNT(DISTINCT line_no) FROM {ERROR_TABLE} GROUP BY file")
        rejected = {file: int(count) for file, count in staging.cursor.fetchall()}
        qn = connection.ops.quote_name
        for chunk in staging.fetch_chunks(
            f"SELECT file, line_no, col, val, code, reason, mask, ctype FROM {ERROR_TABLE}"
            " ORDER BY file, line_no",
            size=FETCH_CHUNK,
        ):
            staging.insert_rows(
                table(LoadError),
                [qn(c) for c in ("load_id", "file", "line", "column", "value", "code", "reason")],
                [
                    (
                        self.load.pk,
                        file,
                        int(line),
                        col or "",
                        _masked(mask, value, ctype),
                        code,
                        reason[:200],
                    )
                    for file, line, col, value, code, reason, mask, ctype in chunk
                ],
            )
        return rejected


def _references(spec: FileSpec) -> dict[str, tuple[list[tuple[str, str]], str, str]]:
    """Values that must exist: column -> ([(table, column), ...] any of which may hold
    it, code, reason). Files are checked in order and customers and accounts are
    written before the files that refer to them are checked; contacts are checked
    before their customers are written, against the checked customers of the batch."""
    branch = ([(table(Branch), "code")], "unknown_branch", "no such branch in the portal")
    customer = (
        [(table(Customer), "customer_no")],
        "unknown_customer",
        "no such customer in the portal or this batch",
    )
    account = (
        [(table(Account), "account_no")],
        "unknown_account",
        "no such account in the portal or this batch",
    )
    batch_customer = ([*customer[0], (staging_table(CUSTOMER), "c_cust_no")], *customer[1:])
    return {
        CUSTOMER.name: {"HOME_BRANCH": branch},
        CONTACT.name: {"CUST_NO": batch_customer},
        ACCOUNT.name: {"CUST_NO": customer, "BRANCH": branch},
        BALANCE.name: {"ACCT_NO": account},
        TXN_SUMMARY.name: {"CUST_NO": customer},
        INCOME.name: {"CUST_NO": customer, "ACCT_NO": account},
        LOAN_STATUS.name: {"ACCT_NO": account},
    }[spec.name]


def _belongs(spec: FileSpec) -> dict[str, tuple[str, str, str]]:
    """Values that must belong to another value of the same row, or be of a kind,
    checked once they are known to exist: column -> (condition on the staged row `s`
    that breaks the rule, code, reason). The account of an income row is its
    customer's; after a merge in the portal, the account is the survivor's, which
    counts as the customer's too. The account of a loan status is a loan or a card."""
    account, customer = table(Account), table(Customer)
    if spec is LOAN_STATUS:
        credit = ", ".join(f"'{category}'" for category in sorted(CREDIT_CATEGORIES))
        return {
            "ACCT_NO": (
                f"NOT EXISTS (SELECT 1 FROM {account} a"
                f" WHERE a.account_no = s.c_acct_no AND a.category IN ({credit}))",
                "not_credit_account",
                "not a loan or credit-card account",
            )
        }
    if spec is not INCOME:
        return {}
    return {
        "ACCT_NO": (
            f"s.c_acct_no IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {account} a"
            f" JOIN {customer} c ON c.customer_no = s.c_cust_no"
            f" WHERE a.account_no = s.c_acct_no AND a.customer_id IN (c.id, c.merged_into_id))",
            "account_of_other_customer",
            "the account belongs to another customer",
        )
    }


def _masked(mask: str | None, value: str | None, ctype: str | None) -> str:
    """An error report value as the privacy rules allow it to be shown, its control
    characters written out (they would act on the screen or in the CSV)."""
    if value is None:
        return ""
    if mask == MASK_ID:
        value = mask_id_number(value)
    elif mask == MASK_NAME:
        value = mask_name(value)
    elif mask == MASK_ACCOUNT:
        value = mask_account_no(value)
    elif mask == MASK_CONTACT:
        value = mask_contact(ctype or "", value)
    return visible_control_characters(value)[:200]

"""Shared helpers of the ingest tests: make a batch, load it, read a data file back,
rewrite a control file after tampering, and a digest of everything a load writes
(natural keys, decrypted identifiers: two encryptions of a value differ, the
value does not)."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from pathlib import Path

from customers.ingest.runner import batch_load_create, ingest_run
from customers.ingest.spec import CONTROL_FILE, CONTROL_HEADER, FILES
from customers.models import (
    Account,
    AccountBalance,
    BatchFile,
    BatchLoad,
    ContactPoint,
    Customer,
    DataQualityIssue,
    LoadError,
    TransactionSummary,
)
from demo.extract import make_extract

DAY = datetime.date(2026, 3, 2)


def batch(tmp_path: Path, *, day: datetime.date = DAY, customers: int = 120, **options):
    return make_extract(tmp_path, business_date=day, customers=customers, **options)


def load(path: Path, *, forced: bool = False, via: str = "command", user=None) -> BatchLoad:
    record = batch_load_create(source=path, started_via=via, started_by=user, forced=forced)
    return ingest_run(record.pk, notify=False, on_busy="refuse")


def rows(path: Path, name: str, encoding: str = "utf-8") -> list[list[str]]:
    """The data rows of a file, split into trimmed fields (header dropped)."""
    text = (path / name).read_bytes().decode(encoding)
    return [
        [f.strip(" ") for f in line.split("|")] for line in text.replace("\r\n", "\n").split("\n")[1:] if line
    ]


def rewrite_control(path: Path, *, encoding: str = "UTF-8", skip: tuple[str, ...] = ()) -> None:
    """A control file that matches the files as they are now."""
    lines = [CONTROL_HEADER]
    for spec in FILES:
        data_file = path / spec.name
        if spec.name in skip or not data_file.exists():
            continue
        data = data_file.read_bytes()
        count = max(data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0) - 1, 0)
        lines.append(f"{spec.name}|{count}|{len(data)}|{hashlib.md5(data).hexdigest()}|{encoding}")  # noqa: S324
    (path / CONTROL_FILE).write_text("\n".join(lines) + "\n")


def append_row(path: Path, name: str, fields: list[str]) -> int:
    """Append a row to a data file (control file rewritten); return its line number."""
    data_file = path / name
    with data_file.open("a", encoding="utf-8") as handle:
        handle.write("|".join(fields) + "\n")
    rewrite_control(path)
    return len(data_file.read_text(encoding="utf-8").rstrip("\n").split("\n"))


def portal_rows() -> dict[str, list[tuple]]:
    """Everything a load writes, by natural key, comparable across databases states."""
    from accounts.models import Branch

    branch_codes = dict(Branch.objects.values_list("pk", "code"))
    numbers = dict(Customer.objects.values_list("pk", "customer_no"))
    accounts = dict(Account.objects.values_list("pk", "account_no"))

    def money(value) -> str:
        return "" if value is None else str(Decimal(value).quantize(Decimal("0.01")))

    return {
        "customers": sorted(
            (
                c.customer_no, c.name, c.id_type, c.id_number, c.id_hash, c.id_suffix, c.gender,
                str(c.birth_date), c.nationality, c.occupation, c.employer, c.education, c.marital,
                money(c.annual_income), c.risk_level, str(c.risk_expiry), branch_codes[c.home_branch_id],
                str(c.open_date), c.status, c.mobile, c.mobile_hash, c.mobile_suffix, c.name_pinyin,
                c.name_initials, c.search_tokens,
            )
            for c in Customer.objects.all()
        ),
        "contacts": sorted(
            (numbers[c.customer_id], c.type, c.value, c.value_hash, c.is_primary)
            for c in ContactPoint.objects.all()
        ),
        "accounts": sorted(
            (
                a.account_no, numbers[a.customer_id], a.product_code, a.category, a.currency, str(a.open_date),
                str(a.maturity_date), a.status, branch_codes[a.branch_id],
            )
            for a in Account.objects.all()
        ),
        "balances": sorted(
            (str(b.business_date), accounts[b.account_id], money(b.balance), money(b.cny_balance))
            for b in AccountBalance.objects.all()
        ),
        "transactions": sorted(
            (str(t.business_date), numbers[t.customer_id], t.channel, t.txn_count, money(t.txn_amount))
            for t in TransactionSummary.objects.all()
        ),
        "quality": sorted(
            (q.kind, numbers[q.customer_id], numbers.get(q.other_customer_id), q.status)
            for q in DataQualityIssue.objects.all()
        ),
        "errors": sorted(
            (e.file, e.line, e.column, e.value, e.code, e.reason)
            for e in LoadError.objects.filter(load__status="loaded")
        ),
    }  # fmt: skip


def digest() -> str:
    return hashlib.sha256(repr(portal_rows()).encode()).hexdigest()


def wipe() -> None:
    """Back to an empty portal (the org and users stay)."""
    DataQualityIssue.objects.all().delete()
    LoadError.objects.all().delete()
    BatchFile.objects.all().delete()
    BatchLoad.objects.all().delete()
    AccountBalance.objects.all().delete()
    TransactionSummary.objects.all().delete()
    ContactPoint.objects.all().delete()
    Account.objects.all().delete()
    Customer.objects.all().delete()

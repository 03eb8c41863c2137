"""The core-banking extract interface v1.1 (`docs/core-banking-extract.md`) as data:
the files of a batch the portal loads, their columns in order and each column's
rule. The loader builds its checks from these, and `make_extract` writes files from
them, so the two cannot disagree about a header."""

from __future__ import annotations

from dataclasses import dataclass

from ..choices import (
    AccountCategory,
    AccountStatus,
    Channel,
    ContactType,
    CustomerStatus,
    Education,
    Gender,
    IdType,
    IncomeType,
    Marital,
    RiskClass,
    RiskLevel,
)

CONTROL_FILE = "BATCH.ctl"
OK_FILE = "BATCH.ok"
CONTROL_HEADER = "FILE|ROWS|BYTES|MD5|ENCODING"
SEPARATOR = "|"
# Declared encoding -> Python codec. GB18030 is a superset of GBK, so both decode
# with it (a GBK file is a valid GB18030 file).
ENCODINGS = {"UTF-8": "utf-8", "UTF8": "utf-8", "GBK": "gb18030", "GB18030": "gb18030"}

# Column kinds (each has its checks in customers.ingest.rules)
TEXT, CODE, DATE, AMOUNT, COUNT, ALPHA3 = "text", "code", "date", "amount", "count", "alpha3"

# What an error report value is masked as (customers.masking), by column
MASK_ID, MASK_NAME, MASK_ACCOUNT, MASK_CONTACT = "id_number", "name", "account_no", "contact"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    required: bool = False
    max_length: int | None = None
    codes: tuple[str, ...] = ()
    mask: str = ""

    @property
    def staged(self) -> str:
        """The column of the staging table holding this field (text, trimmed, NULL
        when empty)."""
        return f"c_{self.name.lower()}"


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    # Columns identifying a row: a later row with the same key is rejected. Empty:
    # rows never repeat one another (they add up).
    key: tuple[str, ...]
    # Rows of this kind are the complete set for the business date (replaced as a whole).
    per_date: bool = False

    @property
    def kind(self) -> str:
        return self.name.split(".")[0].lower()

    @property
    def header(self) -> str:
        return SEPARATOR.join(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _codes(choices) -> tuple[str, ...]:
    return tuple(str(v) for v in choices.values)


CUSTOMER = FileSpec(
    "CUSTOMER.dat",
    (
        Column("CUST_NO", required=True, max_length=20),
        Column("NAME", required=True, max_length=60, mask=MASK_NAME),
        Column("ID_TYPE", CODE, required=True, codes=_codes(IdType)),
        Column("ID_NO", required=True, max_length=60, mask=MASK_ID),
        Column("GENDER", CODE, codes=_codes(Gender)),
        Column("BIRTH_DATE", DATE),
        Column("NATIONALITY", ALPHA3),
        Column("OCCUPATION", max_length=60),
        Column("EMPLOYER", max_length=100),
        Column("EDUCATION", CODE, codes=_codes(Education)),
        Column("MARITAL", CODE, codes=_codes(Marital)),
        Column("ANNUAL_INCOME", AMOUNT),
        Column("RISK_LEVEL", CODE, codes=_codes(RiskLevel)),
        Column("RISK_EXPIRY", DATE),
        Column("HOME_BRANCH", required=True, max_length=20),
        Column("OPEN_DATE", DATE),
        Column("STATUS", CODE, codes=_codes(CustomerStatus)),
    ),
    key=("CUST_NO",),
)

CONTACT = FileSpec(
    "CONTACT.dat",
    (
        Column("CUST_NO", required=True, max_length=20),
        Column("TYPE", CODE, required=True, codes=_codes(ContactType)),
        Column("VALUE", required=True, max_length=200, mask=MASK_CONTACT),
        Column("IS_PRIMARY", CODE, codes=("Y", "N")),
    ),
    key=("CUST_NO", "TYPE", "VALUE"),
)

ACCOUNT = FileSpec(
    "ACCOUNT.dat",
    (
        Column("ACCT_NO", required=True, max_length=32, mask=MASK_ACCOUNT),
        Column("CUST_NO", required=True, max_length=20),
        Column("PRODUCT_CODE", max_length=20),
        Column("CATEGORY", CODE, required=True, codes=_codes(AccountCategory)),
        Column("CURRENCY", ALPHA3, required=True),
        Column("OPEN_DATE", DATE),
        Column("MATURITY_DATE", DATE),
        Column("STATUS", CODE, required=True, codes=_codes(AccountStatus)),
        Column("BRANCH", required=True, max_length=20),
    ),
    key=("ACCT_NO",),
)

BALANCE = FileSpec(
    "BALANCE.dat",
    (
        Column("ACCT_NO", required=True, max_length=32, mask=MASK_ACCOUNT),
        Column("BALANCE", AMOUNT, required=True),
        Column("CURRENCY", ALPHA3, required=True),
        Column("CNY_BALANCE", AMOUNT, required=True),
    ),
    key=("ACCT_NO",),
    per_date=True,
)

TXN_SUMMARY = FileSpec(
    "TXN_SUMMARY.dat",
    (
        Column("CUST_NO", required=True, max_length=20),
        Column("CHANNEL", CODE, required=True, codes=_codes(Channel)),
        Column("TXN_COUNT", COUNT, required=True),
        Column("TXN_AMOUNT", AMOUNT, required=True),
    ),
    key=("CUST_NO", "CHANNEL"),
    per_date=True,
)

# v1.1, optional (batches written against v1 have none). Several rows of one customer
# and type on a day add up, so no row repeats another.
INCOME = FileSpec(
    "INCOME.dat",
    (
        Column("CUST_NO", required=True, max_length=20),
        Column("ACCT_NO", max_length=32, mask=MASK_ACCOUNT),
        Column("INCOME_TYPE", CODE, required=True, codes=_codes(IncomeType)),
        Column("CNY_AMOUNT", AMOUNT, required=True),
    ),
    key=(),
    per_date=True,
)

# v1.1, optional like INCOME.dat: the repayment status of a loan or card account at
# the end of the day. Per business date (a re-load replaces the day's changes), but
# the portal keeps only the changes: an account without a row keeps its status.
LOAN_STATUS = FileSpec(
    "LOAN_STATUS.dat",
    (
        Column("ACCT_NO", required=True, max_length=32, mask=MASK_ACCOUNT),
        Column("OVERDUE_DAYS", COUNT, required=True),
        Column("OVERDUE_AMOUNT", AMOUNT, required=True),
        Column("RISK_CLASS", CODE, required=True, codes=_codes(RiskClass)),
    ),
    key=("ACCT_NO",),
    per_date=True,
)

# In load order: customers first (accounts and contacts need them), balances, income
# and loan statuses after accounts.
FILES: tuple[FileSpec, ...] = (CUSTOMER, CONTACT, ACCOUNT, BALANCE, TXN_SUMMARY, INCOME, LOAN_STATUS)
FILES_BY_NAME = {f.name: f for f in FILES}

# Patterns of the value kinds (PostgreSQL and Python regular expressions alike).
AMOUNT_RE = r"^-?[0-9]{1,16}([.][0-9]{1,2})?$"
COUNT_RE = r"^[0-9]{1,9}$"
ALPHA3_RE = r"^[A-Z]{3}$"
DATE_RE = r"^[0-9]{8}$"
# "A mobile number is 11 digits starting with 1" (the interface's rule).
MOBILE_RE = r"^1[0-9]{10}$"

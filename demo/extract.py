"""Batches that follow the core-banking extract interface, for demos, tests and
benchmarks (`manage.py make_extract`).

Deterministic by seed: the same seed and customer count give the same customers
(numbers, identities, names, contacts, accounts) whatever the business date, so a
batch of a later date is the next day's snapshot of the same bank; balances,
transactions and income vary with the date, and a loan or card past due is a day
further behind each day (`PAST_DUE_SHARE`). Identities, mobiles and account numbers
are bijections of the customer's index, so none repeats by accident. Branch codes
are the demo organisation's outlets (`demo.org`), names and places come from the
demo's reference data (`demo.reference`).

With `bad_rows=K`, K extra rows broken in every way the interface forbids (field
count, date, amount, resident ID, gender or birth date disagreeing with the ID,
branch, account category, unknown customer, mobile, income type, an amount of 3
decimals, an income on another customer's account, a loan status of a deposit
account or of a class beyond 5) are spread through the files,
cycling through the kinds (K >= len(BAD_KINDS) covers them all), plus one
duplicate person: the same ID under a second customer number, which is not a bad
row (it loads and goes to the data-quality queue). `Extract.bad` lists where
each bad row is and what the loader must say about it."""

from __future__ import annotations

import datetime
import hashlib
import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from accounts.models import BranchLevel
from customers.choices import CREDIT_CATEGORIES, RiskClass
from customers.idnumbers import REGION_CODES, make_resident_id
from customers.ingest.spec import (
    ACCOUNT,
    BALANCE,
    CONTACT,
    CONTROL_FILE,
    CONTROL_HEADER,
    CUSTOMER,
    FILES,
    INCOME,
    LOAN_STATUS,
    OK_FILE,
    TXN_SUMMARY,
    FileSpec,
)

from .identities import mobile_number
from .org import DEMO_ORG

# Reference data of the demo bank (names, places, jobs, products): one source.
from .reference import (
    BRANDS,
    CITY_DISTRICTS,
    COMMUNITIES,
    COMMUNITY_WORDS,
    EDUCATION,
    EMAIL_DOMAINS,
    FEMALE_CHARS,
    INDUSTRIES,
    MALE_CHARS,
    OCCUPATIONS,
    OUTLET_PLACES,
    PRODUCTS,
    RISK,
    STREETS,
    SURNAMES,
)

DEFAULT_SEED = 20260301
USD_CNY = "7.1245"
CODECS = {"UTF-8": "utf-8", "GBK": "gbk", "GB18030": "gb18030"}

_BIRTH_FIRST = datetime.date(1940, 1, 1).toordinal()
_BIRTH_DAYS = datetime.date(2005, 12, 31).toordinal() - _BIRTH_FIRST + 1
_ID_SPACE = len(REGION_CODES) * _BIRTH_DAYS * 1000
_ID_MUL = int(_ID_SPACE * 0.6180339887) | 1
while math.gcd(_ID_MUL, _ID_SPACE) != 1:
    _ID_MUL += 2
_ID_ADD = 7_654_321
_ACCT_MUL, _ACCT_ADD = 6_180_339_887, 2_718_281_828  # a permutation of 10**10 (odd, not 5k)

OUTLETS = [code for code, _name, level, _parent in DEMO_ORG if level == BranchLevel.OUTLET]

# Kinds of broken rows: (kind, file, column the error is reported on, error code).
BAD_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("field_count", CUSTOMER.name, "", "field_count"),
    ("bad_date", CUSTOMER.name, "OPEN_DATE", "bad_date"),
    ("bad_amount", CUSTOMER.name, "ANNUAL_INCOME", "bad_amount"),
    ("bad_id", CUSTOMER.name, "ID_NO", "bad_id"),
    ("gender_mismatch", CUSTOMER.name, "GENDER", "gender_mismatch"),
    ("birth_mismatch", CUSTOMER.name, "BIRTH_DATE", "birth_mismatch"),
    ("unknown_branch", CUSTOMER.name, "HOME_BRANCH", "unknown_branch"),
    ("bad_category", ACCOUNT.name, "CATEGORY", "bad_code"),
    ("unknown_customer", ACCOUNT.name, "CUST_NO", "unknown_customer"),
    ("bad_mobile", CONTACT.name, "VALUE", "bad_mobile"),
    ("bad_balance", BALANCE.name, "BALANCE", "bad_amount"),
    ("bad_channel", TXN_SUMMARY.name, "CHANNEL", "bad_code"),
    ("bad_income_type", INCOME.name, "INCOME_TYPE", "bad_code"),
    ("income_decimals", INCOME.name, "CNY_AMOUNT", "bad_amount"),
    ("income_other_account", INCOME.name, "ACCT_NO", "account_of_other_customer"),
    ("status_of_deposit", LOAN_STATUS.name, "ACCT_NO", "not_credit_account"),
    ("bad_risk_class", LOAN_STATUS.name, "RISK_CLASS", "bad_code"),
)


@dataclass(frozen=True)
class BadRow:
    kind: str
    file: str
    line: int
    column: str
    code: str


@dataclass
class Extract:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    bad: list[BadRow] = field(default_factory=list)
    duplicate_of: tuple[str, str] | None = None  # (customer number, its duplicate's number)


def customer_number(index: int) -> str:
    """Core-banking customer numbers: 12 digits starting with 6 (the portal's own start
    with 9, so the two never meet)."""
    return f"6{index + 1:011d}"


def account_number(index: int, slot: int) -> str:
    scrambled = (_ACCT_MUL * index + _ACCT_ADD) % 10**10
    return f"6222{scrambled:010d}{slot:02d}"


def resident_id(index: int) -> tuple[str, datetime.date, str]:
    """(ID number, birth date, gender) of the customer `index`: a bijection."""
    p = (_ID_MUL * index + _ID_ADD) % _ID_SPACE
    region, p = p % len(REGION_CODES), p // len(REGION_CODES)
    day, sequence = p % _BIRTH_DAYS, p // _BIRTH_DAYS
    birth = datetime.date.fromordinal(_BIRTH_FIRST + day)
    number = make_resident_id(region_code=REGION_CODES[region], birth_date=birth, sequence=sequence)
    return number, birth, "M" if sequence % 2 else "F"


class _Weighted:
    def __init__(self, pairs):
        self.values = [v for v, _w in pairs]
        self.cum = list(accumulate(w for _v, w in pairs))

    def __call__(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cum)[0]


_SURNAME = _Weighted([(s, w) for s, _p, w in SURNAMES])
_SURNAME_PINYIN = {s: p for s, p, _w in SURNAMES}
_OCCUPATION = _Weighted(OCCUPATIONS)
_EDUCATIONS = _Weighted(EDUCATION)
_RISKS = _Weighted(RISK)
_ACCOUNT_COUNT = _Weighted([(1, 20), (2, 35), (3, 25), (4, 12), (5, 8)])
_OTHER_CATEGORIES = _Weighted(
    [("DEP_TIME", 30), ("WEALTH", 18), ("FUND", 12), ("INSURANCE", 6), ("CUSTODY", 5),
     ("LOAN_MORTGAGE", 8), ("LOAN_CONSUMER", 6), ("CREDIT_CARD", 15)]
)  # fmt: skip
_CHANNELS = _Weighted([("MOBILE", 50), ("ATM", 15), ("POS", 13), ("ONLINE", 12), ("COUNTER", 10)])
# log of the typical balance by category
_BALANCE_SCALE = {"DEP_CUR": 9.5, "DEP_TIME": 11.0, "WEALTH": 11.5, "FUND": 10.5, "INSURANCE": 10.5,
                  "CUSTODY": 11.0, "LOAN_MORTGAGE": 13.0, "LOAN_CONSUMER": 10.5,
                  "CREDIT_CARD": 8.5}  # fmt: skip


# Intermediary income (INCOME.dat): the share of customers with income booked on a
# day, the income type an account of each category brings (weighted: the agency
# fees are the business), the log of a typical amount per type, the share of
# reversals.
INCOME_SHARE = 0.04
_INCOME_OF_CATEGORY = {
    "FUND": ("AGENCY_FUND", 4), "WEALTH": ("AGENCY_WEALTH", 4), "INSURANCE": ("AGENCY_INSURANCE", 3),
    "CREDIT_CARD": ("CARD_FEE", 2), "CUSTODY": ("CUSTODY_FEE", 2), "DEP_CUR": ("SETTLEMENT_FEE", 1),
}  # fmt: skip
_INCOME_SCALE = {"AGENCY_FUND": 5.5, "AGENCY_WEALTH": 6.0, "AGENCY_INSURANCE": 6.8, "CARD_FEE": 4.0,
                 "CUSTODY_FEE": 4.2, "SETTLEMENT_FEE": 2.5, "OTHER": 3.5}  # fmt: skip
_REVERSAL_SHARE = 0.05


def income_rows(rng: random.Random, customer_no: str, accounts: Sequence[tuple[str, str]]) -> list[list[str]]:
    """The INCOME.dat rows of a customer with income booked on the day, from their
    open accounts ((account number, category)): a fee of the type the account's
    category brings (fund distribution on a fund, card fees on a card...), now and
    then an OTHER fee tied to no account; sometimes a second row of the same type
    and account (they add up), and now and then a reversal (a negative amount)."""
    earning = [(no, *_INCOME_OF_CATEGORY[c]) for no, c in accounts if c in _INCOME_OF_CATEGORY]
    picks: list[tuple[str, str]] = []
    for _ in range(1 + (rng.random() < 0.15)):
        if earning and rng.random() < 0.9:
            account_no, kind, _weight = rng.choices(earning, weights=[w for _n, _k, w in earning])[0]
        else:
            account_no, kind = "", "OTHER"
        picks.append((account_no, kind))
        if rng.random() < 0.2:
            picks.append((account_no, kind))
    rows = []
    for account_no, kind in picks:
        cents = max(1, int(math.exp(_INCOME_SCALE[kind] + rng.gauss(0, 0.7)) * 100))
        if rng.random() < _REVERSAL_SHARE:
            cents = -cents
        rows.append([customer_no, account_no, kind, _money(cents)])
    return rows


# Loan and card statuses (LOAN_STATUS.dat), one row per loan or card account not
# closed, every day. An account in PAST_DUE_SHARE falls behind now and then: it runs
# through a cycle of _CYCLE_DAYS days, the first `length` of them past due (a day more
# each day), then paid up again; the lengths reach past 30, 60 and 90 days. The rest
# are current, a few of them classified "special mention" all the same.
PAST_DUE_SHARE = 0.10
WATCH_SHARE = 0.01
_CYCLE_DAYS = 180
_PAST_DUE_LENGTHS = (5, 20, 45, 75, 120)
# log of the typical instalment (cards: the minimum repayment) by category
_INSTALMENT_SCALE = {"LOAN_MORTGAGE": 8.8, "LOAN_CONSUMER": 7.5, "LOAN_BUSINESS": 9.5, "CREDIT_CARD": 6.2}


def risk_class_of(days: int, *, watched: bool = False) -> RiskClass:
    """The five-category class of an account `days` past due, as the demo's core
    banking grades it: more than 90 days substandard, more than 30 (or on the watch
    list) special mention, else normal."""
    if days > 90:
        return RiskClass.SUBSTANDARD
    if days > 30 or watched:
        return RiskClass.SPECIAL_MENTION
    return RiskClass.NORMAL


def loan_status_row(account_no: str, days: int, instalment_cents: int, *, watched: bool = False) -> list[str]:
    """A LOAN_STATUS.dat row: `days` past due owe an instalment for every month begun."""
    owed = instalment_cents * ((days + 29) // 30)
    return [account_no, str(days), _money(owed), str(risk_class_of(days, watched=watched).value)]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _yyyymmdd(day: datetime.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


@dataclass
class _Customer:
    index: int
    number: str
    fields: list[str]
    contacts: list[list[str]]
    accounts: list[list[str]]  # ACCOUNT rows
    balance_scales: list[tuple[str, str, float]]  # (account number, currency, log scale) of open accounts


class _Writer:
    def __init__(self, path: Path, spec: FileSpec, codec: str, newline: str):
        self.handle = path.open("w", encoding=codec, newline="")
        self.newline = newline
        self.handle.write(spec.header + newline)
        self.lines = 1

    def write(self, fields: list[str]) -> int:
        self.handle.write("|".join(fields) + self.newline)
        self.lines += 1
        return self.lines

    def close(self) -> int:
        self.handle.close()
        return self.lines - 1


class _Generator:
    def __init__(self, seed: int, business_date: datetime.date):
        # demo data, not secrets: a seeded generator is the point
        self.rng = random.Random(seed)  # noqa: S311
        self.daily = random.Random(f"{seed}:{business_date.isoformat()}")  # noqa: S311
        self.income_rng = random.Random(f"{seed}:{business_date.isoformat()}:income")  # noqa: S311
        self.business_date = business_date
        self.seed = seed

    def customer(self, index: int) -> _Customer:
        rng = self.rng
        number = customer_number(index)
        id_number, birth, gender = resident_id(index)
        surname = _SURNAME(rng)
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
        outlet = rng.choice(OUTLETS)
        city, district = OUTLET_PLACES[outlet]
        age = (self.business_date - birth).days // 365
        opened = self.business_date - datetime.timedelta(days=rng.randrange(30, 365 * 20))
        employer = f"{city[:2]}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}有限公司" if age < 62 else ""
        risk = _RISKS(rng) if rng.random() < 0.6 else ""
        risk_expiry = self.business_date + datetime.timedelta(days=rng.randrange(-120, 600)) if risk else None
        status = "A" if rng.random() < 0.93 else ("D" if rng.random() < 0.8 else "C")
        fields = [
            number,
            surname + given,
            "01",
            id_number,
            gender,
            _yyyymmdd(birth),
            "CHN",
            _OCCUPATION(rng) if age < 62 else "退休",
            employer,
            _EDUCATIONS(rng),
            ("M" if age > 28 and rng.random() < 0.75 else "S") if age >= 20 else "S",
            _money(rng.randrange(3_000_000, 80_000_000)) if rng.random() < 0.5 else "",
            risk,
            _yyyymmdd(risk_expiry),
            outlet,
            _yyyymmdd(opened),
            status,
        ]
        contacts = [[number, "MOBILE", mobile_number(index), "Y"]]
        if rng.random() < 0.4:
            local = f"{_SURNAME_PINYIN.get(surname, 'user')}{rng.randrange(10, 99999)}"
            contacts.append([number, "EMAIL", f"{local}@{rng.choice(EMAIL_DOMAINS)}", "Y"])
        if rng.random() < 0.7:
            other = rng.choice(CITY_DISTRICTS[city])
            street = rng.choice(STREETS.get(other, ["人民路"]))
            community = rng.choice(COMMUNITY_WORDS) + rng.choice(COMMUNITIES)
            address = f"{city}{other}{street}{rng.randrange(1, 300)}号{community}{rng.randrange(1, 30)}号楼"
            contacts.append([number, "ADDRESS", address, "Y"])
        if rng.random() < 0.1:
            contacts.append(
                [number, "HOME", f"0{10 if city == '北京市' else 21}-{rng.randrange(10**7, 10**8)}", "N"]
            )
        accounts, scales = [], []
        for slot in range(_ACCOUNT_COUNT(rng)):
            category = "DEP_CUR" if slot == 0 else _OTHER_CATEGORIES(rng)
            account_no = account_number(index, slot)
            currency = "USD" if category in ("DEP_CUR", "DEP_TIME") and rng.random() < 0.03 else "CNY"
            opened_on = opened + datetime.timedelta(days=rng.randrange(0, 3000))
            opened_on = min(opened_on, self.business_date)
            maturity = None
            if category in ("DEP_TIME", "WEALTH", "LOAN_MORTGAGE", "LOAN_CONSUMER"):
                maturity = self.business_date + datetime.timedelta(days=rng.randrange(-30, 3650))
            account_status = "O" if rng.random() < 0.95 else ("C" if rng.random() < 0.6 else "F")
            product = rng.choice(PRODUCTS.get(category, [f"DT-{rng.choice(['03M', '12M', '36M'])}"]))
            branch = outlet if rng.random() < 0.9 else rng.choice(OUTLETS)
            accounts.append(
                [account_no, number, product, category, currency, _yyyymmdd(opened_on), _yyyymmdd(maturity),
                 account_status, branch]
            )  # fmt: skip
            if account_status != "C":
                scales.append((account_no, currency, _BALANCE_SCALE[category] + rng.gauss(0, 0.6)))
        return _Customer(index, number, fields, contacts, accounts, scales)

    def balances(self, customer: _Customer) -> list[list[str]]:
        rows = []
        for account_no, currency, scale in customer.balance_scales:
            cents = int(math.exp(scale + self.daily.gauss(0, 0.05)) * 100)
            if currency == "USD":
                rows.append([account_no, _money(cents), "USD", _money(cents * 71245 // 10000)])
            else:
                rows.append([account_no, _money(cents), "CNY", _money(cents)])
        return rows

    def transactions(self, customer: _Customer) -> list[list[str]]:
        if self.daily.random() >= 0.3:
            return []
        channels = {_CHANNELS(self.daily) for _ in range(self.daily.randrange(1, 4))}
        return [
            [
                customer.number,
                ch,
                str(self.daily.randrange(1, 12)),
                _money(self.daily.randrange(100, 5_000_000)),
            ]
            for ch in sorted(channels)
        ]

    def income(self, customer: _Customer) -> list[list[str]]:
        """A few customers in a hundred (not closed ones) have income booked on the
        day, on their open accounts."""
        if self.income_rng.random() >= INCOME_SHARE or customer.fields[16] == "C":
            return []
        accounts = [(a[0], a[3]) for a in customer.accounts if a[7] == "O"]
        return income_rows(self.income_rng, customer.number, accounts)

    def loan_statuses(self, customer: _Customer) -> list[list[str]]:
        """The status of each loan and card account not closed, a function of the
        account and the date alone (a later batch is the next day of the same
        accounts): see PAST_DUE_SHARE."""
        rows = []
        for account in customer.accounts:
            account_no, category, status = account[0], account[3], account[7]
            if category not in CREDIT_CATEGORIES or status == "C":
                continue
            draw = zlib.crc32(f"{self.seed}:{account_no}".encode())
            share, pick = draw % 10_000 / 10_000, draw // 10_000
            days = 0
            if share < PAST_DUE_SHARE:
                length = _PAST_DUE_LENGTHS[pick % len(_PAST_DUE_LENGTHS)]
                phase = (self.business_date.toordinal() + pick) % _CYCLE_DAYS
                days = phase + 1 if phase < length else 0
            instalment = int(math.exp(_INSTALMENT_SCALE[category] + (pick % 1000 - 500) / 1000) * 100)
            watched = PAST_DUE_SHARE <= share < PAST_DUE_SHARE + WATCH_SHARE
            rows.append(loan_status_row(account_no, days, instalment, watched=watched))
        return rows


def _bad_row(
    kind: str, k: int, good: _Customer, business_date: datetime.date, other_account: str
) -> list[str]:
    """A row of the file of `kind`, broken that way; made from a good customer's row
    but under its own numbers, so that it breaks nothing else (`other_account`: an
    account of another customer)."""
    number = f"5{k:011d}"  # a customer number no good row uses
    fields = list(good.fields)
    fields[0] = number
    fields[3], birth, gender = resident_id(10**9 + k)
    fields[4], fields[5] = gender, _yyyymmdd(birth)
    if kind == "field_count":
        return fields[:-3]
    if kind == "bad_date":
        fields[15] = f"{business_date.year}0230"
    elif kind == "bad_amount":
        fields[11] = "12,345.00"
    elif kind == "bad_id":
        fields[3] = fields[3][:17] + ("0" if fields[3][17] != "0" else "1")
    elif kind == "gender_mismatch":
        fields[4] = "F" if gender == "M" else "M"
    elif kind == "birth_mismatch":
        fields[5] = _yyyymmdd(birth + datetime.timedelta(days=1))
    elif kind == "unknown_branch":
        fields[14] = "99999"
    elif kind == "bad_category":
        account = list(good.accounts[0])
        account[0], account[3] = account_number(10**9 + k, 0), "CRYPTO"
        return account
    elif kind == "unknown_customer":
        account = list(good.accounts[0])
        account[0], account[1] = account_number(10**9 + k, 1), number
        return account
    elif kind == "bad_mobile":
        return [good.number, "MOBILE", f"2{k:010d}"[:11], "N"]
    elif kind == "bad_balance":
        return [good.accounts[0][0], "1,000.00", "CNY", "1000.00"]
    elif kind == "bad_channel":
        return [good.number, "WECHAT", "1", "10.00"]
    elif kind == "bad_income_type":
        return [good.number, "", "COMMISSION", "10.00"]
    elif kind == "income_decimals":
        return [good.number, "", "AGENCY_FUND", "12.345"]
    elif kind == "income_other_account":
        return [good.number, other_account, "CARD_FEE", "25.00"]
    elif kind == "status_of_deposit":
        return [good.accounts[0][0], "0", "0.00", "1"]  # slot 0: a current deposit
    elif kind == "bad_risk_class":
        credit = next((a[0] for a in good.accounts if a[3] in CREDIT_CATEGORIES), good.accounts[0][0])
        return [credit, "0", "0.00", "6"]
    return fields


def _md5(path: Path) -> tuple[str, int]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BatchFolder:
    """A batch folder being written, `outdir/YYYYMMDD/`: one writer per data file of
    the interface, then the control file and the OK flag, written last so that a
    half-written folder is never a complete batch. Used by `make_extract` and by the
    demo's business date (`demo.business_day`)."""

    def __init__(
        self,
        outdir: Path | str,
        business_date: datetime.date,
        *,
        encoding: str = "UTF-8",
        newline: str = "\n",
    ):
        encoding = encoding.upper()
        if encoding not in CODECS:
            raise ValueError(f"encoding must be one of {', '.join(CODECS)}")
        self.path = Path(outdir) / business_date.strftime("%Y%m%d")
        self.path.mkdir(parents=True, exist_ok=True)
        for name in (OK_FILE, CONTROL_FILE):
            (self.path / name).unlink(missing_ok=True)  # incomplete until written again
        self.encoding = encoding
        codec = CODECS[encoding]
        self.writers = {spec.name: _Writer(self.path / spec.name, spec, codec, newline) for spec in FILES}

    def write(self, name: str, fields: list[str]) -> int:
        """Append a row to the data file `name`; return its line number."""
        return self.writers[name].write(fields)

    def finish(self) -> dict[str, int]:
        """Close the data files, write the control file and the OK flag; return the
        data rows per file."""
        rows: dict[str, int] = {}
        control = [CONTROL_HEADER]
        for spec in FILES:
            rows[spec.name] = self.writers[spec.name].close()
            md5, size = _md5(self.path / spec.name)
            control.append(f"{spec.name}|{rows[spec.name]}|{size}|{md5}|{self.encoding}")
        (self.path / CONTROL_FILE).write_text("\n".join(control) + "\n", encoding="utf-8")
        (self.path / OK_FILE).write_bytes(b"")
        return rows


def make_extract(
    outdir: Path | str,
    *,
    business_date: datetime.date,
    customers: int,
    encoding: str = "UTF-8",
    bad_rows: int = 0,
    seed: int = DEFAULT_SEED,
    newline: str = "\n",
) -> Extract:
    """Write the batch `outdir/YYYYMMDD/` and return what was written."""
    encoding = encoding.upper()
    if encoding not in CODECS:
        raise ValueError(f"encoding must be one of {', '.join(CODECS)}")
    if customers < 0 or bad_rows < 0:
        raise ValueError("customers and bad_rows must be 0 or more")
    folder = BatchFolder(outdir, business_date, encoding=encoding, newline=newline)
    result = Extract(path=folder.path)
    writers = folder.writers
    generator = _Generator(seed, business_date)
    # where the bad rows go: after the customer at evenly spread positions
    schedule: dict[int, list[int]] = {}
    for k in range(bad_rows):
        schedule.setdefault((k * 7919 + 13) % max(customers, 1), []).append(k)
    duplicate_at = customers // 2 if bad_rows and customers else -1
    first: _Customer | None = None
    for index in range(customers):
        customer = generator.customer(index)
        first = first or customer
        writers[CUSTOMER.name].write(customer.fields)
        for row in customer.contacts:
            writers[CONTACT.name].write(row)
        for row in customer.accounts:
            writers[ACCOUNT.name].write(row)
        for row in generator.balances(customer):
            writers[BALANCE.name].write(row)
        for row in generator.transactions(customer):
            writers[TXN_SUMMARY.name].write(row)
        for row in generator.income(customer):
            writers[INCOME.name].write(row)
        for row in generator.loan_statuses(customer):
            writers[LOAN_STATUS.name].write(row)
        if index == duplicate_at and first is not None:
            twin = list(first.fields)
            twin[0] = f"7{index:011d}"
            writers[CUSTOMER.name].write(twin)
            result.duplicate_of = (first.number, twin[0])
        # the first account of a neighbour (slot 0 always exists); a batch of one
        # customer has none, and that account is then unknown
        other_account = account_number(index - 1 if index else index + 1, 0)
        for k in schedule.get(index, []):
            kind, file, column, code = BAD_KINDS[k % len(BAD_KINDS)]
            line = writers[file].write(_bad_row(kind, k, customer, business_date, other_account))
            if kind == "income_other_account" and customers == 1:
                code = "unknown_account"
            result.bad.append(BadRow(kind, file, line, column, code))
    result.rows = folder.finish()
    return result

"""The demo's business date as core banking drops it: one batch, through the real load.

`manage.py seed_demo` writes the demo bank as it stands on the eve of its business
date (`demo.seeding`; the months before, `demo.history`). This module writes the
business date itself the way core banking delivers a day -- a folder `YYYYMMDD/` with
the data files, `BATCH.ctl` and `BATCH.ok` (docs/core-banking-extract.md) -- and
`demo.seed` loads it with the nightly job's loader, then runs the jobs after a load.

What the day's batch holds, a day's changes as core banking reports them:

- BALANCE.dat: the end-of-day balance of every open account (the balances the
  accounts were seeded with, or last loaded with) and of the accounts opened that day.
- TXN_SUMMARY.dat: the day's transactions of the active customers.
- INCOME.dat: the intermediary income booked that day, for a few active customers in
  a hundred, on the accounts they held the day before (or tied to no account).
- LOAN_STATUS.dat: the status of every loan and card account: most are current and
  normal; a few are past due, their days growing by one a calendar day, so that the
  business date is the day they cross 1, 30 and 60 days past due (the one 60 days
  behind is special mention), and the day one 91 days behind moves from special
  mention to substandard; one current account is on the watch list (special
  mention). (`demo_loan_statuses` gives them for any day.)
- ACCOUNT.dat: the accounts opened that day. The sale demo_cm1 won on the business
  date in the running campaign gets its account (core banking confirms the sale); a
  target of a running campaign with an open opportunity buys its product (a sale the
  campaign converts); one customer of every client manager buys a cash-management
  wealth product (progress of the year's wealth-sales task).
- CUSTOMER.dat and CONTACT.dat: the customers changed that day: one moved house (a new
  address replaces the old one), and a second customer number core banking keeps for
  an existing person -- an old dormant record at another outlet whose risk assessment
  expired long ago. The load sends the pair to the data-quality queue, and the scan
  after the load finds the expired assessment.
- Four rows the load refuses, in the error report: a customer row whose birth date
  disagrees with the ID number, a mobile missing a digit, an account at a branch the
  portal does not know, and that account's balance.

The batch is a function of what the load does not change (the seeded rows, the
marketing records, the business date), so running the seeding again writes the same
bytes and the load ends "already loaded". Accounts opened that day are recognised by
their opening date, never read back as the seeded accounts.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone

from accounts.models import Branch, BranchLevel
from customers.choices import (
    CREDIT_CATEGORIES,
    AccountCategory,
    AccountStatus,
    ContactType,
    CustomerStatus,
    IdType,
)
from customers.ingest.spec import ACCOUNT, BALANCE, CONTACT, CUSTOMER, INCOME, LOAN_STATUS, TXN_SUMMARY
from customers.models import Account, ContactPoint, Customer
from customers.numbers import PREFIX
from marketing.choices import OPEN_STAGES, CampaignStatus, SaleSource
from marketing.models import Opportunity, Product, Sale

from .extract import INCOME_SHARE, BatchFolder, income_rows, loan_status_row
from .identities import account_scramble, luhn
from .reference import (
    ACCOUNT_PREFIX,
    CHANNELS,
    CITY_DISTRICTS,
    COMMUNITIES,
    COMMUNITY_WORDS,
    OUTLET_PLACES,
    STREETS,
    cumulative,
)

DEFAULT_SEED = 20260102
# The product every client manager's customer buys on the business date (wealth).
EVERYDAY_PRODUCT = ("WM-CASH", AccountCategory.WEALTH)
# A branch code the demo organisation does not have (a Guangzhou outlet).
UNKNOWN_BRANCH = "13101"
# Accounts opened on the business date: a prefix of their category that the seeded
# accounts never use (theirs end in 1), so the two can never meet.
_OPENING_PREFIX: dict[str, str] = {category: prefix[:3] + "9" for category, prefix in ACCOUNT_PREFIX.items()}
_OPENING_PREFIX[AccountCategory.DEP_CUR] = "6219"
_CONTACT_ORDER = {kind: n for n, kind in enumerate(ContactType.values)}
# The demo's loans and cards behind on the business date: (days past due that day,
# on the watch list). A day earlier each is a day less behind (current at 0).
PAST_DUE_STORIES = ((1, False), (12, False), (30, False), (60, False), (91, False), (0, True))
# What an instalment is, of the amount owed: a loan's monthly instalment, a card's
# minimum repayment; at least 100 CNY.
_INSTALMENT_SHARE = {AccountCategory.CREDIT_CARD: Decimal("0.10")}
_LOAN_INSTALMENT_SHARE = Decimal("0.01")


def demo_batch_dir() -> Path:
    """Where the demo's batches are written (`DEMO_BATCH_DIR`, default var/demo)."""
    return Path(getattr(settings, "DEMO_BATCH_DIR", "") or settings.BASE_DIR / "var" / "demo")


def demo_business_date() -> datetime.date:
    """The business date of the demo bank: the newest date of the customers' AUM (the
    seeded customers carry theirs, a load moves it on), else yesterday. Seeding again
    later keeps the demo's date, so a second run is the same day again."""
    latest = Customer.objects.aggregate(d=Max("aum_date"))["d"]
    return latest or timezone.localdate() - datetime.timedelta(days=1)


@dataclass(frozen=True)
class Opening:
    """An account opened on the business date."""

    customer_no: str
    customer_pk: int
    branch_code: str
    product_code: str
    category: str
    amount: Decimal
    maturity: datetime.date | None
    why: str  # "won sale" (confirms it), "campaign" (a target buys), "everyday"
    account_no: str = ""


@dataclass
class BusinessDayBatch:
    path: Path
    business_date: datetime.date
    rows: dict[str, int] = field(default_factory=dict)
    openings: list[Opening] = field(default_factory=list)
    duplicate_of: tuple[str, str] | None = None  # (customer number, the second number of that person)
    moved: str = ""  # the customer number of the customer who moved house
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, expected error code)


def _yyyymmdd(day: datetime.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


def _customer_row(customer: Customer) -> list[str]:
    return [
        customer.customer_no, customer.name, customer.id_type, customer.id_number, customer.gender,
        _yyyymmdd(customer.birth_date), customer.nationality or "CHN", customer.occupation, customer.employer,
        customer.education, customer.marital, _amount(customer.annual_income), customer.risk_level,
        _yyyymmdd(customer.risk_expiry), customer.home_branch.code, _yyyymmdd(customer.open_date),
        customer.status,
    ]  # fmt: skip


def _special_customers() -> list[Customer]:
    """Three seeded customers the day changes (the first by id of the active,
    unmerged resident-ID customers outside households): whose person gets a second
    number, who moves house, whose row comes with a mistyped birth date."""
    return list(
        Customer.objects.filter(
            id_type=IdType.RESIDENT_ID,
            status=CustomerStatus.ACTIVE,
            merged_into__isnull=True,
            household__isnull=True,
            customer_no__startswith=PREFIX,
        )
        .exclude(birth_date__isnull=True)
        .select_related("home_branch")
        .order_by("pk")[:3]
    )


def _new_address(customer: Customer, seed: int) -> str:
    rng = random.Random(f"{seed}:address:{customer.customer_no}")  # noqa: S311  (demo data, not secrets)
    city, _district = OUTLET_PLACES.get(customer.home_branch.code, ("北京市", "海淀区"))
    district = rng.choice(CITY_DISTRICTS[city])
    community = rng.choice(COMMUNITY_WORDS) + rng.choice(COMMUNITIES)
    street = f"{city}{district}{rng.choice(STREETS[district])}{rng.randrange(1, 300)}号"
    building = f"{rng.randrange(1, 20)}号楼{rng.randrange(1, 5)}单元"
    return f"{street}{community}{building}{rng.randrange(1, 28)}0{rng.randrange(1, 5)}室"


def _openings(business_date: datetime.date) -> list[Opening]:
    """The accounts opened on the business date, each customer's numbered in turn."""
    found: list[Opening] = []
    # 1. the won sales of the day: core banking reports their accounts
    for sale in (
        Sale.objects.filter(source=SaleSource.OPPORTUNITY, sale_date=business_date, opportunity__isnull=False)
        .select_related("customer__home_branch")
        .order_by("pk")
    ):
        found.append(_opening(sale.customer, sale.product_code, sale.category, sale.amount, "won sale"))
    # 2. targets of a running campaign with an open opportunity buy its product
    for opportunity in (
        Opportunity.objects.filter(
            stage__in=OPEN_STAGES,
            target__isnull=False,
            campaign__status=CampaignStatus.RUNNING,
            campaign__start_date__lte=business_date,
            campaign__end_date__gte=business_date,
        )
        .select_related("customer__home_branch", "product")
        .order_by("pk")
    ):
        product = opportunity.product
        found.append(
            _opening(
                opportunity.customer, product.code, product.category, opportunity.expected_amount, "campaign"
            )
        )
    # 3. one customer of every client manager buys the everyday wealth product
    code, category = EVERYDAY_PRODUCT
    for customer in everyday_buyers():
        found.append(
            _opening(customer, code, category, Decimal(50_000 + customer.pk % 10 * 10_000), "everyday")
        )
    terms = dict(
        Product.objects.filter(code__in={o.product_code for o in found}).values_list("code", "term_days")
    )
    numbered: list[Opening] = []
    slots: dict[int, int] = {}
    for opening in found:
        slot = slots[opening.customer_pk] = slots.get(opening.customer_pk, -1) + 1
        term = terms.get(opening.product_code)
        numbered.append(
            replace(
                opening,
                maturity=business_date + datetime.timedelta(days=term) if term else None,
                account_no=_opening_number(opening, business_date, slot),
            )
        )
    return numbered


def everyday_buyers() -> list[Customer]:
    """The customers who buy the everyday wealth product (`EVERYDAY_PRODUCT`) on the
    business date: every client manager's first customer."""
    firsts = (
        Customer.objects.filter(
            status=CustomerStatus.ACTIVE,
            merged_into__isnull=True,
            primary_manager__isnull=False,
            customer_no__startswith=PREFIX,
        )
        .values("primary_manager_id")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    return list(Customer.objects.filter(pk__in=list(firsts)).select_related("home_branch").order_by("pk"))


def _opening(customer: Customer, code: str, category: str, amount: Decimal, why: str) -> Opening:
    return Opening(
        customer_no=customer.customer_no,
        customer_pk=customer.pk,
        branch_code=customer.home_branch.code,
        product_code=code,
        category=category,
        amount=Decimal(amount).quantize(Decimal("0.01")),
        maturity=None,
        why=why,
    )


def _opening_number(opening: Opening, business_date: datetime.date, slot: int) -> str:
    """19 digits: the prefix of openings, a scramble of (customer, day), the slot, the
    outlet, a Luhn check digit -- a new number for each customer, day and slot."""
    key = opening.customer_pk * 4000 + business_date.toordinal() % 4000
    prefix = _OPENING_PREFIX.get(opening.category, "9909")
    body = f"{prefix}{account_scramble(key):010d}{slot % 10}{opening.branch_code[-3:]}"
    return body + luhn(body)


def write_business_day(
    business_date: datetime.date, *, outdir: Path | str | None = None, seed: int = DEFAULT_SEED
) -> BusinessDayBatch:
    """Write the batch of the demo's business date into `outdir` (default
    `demo_batch_dir()`) and return what it holds."""
    folder = BatchFolder(outdir or demo_batch_dir(), business_date)
    result = BusinessDayBatch(path=folder.path, business_date=business_date)
    day = _yyyymmdd(business_date)
    special = _special_customers()

    # Customers changed that day, and their contact points.
    if len(special) == 3:
        original, moved, mistyped = special
        result.moved = moved.customer_no
        folder.write(CUSTOMER.name, _customer_row(moved))
        contacts = [
            [moved.customer_no, cp.type, cp.value, "Y" if cp.is_primary else "N"]
            for cp in ContactPoint.objects.filter(customer=moved).exclude(type=ContactType.ADDRESS)
        ]
        contacts.append([moved.customer_no, ContactType.ADDRESS, _new_address(moved, seed), "Y"])
        for row in sorted(contacts, key=lambda r: (_CONTACT_ORDER[r[1]], r[3] != "Y", r[2])):
            folder.write(CONTACT.name, row)
        # a second mobile, keyed in with a digit missing
        line = folder.write(CONTACT.name, [moved.customer_no, ContactType.MOBILE, moved.mobile[:-1], "N"])
        result.refused.append((CONTACT.name, line, "bad_mobile"))

        twin_no = "8" + original.customer_no[1:]
        other_outlet = (
            Branch.objects.filter(level=BranchLevel.OUTLET)
            .exclude(pk=original.home_branch_id)
            .order_by("code")
            .values_list("code", flat=True)
            .first()
        ) or original.home_branch.code
        twin = [
            twin_no, original.name, original.id_type, original.id_number, original.gender,
            _yyyymmdd(original.birth_date), original.nationality or "CHN", "", "", "", "", "", "C2",
            _yyyymmdd(business_date - datetime.timedelta(days=400)), other_outlet,
            _yyyymmdd(business_date - datetime.timedelta(days=3650)), CustomerStatus.DORMANT,
        ]  # fmt: skip
        folder.write(CUSTOMER.name, twin)
        folder.write(CONTACT.name, [twin_no, ContactType.MOBILE, original.mobile, "Y"])
        result.duplicate_of = (original.customer_no, twin_no)

        typo = _customer_row(mistyped)
        assert mistyped.birth_date is not None  # chosen for having one
        typo[5] = _yyyymmdd(mistyped.birth_date + datetime.timedelta(days=1))
        result.refused.append((CUSTOMER.name, folder.write(CUSTOMER.name, typo), "birth_mismatch"))

    # Accounts opened that day, and one at a branch the portal does not know.
    result.openings = _openings(business_date)
    for opening in result.openings:
        folder.write(
            ACCOUNT.name,
            [opening.account_no, opening.customer_no, opening.product_code, opening.category, "CNY", day,
             _yyyymmdd(opening.maturity), AccountStatus.OPEN, opening.branch_code],
        )  # fmt: skip
    stray = ""
    if special:
        body = f"2299{account_scramble(special[0].pk):010d}0{UNKNOWN_BRANCH[-3:]}"
        stray = body + luhn(body)
        line = folder.write(
            ACCOUNT.name,
            [stray, special[0].customer_no, EVERYDAY_PRODUCT[0], EVERYDAY_PRODUCT[1], "CNY", day, "",
             AccountStatus.OPEN, UNKNOWN_BRANCH],
        )  # fmt: skip
        result.refused.append((ACCOUNT.name, line, "unknown_branch"))

    # The end-of-day balance of every open account.
    accounts = (
        Account.objects.exclude(status=AccountStatus.CLOSED)
        .filter(Q(open_date__lt=business_date) | Q(open_date__isnull=True))
        .order_by("pk")
        .values_list("account_no", "balance", "currency", "cny_balance")
    )
    for account_no, balance, currency, cny_balance in accounts.iterator(chunk_size=20_000):
        folder.write(BALANCE.name, [account_no, _amount(balance), currency, _amount(cny_balance)])
    for opening in result.openings:
        folder.write(
            BALANCE.name, [opening.account_no, _amount(opening.amount), "CNY", _amount(opening.amount)]
        )
    if stray:
        line = folder.write(BALANCE.name, [stray, "10000.00", "CNY", "10000.00"])
        result.refused.append((BALANCE.name, line, "unknown_account"))

    # The day's transactions: about three active customers in ten, by channel.
    rng = random.Random(f"{seed}:{day}")  # noqa: S311  (demo data, not secrets)
    channels, channel_cum = cumulative(CHANNELS)
    active = (
        Customer.objects.filter(status=CustomerStatus.ACTIVE, merged_into__isnull=True)
        .order_by("pk")
        .values_list("customer_no", flat=True)
    )
    for customer_no in active.iterator(chunk_size=20_000):
        if rng.random() >= 0.3:
            continue
        for channel in sorted(
            set(rng.choices(channels, cum_weights=channel_cum, k=1 + int(rng.random() * 3)))
        ):
            count = 1 + int(rng.expovariate(1 / 3))
            cents = int(rng.lognormvariate(6.5, 1.2) * 100) * count
            folder.write(
                TXN_SUMMARY.name, [customer_no, channel, str(count), f"{cents // 100}.{cents % 100:02d}"]
            )

    _write_income(folder, business_date, seed)
    for row in demo_loan_statuses(business_date, business_date=business_date, seed=seed):
        folder.write(LOAN_STATUS.name, row)
    result.rows = folder.finish()
    return result


def demo_loan_statuses(
    day: datetime.date, *, business_date: datetime.date, seed: int = DEFAULT_SEED
) -> Iterator[list[str]]:
    """The LOAN_STATUS.dat rows of `day` (the business date, or a day of the month
    before it): every loan and card account not closed and opened before that day,
    current and normal but for the few of PAST_DUE_STORIES, the same accounts
    whatever the day (a draw over the accounts of the business date, by seed)."""
    held = list(
        Account.objects.filter(category__in=CREDIT_CATEGORIES)
        .exclude(status=AccountStatus.CLOSED)
        .filter(Q(open_date__lt=business_date) | Q(open_date__isnull=True))
        .order_by("pk")
        .values_list("account_no", "category", "cny_balance", "open_date")
    )
    rng = random.Random(f"{seed}:loan-status")  # noqa: S311  (demo data, not secrets)
    # a small demo may hold fewer loans and cards than stories: the first stories then
    picked = rng.sample(range(len(held)), min(len(PAST_DUE_STORIES), len(held)))
    behind = dict(zip(picked, PAST_DUE_STORIES, strict=False))
    for n, (account_no, category, balance, opened) in enumerate(held):
        if opened is not None and opened >= day:
            continue
        days_then, watched = behind.get(n, (0, False))
        days = max(0, days_then - (business_date - day).days)
        share = _INSTALMENT_SHARE.get(category, _LOAN_INSTALMENT_SHARE)
        instalment = max(int(abs(balance or 0) * share * 100), 100_00)
        yield loan_status_row(account_no, days, instalment, watched=watched)


def _write_income(folder: BatchFolder, business_date: datetime.date, seed: int) -> None:
    """The intermediary income booked on the business date: a few active customers in
    a hundred, on the open accounts they held before that day."""
    rng = random.Random(f"{seed}:{_yyyymmdd(business_date)}:income")  # noqa: S311  (demo data, not secrets)
    active = (
        Customer.objects.filter(status=CustomerStatus.ACTIVE, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", "customer_no")
    )
    earning = [(pk, no) for pk, no in active.iterator(chunk_size=20_000) if rng.random() < INCOME_SHARE]
    for start in range(0, len(earning), 5_000):
        part = earning[start : start + 5_000]
        held: dict[int, list[tuple[str, str]]] = defaultdict(list)
        accounts = (
            Account.objects.filter(customer_id__in=[pk for pk, _number in part], status=AccountStatus.OPEN)
            .filter(Q(open_date__lt=business_date) | Q(open_date__isnull=True))
            .order_by("customer_id", "pk")
            .values_list("customer_id", "account_no", "category")
        )
        for customer_id, account_no, category in accounts:
            held[customer_id].append((account_no, category))
        for pk, number in part:
            for row in income_rows(rng, number, held[pk]):
                folder.write(INCOME.name, row)

"""Reads below a customer's row of a manager's figures: the days credited, at which
share, with the balances of the batch that stands for them, the income booked on
those days, and (for a customer in the user's own customer scope) the accounts
behind the balances. Computed by the engine's own statements for that one customer
(`engine.explain`), so the lines add up to the row; where the data changed since the
version was computed (a corrected batch), the page says so rather than showing
lines that do not add up."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from customers.masking import mask_account_no, mask_name
from customers.models import AccountBalance, Customer
from marketing.models import Product

from . import engine
from .models import CustomerResult, ManagerResult, ResultVersion

# how close the lines must come to the stored row (unrounded sums; float dust)
TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True)
class AccountLine:
    batch: datetime.date
    account_no: str  # masked
    product: str
    category: str  # label
    balance: Decimal


@dataclass(frozen=True)
class Explanation:
    version: ResultVersion
    result: ManagerResult
    customer: Customer
    name: str  # masked outside the user's own customer scope
    row: CustomerResult
    days: list[engine.CreditedDays]
    income: list[engine.CreditedIncome]
    accounts: list[AccountLine] | None  # None: not the user's customer, balances only

    @property
    def liability(self) -> Decimal:
        return sum((d.liability for d in self.days), Decimal(0))

    @property
    def asset(self) -> Decimal:
        return sum((d.asset for d in self.days), Decimal(0))

    @property
    def intermediary(self) -> Decimal:
        return sum((i.credited for i in self.income), Decimal(0))

    @property
    def total(self) -> Decimal:
        return engine.round_half_up(self.liability + self.asset + self.intermediary)

    @property
    def stored_total(self) -> Decimal:
        return engine.round_half_up(self.row.liability + self.row.asset + self.row.intermediary)

    @property
    def matches(self) -> bool:
        """Whether today's data still gives the version's row (a published version is
        frozen; its data may have been corrected since)."""
        pairs = (
            (self.liability, self.row.liability),
            (self.asset, self.row.asset),
            (self.intermediary, self.row.intermediary),
            (sum((d.share * d.days * d.aum for d in self.days), Decimal(0)), self.row.aum_days),
        )
        return all(abs(a - b) <= TOLERANCE for a, b in pairs)


def customer_explanation(user, result: ManagerResult, customer_id: int) -> Explanation:
    """The explanation of one customer's row of `result` (a row the user may see:
    `selectors.manager_figures`). 404 when the customer has no row there."""
    row = (
        CustomerResult.objects.filter(version_id=result.version_id, manager_id=result.manager_id)
        .filter(customer_id=customer_id)
        .select_related("customer")
        .first()
    )
    if row is None:
        raise Http404
    version = result.version
    mine = Customer.objects.visible_to(user).filter(pk=customer_id).exists()
    spreads = {category: Decimal(value) for category, value in version.ftp_spreads.items()}  # as computed
    days, income = engine.explain(
        customer_id, start=version.period.start, through=version.counted_through, spreads=spreads
    )
    days = [d for d in days if d.manager_id == result.manager_id]
    income = [i for i in income if i.manager_id == result.manager_id]
    accounts = _accounts(customer_id, sorted({d.batch for d in days})) if mine else None
    name = row.customer.name if mine else mask_name(row.customer.name)
    return Explanation(version, result, row.customer, name, row, days, income, accounts)


def _accounts(customer_id: int, batches: list[datetime.date]) -> list[AccountLine]:
    balances = (
        AccountBalance.objects.filter(account__customer_id=customer_id, business_date__in=batches)
        .select_related("account")
        .order_by("business_date", "account__category", "account_id")
    )
    rows = list(balances)
    codes = {b.account.product_code for b in rows}
    names = dict(Product.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        AccountLine(
            b.business_date,
            mask_account_no(b.account.account_no),
            names.get(b.account.product_code, b.account.product_code),
            str(b.account.get_category_display()),
            b.cny_balance,
        )
        for b in rows
    ]

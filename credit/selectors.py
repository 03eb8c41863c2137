"""Reads of a customer's credit: what the 360 view's credit panel (and the same
figures in the customer API) shows of their loans and cards.

The repayment status comes from `customers.models.LoanStatus`, a change log: core
banking reports a row only when an account's status changes, so an account's status
on a date is its latest row on or before that date (a status reported months ago
still holds: it carries over), and an account with no row at all is current (no
day past due, classified Normal) as far as the bank knows. docs/credit.md.

- `credit_panel(user=, customer=)`: the customer's loan and card accounts the user
  may see (open ones, and closed ones whose status is still past due), each with
  its current status and its status at the last `TREND_MONTHS` month ends, and the
  customer's totals. Two queries whatever the number of accounts (one when the
  customer holds no loan or card): the accounts, read through the user's scope,
  then the status rows of all of them at once."""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User
from core.months import month_end, month_starts
from customers.choices import (
    CREDIT_CATEGORIES,
    NON_PERFORMING_FROM,
    AccountCategory,
    AccountStatus,
    RiskClass,
)
from customers.masking import mask_account_no
from customers.models import Account, LoanStatus

TREND_MONTHS = 6
ACCOUNT_COLUMNS = ("account_no", "category", "currency", "status", "balance", "cny_balance", "customer_id")


@dataclass(frozen=True)
class Status:
    """An account's repayment status on a date; `since` is the date of the change
    log's row it comes from (None: no row on or before the date, current as far as
    we know)."""

    overdue_days: int = 0
    overdue_amount: Decimal = Decimal("0")
    risk_class: int = RiskClass.NORMAL
    since: datetime.date | None = None

    @property
    def risk_class_label(self) -> str:
        return str(RiskClass(self.risk_class).label) if self.risk_class in RiskClass.values else ""

    @property
    def past_due(self) -> bool:
        return self.overdue_days > 0 or self.overdue_amount > 0

    @property
    def non_performing(self) -> bool:
        return self.risk_class >= NON_PERFORMING_FROM


CURRENT = Status()


@dataclass(frozen=True)
class MonthEndStatus:
    day: datetime.date
    status: Status


@dataclass(frozen=True)
class CreditAccount:
    account_no: str  # masked
    category: str
    category_label: str
    currency: str
    balance: Decimal
    cny_balance: Decimal
    closed: bool
    status: Status  # on the as-of date
    trend: list[MonthEndStatus]  # oldest first


@dataclass(frozen=True)
class CreditPanel:
    as_of: datetime.date
    month_ends: list[datetime.date]  # oldest first
    accounts: list[CreditAccount]

    @property
    def outstanding(self) -> Decimal:
        """What the customer owes on their loans and cards (CNY)."""
        return sum((a.cny_balance for a in self.accounts), Decimal("0"))

    @property
    def overdue_amount(self) -> Decimal:
        return sum((a.status.overdue_amount for a in self.accounts), Decimal("0"))

    @property
    def worst(self) -> Status:
        """The status of the worst classified account (the most days past due
        among equals); the current status when there is no account."""
        return max((a.status for a in self.accounts), key=_severity, default=CURRENT)


def _severity(status: Status) -> tuple[int, int]:
    return (status.risk_class, status.overdue_days)


def trend_month_ends(as_of: datetime.date, months: int = TREND_MONTHS) -> list[datetime.date]:
    """The last `months` month ends on or before `as_of`, oldest first (`as_of`
    itself when it is a month end)."""
    ends = [month_end(start) for start in month_starts(as_of, months + 1)]
    return [day for day in ends if day <= as_of][-months:]


def credit_accounts(*, user: User, customer: Any):
    """The customer's loan and card accounts the user may see (closed ones too:
    whether one is still past due is known from its status)."""
    return (
        Account.objects.visible_to(user)
        .filter(customer_id=customer.pk, category__in=CREDIT_CATEGORIES)
        .only(*ACCOUNT_COLUMNS)
    )


def status_rows(account_ids: list[int], *, since: datetime.date, until: datetime.date):
    """The change log's rows that give these accounts' statuses on every date from
    `since` to `until`: the rows of the window, and each account's latest row on or
    before `since` (the status carried into it). One query; on the primary key
    (account, date) each part is an index range or probe per account."""
    carried = (
        LoanStatus.objects.filter(account_id=OuterRef("account_id"), business_date__lte=since)
        .order_by("-business_date")
        .values("business_date")[:1]
    )
    return (
        LoanStatus.objects.filter(account_id__in=account_ids, business_date__lte=until)
        .filter(Q(business_date__gt=since) | Q(business_date=Subquery(carried)))
        .order_by("account_id", "business_date")
        .values_list("account_id", "business_date", "overdue_days", "overdue_amount", "risk_class")
    )


def status_on(history: list[Status], day: datetime.date) -> Status:
    """The status on `day` from an account's rows in date order: the latest on or
    before it, else current."""
    index = bisect.bisect_right([row.since or datetime.date.min for row in history], day)
    return history[index - 1] if index else CURRENT


def credit_panel(*, user: User, customer: Any, as_of: datetime.date | None = None) -> CreditPanel:
    """The credit panel of the customer as of `as_of` (default: the business date
    the customer's figures stand at, as the 360 view's AUM trend)."""
    as_of = as_of or customer.aum_date or timezone.localdate()
    month_ends = trend_month_ends(as_of)
    accounts = list(credit_accounts(user=user, customer=customer))
    histories: dict[int, list[Status]] = defaultdict(list)
    if accounts:
        rows = status_rows([a.pk for a in accounts], since=month_ends[0], until=as_of)
        for account_id, day, days, amount, risk_class in rows:
            histories[account_id].append(Status(days, amount, risk_class, day))
    labels = dict(AccountCategory.choices)
    shown = []
    for account in accounts:
        history = histories.get(account.pk, [])
        status = status_on(history, as_of)
        closed = account.status == AccountStatus.CLOSED
        if closed and not status.past_due:
            continue
        shown.append(
            CreditAccount(
                account_no=mask_account_no(account.account_no),
                category=account.category,
                category_label=str(labels.get(account.category, "")),
                currency=account.currency,
                balance=account.balance,
                cny_balance=account.cny_balance,
                closed=closed,
                status=status,
                trend=[MonthEndStatus(day, status_on(history, day)) for day in month_ends],
            )
        )
    order = list(AccountCategory.values)
    shown.sort(key=lambda a: (a.closed, order.index(a.category), -a.cny_balance))
    return CreditPanel(as_of=as_of, month_ends=month_ends, accounts=shown)

"""What the tests of the credit panel and its API section share: a customer of
demo_cm1 whose figures stand at AS_OF, and their loans and cards with change-log
rows written through the ORM, as the nightly load would leave them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from customers.choices import AccountCategory, AccountStatus, RiskClass
from customers.models import Account, LoanStatus

AS_OF = datetime.date(2026, 12, 4)  # not a month end: the last one is 30 November
MONTH_ENDS = [
    datetime.date(2026, 6, 30),
    datetime.date(2026, 7, 31),
    datetime.date(2026, 8, 31),
    datetime.date(2026, 9, 30),
    datetime.date(2026, 10, 31),
    datetime.date(2026, 11, 30),
]

MORTGAGE_NO = "6222020100012345678"
CARD_NO = "6258881234565678"
CLOSED_LOAN_NO = "6222020200098765432"
REPAID_CARD_NO = "6258889999000011"
DEPOSIT_NO = "6222020300055554444"
FULL_NUMBERS = (MORTGAGE_NO, CARD_NO, CLOSED_LOAN_NO, REPAID_CARD_NO, DEPOSIT_NO)


def status(account: Account, day: datetime.date, days: int = 0, amount: str = "0", risk: int = 1) -> None:
    LoanStatus.objects.create(
        account=account,
        business_date=day,
        overdue_days=days,
        overdue_amount=Decimal(amount),
        risk_class=risk,
    )


def book_of_credit(customer, add_account) -> dict[str, Account]:
    """The customer's accounts:

    - a mortgage, current since March, 35 days past due from 10 August (special
      mention), 95 days and substandard from 5 October;
    - a credit card never reported on (current);
    - a consumer loan closed but still 200 days past due, classified loss, since
      20 May (before the trend's first month end: it carries over);
    - a card closed and repaid (not shown), and a current deposit (not credit)."""
    mortgage = add_account(
        customer, category=AccountCategory.LOAN_MORTGAGE, cny_balance="850000.00", account_no=MORTGAGE_NO
    )
    card = add_account(
        customer, category=AccountCategory.CREDIT_CARD, cny_balance="12345.67", account_no=CARD_NO
    )
    closed_loan = add_account(
        customer,
        category=AccountCategory.LOAN_CONSUMER,
        cny_balance="0",
        account_no=CLOSED_LOAN_NO,
        status=AccountStatus.CLOSED,
    )
    repaid_card = add_account(
        customer,
        category=AccountCategory.CREDIT_CARD,
        cny_balance="0",
        account_no=REPAID_CARD_NO,
        status=AccountStatus.CLOSED,
    )
    deposit = add_account(customer, category=AccountCategory.DEP_CUR, account_no=DEPOSIT_NO)
    status(mortgage, datetime.date(2026, 3, 15))
    status(mortgage, datetime.date(2026, 8, 10), 35, "4200.00", RiskClass.SPECIAL_MENTION)
    status(mortgage, datetime.date(2026, 10, 5), 95, "12600.00", RiskClass.SUBSTANDARD)
    status(closed_loan, datetime.date(2026, 5, 20), 200, "3000.00", RiskClass.LOSS)
    status(repaid_card, datetime.date(2026, 4, 1), 40, "800.00", RiskClass.SPECIAL_MENTION)
    status(repaid_card, datetime.date(2026, 9, 1))
    return {
        "mortgage": mortgage,
        "card": card,
        "closed_loan": closed_loan,
        "repaid_card": repaid_card,
        "deposit": deposit,
    }

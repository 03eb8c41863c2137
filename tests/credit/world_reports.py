"""The URL harness's objects of credit (reports): for each client manager's
registered customer a mortgage of their branch, opened three months before the
business date and 45 days past due (special mention) since last month, then the
credit-risk figures rebuilt, so that every role's report has figures of its own
scope (the vintages and a roll from current to 31-60 days too)."""

from __future__ import annotations

import datetime
from decimal import Decimal


def build(world, today: datetime.date) -> None:
    from core.months import month_back
    from credit.risk_figures import risk_figures_rebuild
    from customers.choices import AccountCategory, RiskClass
    from customers.models import Account, LoanStatus
    from vip.evaluation import current_business_date

    as_of = current_business_date()
    for i, who in enumerate(("cm1", "cm2", "cm3")):
        customer = world.customer("registered", who)
        mortgage = Account.objects.create(
            account_no=f"62220288{i:011d}",
            customer=customer,
            category=AccountCategory.LOAN_MORTGAGE,
            branch=customer.home_branch,
            open_date=month_back(as_of.replace(day=1), 3),
            balance=Decimal("800000"),
            cny_balance=Decimal("800000"),
        )
        LoanStatus.objects.create(
            account=mortgage,
            business_date=month_back(as_of.replace(day=1), 1),
            overdue_days=45,
            overdue_amount=Decimal("4500"),
            risk_class=RiskClass.SPECIAL_MENTION,
        )
    risk_figures_rebuild(as_of=as_of)

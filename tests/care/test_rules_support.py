"""What the alert-rule tests share: the business date, one evaluation of the rules for
a date, and the rows the rules read (no tests here)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from care.choices import AlertKind
from care.engine import alerts_evaluate
from care.models import Alert
from customers.models import CustomerDailyAum
from marketing.models import MarketingProfile

D = datetime.date(2026, 12, 4)  # a Friday


def days(n: int, day: datetime.date = D) -> datetime.date:
    return day + datetime.timedelta(days=n)


def run(day: datetime.date = D, *kinds: str) -> dict[str, int]:
    return alerts_evaluate(day=day, kinds=list(kinds) or None)


def alerts(kind: str, customer=None):
    query = Alert.objects.filter(kind=kind)
    if customer is not None:
        query = query.filter(customer=customer)
    return query.order_by("id")


def daily_aum(customer, day: datetime.date, aum: str) -> None:
    CustomerDailyAum.objects.create(business_date=day, customer=customer, aum=Decimal(aum), liabilities=0)


def profile(customer, *, last_txn: datetime.date | None, as_of: datetime.date = D) -> None:
    MarketingProfile.objects.update_or_create(
        customer=customer, defaults={"as_of": as_of, "last_txn_date": last_txn}
    )


__all__ = ["D", "AlertKind", "alerts", "daily_aum", "days", "profile", "run"]

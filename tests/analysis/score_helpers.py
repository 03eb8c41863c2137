"""Small builders of the history the customer analysis reads (monthly AUM,
transaction summaries, timestamps), shared by the feature and scoring tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from customers.models import CustomerMonthlyAum, TransactionSummary


def monthly(customer, month: datetime.date, avg: str, end: str | None = None) -> None:
    """The customer's month-average (and month-end, by default the same) AUM."""
    CustomerMonthlyAum.objects.create(
        customer=customer,
        month=month,
        avg_aum=Decimal(avg),
        end_aum=Decimal(end if end is not None else avg),
        avg_liabilities=Decimal("0"),
        days=28,
    )


def txns(customer, day: datetime.date, count: int) -> None:
    TransactionSummary.objects.create(
        business_date=day, customer=customer, channel="MOBILE", txn_count=count, txn_amount=Decimal("100")
    )


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """A local time on `day`."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))

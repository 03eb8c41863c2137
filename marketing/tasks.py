"""Thin nightly tasks: a business date in, a set-based job called, its counts out.
Both can run twice for the same date to the same end state."""

import datetime

from celery import shared_task


def _date(value: str | None) -> datetime.date:
    from django.utils import timezone

    if value:
        return datetime.date.fromisoformat(value)
    return timezone.localdate() - datetime.timedelta(days=1)


@shared_task(name="marketing.profile_refresh")
def profile_refresh_task(business_date: str | None = None) -> int:
    """RFM and AUM history of every customer for the business date (default: yesterday)."""
    from marketing.rfm import profile_refresh

    return profile_refresh(_date(business_date))


@shared_task(name="marketing.sales_from_new_accounts")
def sales_from_new_accounts_task(business_date: str | None = None) -> dict:
    """Sales from the accounts opened on the business date (default: yesterday)."""
    from marketing.sales import sales_from_new_accounts

    return sales_from_new_accounts(_date(business_date))

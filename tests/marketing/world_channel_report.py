"""The URL harness's objects of the channel results (marketing.channel_report): for
each manager's main customer (cm1, cm2, cm3) a campaign contact through the outbound
call channel, a sale through mobile banking and a day of mobile-banking
transactions, all in the month of the latest business date (the report's default
period), so that every role's page has figures of its own scope."""

from __future__ import annotations

import datetime
from decimal import Decimal


def build(world, today: datetime.date) -> None:
    from django.utils import timezone

    from customers.choices import AccountCategory
    from customers.models import TransactionSummary
    from marketing.choices import ContactOutcome, SaleSource
    from marketing.models import Channel, MarketingContact, Sale
    from tests.url_world import WHO, WHO_MANAGER
    from vip.evaluation import current_business_date

    day = current_business_date().replace(day=1)
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    call, mobile = Channel.objects.get(code="call"), Channel.objects.get(code="mobile")
    for who in WHO:
        customer = world.customer("main", who)
        MarketingContact.objects.create(
            customer=customer,
            channel=call.contact_channel,
            via=call,
            occurred_at=when,
            outcome=ContactOutcome.NOT_REACHED,
            manager=world.users[WHO_MANAGER[who]],
        )
        Sale.objects.create(
            customer=customer,
            category=AccountCategory.DEP_TIME,
            amount=Decimal("50000"),
            sale_date=day,
            branch=customer.home_branch,
            manager=world.users[WHO_MANAGER[who]],
            source=SaleSource.OPPORTUNITY,
            channel=mobile,
        )
        TransactionSummary.objects.create(
            customer=customer, business_date=day, channel="MOBILE", txn_count=2, txn_amount=Decimal("1200")
        )

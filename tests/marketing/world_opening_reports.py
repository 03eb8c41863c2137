"""The URL harness's objects of the opening reports pages (the funnel and the match
of a request by hand): for each manager (cm1, cm2, cm3) a customer with an open
account-opening request of the world's deposit, recorded by the manager a week
ago, and an account of that product the customer opened since (the one the match
page matches; core banking has brought it, so it is already a sale of the manager
of record); and an opened and a cancelled request, so the funnel has every stage.

`opening_request` writes a request as the recording page would, for tests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any


def opening_request(
    *,
    customer,
    product,
    manager,
    channel: str = "counter",
    branch=None,
    created: datetime.date | datetime.datetime | None = None,
    appointment: datetime.datetime | None = None,
    **fields: Any,
):
    """An account-opening request of `product` for `customer` recorded by `manager`
    (at the customer's home branch, through the channel of that code), recorded at
    noon of `created` (today by default)."""
    from django.utils import timezone

    from marketing.choices import OpeningStatus
    from marketing.models import Channel, OpeningRequest

    if created is None:
        created_at = timezone.now()
    elif isinstance(created, datetime.datetime):
        created_at = created
    else:
        created_at = timezone.make_aware(datetime.datetime.combine(created, datetime.time(12)))
    fields.setdefault("status", OpeningStatus.APPOINTED if appointment else OpeningStatus.REQUESTED)
    return OpeningRequest.objects.create(
        customer=customer,
        product=product,
        manager=manager,
        channel=Channel.objects.get(code=channel),
        branch=branch or customer.home_branch,
        created_at=created_at,
        appointment_at=appointment,
        **fields,
    )


def build(world, today: datetime.date) -> None:
    from customers.choices import AccountCategory
    from marketing.choices import OpeningStatus
    from marketing.sales import sales_from_new_accounts
    from tests.customers.factories import AccountFactory
    from tests.url_world import WHO, WHO_MANAGER, _customer

    deposit = world.objects["product"]["deposit"]
    week_ago = today - datetime.timedelta(days=7)
    opened_on = today - datetime.timedelta(days=3)
    customers, requests, accounts = {}, {}, {}
    for who in WHO:
        manager = world.users[WHO_MANAGER[who]]
        customer = customers[who] = _customer(world, who, name=f"开户{who}")
        # confirmed by the nightly job: the older request takes the account of its product
        opening_request(
            customer=customer, product=deposit, manager=manager, created=week_ago - datetime.timedelta(days=1)
        )
        AccountFactory(
            customer=customer,
            product_code=deposit.code,
            category=AccountCategory.DEP_TIME,
            open_date=opened_on,
            balance=Decimal("50000"),
        )
        requests[who] = opening_request(customer=customer, product=deposit, manager=manager, created=week_ago)
        # another time deposit: not paired by the nightly job, a candidate of the match page
        accounts[who] = AccountFactory(
            customer=customer,
            product_code="H-TD-06M",
            category=AccountCategory.DEP_TIME,
            open_date=opened_on,
            balance=Decimal("30000"),
        )
        opening_request(
            customer=customer,
            product=deposit,
            manager=manager,
            created=week_ago,
            status=OpeningStatus.CANCELLED,
        )
    sales_from_new_accounts(opened_on)
    world.customers["opening"] = customers
    world.objects["opening_request"] = requests
    world.objects["opening_account"] = accounts

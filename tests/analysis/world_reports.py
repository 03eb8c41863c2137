"""The URL harness's objects of the customer analysis (reports): an analysis row for
each manager's registered VIP and overridden (platinum) customer (cm1, cm2, cm3), as
of the business date, and for the registered one a tier held since before a year
ago, so that every role's report has figures and a retention of its own scope."""

from __future__ import annotations

import datetime
from decimal import Decimal


def build(world, today: datetime.date) -> None:
    from analysis.models import CustomerAnalysis
    from analysis.reports import year_before
    from tests.url_world import WHO
    from vip.choices import TierChangeSource
    from vip.evaluation import current_business_date
    from vip.models import TierChange

    as_of = current_business_date()
    for who in WHO:
        for kind, churn in (("registered", "0.2000"), ("overridden", "0.6500")):
            customer = world.customer(kind, who)
            # get_or_create: another part may have analysed the customer already
            CustomerAnalysis.objects.get_or_create(
                customer=customer,
                defaults={
                    "as_of": as_of,
                    "contribution": Decimal("12000"),
                    "contribution_liability": Decimal("8000"),
                    "contribution_asset": Decimal("3000"),
                    "contribution_intermediary": Decimal("1000"),
                    "loyalty": 64,
                    "product_depth": 3,
                    "churn_probability": Decimal(churn),
                    "satisfaction": 58,
                    "value_at_risk": Decimal(churn) * Decimal("12000"),
                },
            )
        TierChange.objects.create(
            customer=world.customer("registered", who),
            from_tier="",
            to_tier="gold",
            effective_date=year_before(as_of) - datetime.timedelta(days=30),
            source=TierChangeSource.UPGRADE,
        )

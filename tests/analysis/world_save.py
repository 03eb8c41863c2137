"""The URL harness's objects of the customer analysis (save): an analysis row for
each manager's main customer (cm1, cm2, cm3), at risk enough to be on the save
list, so that every role's list has rows of its own scope."""

from __future__ import annotations

import datetime
from decimal import Decimal


def build(world, today: datetime.date) -> None:
    from analysis.models import CustomerAnalysis
    from tests.url_world import WHO

    for who in WHO:
        CustomerAnalysis.objects.update_or_create(
            customer=world.customer("main", who),
            defaults={
                "as_of": today,
                "contribution": Decimal("24000"),
                "contribution_liability": Decimal("20000"),
                "contribution_asset": Decimal("1000"),
                "contribution_intermediary": Decimal("3000"),
                "loyalty": 55,
                "churn_probability": Decimal("0.4500"),
                "satisfaction": 70,
                "value_at_risk": Decimal("10800"),
            },
        )

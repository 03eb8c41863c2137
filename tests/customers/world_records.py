"""The URL harness's objects of the records a manager keeps on the 360 view
(customers.record_views): for each client manager's main customer of
tests/url_world.py a relationship and an asset held elsewhere, and one customer of
theirs in a household (to leave it)."""

from __future__ import annotations

import datetime
from decimal import Decimal


def build(world, today: datetime.date) -> None:
    from customers.choices import AssetKind, HouseholdRole, RelationType
    from customers.models import Household, OtherAsset, Relationship
    from tests.url_world import WHO, _customer

    relationships, assets = {}, {}
    world.customers["in_household"] = {}
    for who in WHO:
        main = world.customer("main", who)
        relationships[who] = Relationship.objects.create(
            customer=main, relation_type=RelationType.SPOUSE, related_name="harness spouse"
        )
        assets[who] = OtherAsset.objects.create(
            customer=main,
            kind=AssetKind.PROPERTY,
            description="harness flat",
            estimated_value=Decimal("2000000"),
        )
        household = Household.objects.create(name=f"harness household {who}")
        world.customers["in_household"][who] = _customer(
            world, who, household=household, household_role=HouseholdRole.HEAD
        )
    world.objects["relationship"] = relationships
    world.objects["other_asset"] = assets

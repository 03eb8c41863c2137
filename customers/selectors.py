"""Reads about customers (the 360 view). Every read starts from
`Customer.objects.visible_to(user)`; the search is `customers.search`."""

from __future__ import annotations

import datetime
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from core import labels as code_labels
from core.months import month_starts

from .choices import ASSET_CATEGORIES, AccountCategory, AccountStatus
from .models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerMonthlyAum,
    Interaction,
    OtherAsset,
    Relationship,
)
from .panels import ACTIONS, CAMPAIGNS, REMINDERS, SERVICES, PanelItem, panel_items
from .querysets import visible_prefetch


@dataclass
class AccountGroup:
    category: str
    label: str
    accounts: list[Account]
    total: Decimal
    is_asset: bool


@dataclass
class Customer360:
    customer: Customer
    contacts: list[ContactPoint]
    account_groups: list[AccountGroup]
    aum_trend: list[dict[str, Any]]
    household_members: list[Customer]
    household_aum: Decimal
    relationships: list[Relationship]
    other_assets: list[OtherAsset]
    other_assets_total: Decimal
    interactions: list[Interaction]
    assignments: list[CustomerAssignment]
    reminders: list[PanelItem] = field(default_factory=list)
    campaigns: list[PanelItem] = field(default_factory=list)
    services: list[PanelItem] = field(default_factory=list)
    actions: list[PanelItem] = field(default_factory=list)


def aum_trend(
    customer: Customer, *, months: int = 13, end: datetime.date | None = None
) -> list[dict[str, Any]]:
    """Month-average and month-end AUM for the last `months` months (zero where the
    customer held nothing), one query."""
    end = end or customer.aum_date or timezone.localdate()
    starts = month_starts(end, months)
    rows = {
        r.month: r
        for r in CustomerMonthlyAum.objects.filter(
            customer=customer, month__gte=starts[0], month__lte=starts[-1]
        )
    }
    return [
        {
            "month": m.strftime("%Y-%m"),
            "avg_aum": rows[m].avg_aum if m in rows else Decimal("0"),
            "end_aum": rows[m].end_aum if m in rows else Decimal("0"),
        }
        for m in starts
    ]


def household_aum(household_id: int) -> Decimal:
    total = Customer.objects.filter(household_id=household_id).aggregate(total=Sum("aum"))["total"]
    return total or Decimal("0")


def customer_360(customer: Customer, *, user=None, interactions: int = 20) -> Customer360:
    """Everything the 360 view shows, in a fixed number of queries whatever the
    number of accounts, contacts or interactions (the customer row is already
    loaded with its branch, manager and household by access_customer).

    With `user`, each household member carries `in_scope`: members outside the
    user's scope count in the household AUM but show no name or balance; a related
    customer outside it reads as None (the relationship shows, not who it is)."""
    contacts = list(customer.contacts.order_by("type", "-is_primary", "pk"))
    labels = dict(AccountCategory.choices)
    groups: OrderedDict[str, AccountGroup] = OrderedDict()
    accounts = customer.accounts.exclude(status=AccountStatus.CLOSED).order_by("category", "-cny_balance")
    product_name = code_labels.annotation("product", "product_code")
    if product_name is not None:  # the product's name beside its code, in the same query
        accounts = accounts.annotate(product_name=product_name)
    for account in accounts:
        group = groups.get(account.category)
        if group is None:
            group = groups[account.category] = AccountGroup(
                account.category,
                str(labels.get(account.category, account.category)),
                [],
                Decimal("0"),
                account.category in ASSET_CATEGORIES,
            )
        group.accounts.append(account)
        group.total += account.cny_balance
    order = list(AccountCategory.values)
    account_groups = sorted(
        groups.values(), key=lambda g: order.index(g.category) if g.category in order else 99
    )
    members: list[Customer] = []
    if customer.household_id:
        member_rows = Customer.objects.filter(household_id=customer.household_id).only(
            "customer_no", "name", "household_role", "aum", "household_id"
        )
        if user is not None:
            visible = Customer.objects.visible_to(user).filter(pk=OuterRef("pk"))
            member_rows = member_rows.annotate(in_scope=Exists(visible))
        members = list(member_rows.order_by("household_role", "customer_no"))
    assets = list(customer.other_assets.order_by("kind", "pk"))
    relationships = customer.relationships.order_by("relation_type", "pk")
    if user is not None:
        # A related customer outside the user's scope reads as None: the page
        # shows the relationship, not who it is.
        related = Customer.objects.only("customer_no", "name")
        relationships = relationships.prefetch_related(visible_prefetch(user, "related_customer", related))
    else:
        relationships = relationships.select_related("related_customer")
    return Customer360(
        customer=customer,
        contacts=contacts,
        account_groups=account_groups,
        aum_trend=aum_trend(customer),
        household_members=members,
        household_aum=sum((m.aum for m in members), Decimal("0")),
        relationships=list(relationships),
        other_assets=assets,
        other_assets_total=sum((a.estimated_value for a in assets), Decimal("0")),
        interactions=list(
            customer.interactions.select_related("manager").order_by("-occurred_at", "-pk")[:interactions]
        ),
        assignments=list(customer.assignments.select_related("manager").order_by("-start_date", "-pk")[:10]),
        reminders=panel_items(REMINDERS, customer, user) if user is not None else [],
        campaigns=panel_items(CAMPAIGNS, customer, user) if user is not None else [],
        services=panel_items(SERVICES, customer, user) if user is not None else [],
        actions=panel_items(ACTIONS, customer, user) if user is not None else [],
    )

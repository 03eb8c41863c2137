"""Reads about customers. Every read starts from `Customer.objects.visible_to(user)`."""

from __future__ import annotations

import datetime
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Branch

from .choices import ASSET_CATEGORIES, AccountCategory, AccountStatus
from .idnumbers import normalise_mobile
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

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
DIGITS_RE = re.compile(r"^\d+$")

SORTS = {
    "aum": ("-aum", "id"),
    "-aum": ("aum", "id"),
    "name": ("name", "id"),
    "customer_no": ("customer_no",),
}


@dataclass(frozen=True)
class SearchFilters:
    branch: str = ""  # branch code; its subtree is searched
    tier: str = ""
    status: str = ""
    manager: str = ""  # employee number
    aum_min: Decimal | None = None
    aum_max: Decimal | None = None


def classify_query(q: str) -> str:
    """What kind of text was typed: mobile, id_number, number (customer, account or
    ID number) or name. Digits can be several things at once; `_text_condition`
    looks in every place a number of that shape can live."""
    q = q.strip()
    if MOBILE_RE.match(normalise_mobile(q)):
        return "mobile"
    if RESIDENT_ID_RE.match(q):
        return "id_number"
    if DIGITS_RE.match(q) or re.match(r"^[A-Za-z]{0,3}\d{6,}$", q):
        return "number"
    return "name"


def _number_condition(q: str) -> Q:
    return (
        Q(customer_no=q)
        | Q(pk__in=Account.objects.filter(account_no=q).values("customer_id"))
        | Q(id_number=q.upper())
    )


def _text_condition(q: str) -> Q:
    kind = classify_query(q)
    if kind == "mobile":
        mobile = normalise_mobile(q)
        by_contact = ContactPoint.objects.filter(type="MOBILE", value=mobile).values("customer_id")
        return Q(mobile=mobile) | Q(pk__in=by_contact) | _number_condition(q)
    if kind in ("id_number", "number"):
        return _number_condition(q)
    return Q(name__contains=q) | Q(customer_no=q)


def customer_search(
    *, user, q: str = "", filters: SearchFilters | None = None, sort: str = "aum"
) -> QuerySet[Customer]:
    """Customers in the user's scope matching the text and filters."""
    customers = Customer.objects.visible_to(user)
    q = (q or "").strip()
    if q:
        customers = customers.filter(_text_condition(q))
    f = filters or SearchFilters()
    if f.branch:
        root = Branch.objects.filter(code=f.branch).first()
        customers = (
            customers.filter(home_branch__in=Branch.objects.subtree(root).values("pk"))
            if root
            else customers.none()
        )
    if f.tier:
        customers = customers.filter(tier=f.tier)
    if f.status:
        customers = customers.filter(status=f.status)
    if f.manager:
        customers = customers.filter(primary_manager__employee_no=f.manager)
    if f.aum_min is not None:
        customers = customers.filter(aum__gte=f.aum_min)
    if f.aum_max is not None:
        customers = customers.filter(aum__lte=f.aum_max)
    return customers.select_related("home_branch", "primary_manager").order_by(*SORTS.get(sort, SORTS["aum"]))


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
    reminders: list[Any] = field(default_factory=list)
    campaigns: list[Any] = field(default_factory=list)


def month_starts(end: datetime.date, count: int) -> list[datetime.date]:
    months = []
    year, month = end.year, end.month
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


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
    user's scope count in the household AUM but show no name or balance."""
    contacts = list(customer.contacts.order_by("type", "-is_primary", "pk"))
    labels = dict(AccountCategory.choices)
    groups: OrderedDict[str, AccountGroup] = OrderedDict()
    accounts = customer.accounts.exclude(status=AccountStatus.CLOSED).order_by("category", "-cny_balance")
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
    return Customer360(
        customer=customer,
        contacts=contacts,
        account_groups=account_groups,
        aum_trend=aum_trend(customer),
        household_members=members,
        household_aum=sum((m.aum for m in members), Decimal("0")),
        relationships=list(
            customer.relationships.select_related("related_customer").order_by("relation_type", "pk")
        ),
        other_assets=assets,
        other_assets_total=sum((a.estimated_value for a in assets), Decimal("0")),
        interactions=list(
            customer.interactions.select_related("manager").order_by("-occurred_at", "-pk")[:interactions]
        ),
        assignments=list(customer.assignments.select_related("manager").order_by("-start_date", "-pk")[:10]),
    )

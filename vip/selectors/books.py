"""Whose customers: a manager's book (by tier, with the last contact and the next one
due), the managers of the user's branches with the size of their books, and the
branch pool of customers without a manager of record."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment, Interaction
from customers.search import CustomerRows, KeysetPage, keyset_page

from ..models import FigureBuild, TierPolicy
from ..standards import CONTACT_KINDS, next_due
from .figures import book_size, book_tiers, figures_build
from .levels import LevelTable, level_table, tier_label

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ContactAnnotations(TypedDict):
    """What a customer of a book is annotated with (`manager_book`)."""

    last_contact: datetime.datetime | None
    assigned_since: datetime.date | None


class BookFigures(TypedDict):
    """What a manager is given with the figures of their book (`managers_with_books`)."""

    book_size: int
    book_aum: Decimal


@dataclass
class BookRow:
    customer: Customer
    tier_name: str
    last_contact: datetime.datetime | None
    since: datetime.date | None
    next_due: datetime.date | None
    interval: int | None
    major: bool
    overdue: bool


@dataclass
class Book:
    manager: User
    page: KeysetPage
    rows: list[BookRow]
    tiers: list[dict[str, Any]]
    total: int
    total_aum: Decimal
    major_floor: Decimal | None
    names: dict[str, str] = field(default_factory=dict)
    # the build of the kept figures the counts come from; None: counted live
    as_of: FigureBuild | None = None


def _last_contact():
    return Subquery(
        Interaction.objects.filter(customer=OuterRef("pk"), kind__in=CONTACT_KINDS)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )


def _assigned_since():
    return Subquery(
        CustomerAssignment.objects.filter(
            customer=OuterRef("pk"), role=AssignmentRole.PRIMARY, end_date__isnull=True
        ).values("start_date")[:1]
    )


def major_floor(manager: User, share_pct: int, *, size: int | None = None) -> Decimal | None:
    """The smallest AUM among the manager's top `share_pct` % (None: nobody).
    `size`: the book's size when known (the kept figures), else counted."""
    book = Customer.objects.filter(primary_manager=manager, merged_into__isnull=True)
    counted = size is None
    if size is None:
        size = book.count()
    top = math.ceil(size * share_pct / 100)
    if not top:
        return None
    try:
        return book.order_by("-aum", "-id").values_list("aum", flat=True)[top - 1]
    except IndexError:
        if counted:  # the book shrank meanwhile
            return None
        return major_floor(manager, share_pct)  # figures built before the book shrank (a merge)


def _tier_summary(book: QuerySet[Customer], levels: LevelTable) -> list[dict[str, Any]]:
    """Count and AUM of the book per tier held, highest tier first (no tier last)."""
    return _tier_rows(book.order_by().values("tier").annotate(n=Count("pk"), aum=Sum("aum")), levels)


def _tier_rows(grouped: Iterable[dict[str, Any]], levels: LevelTable) -> list[dict[str, Any]]:
    tiers = [
        {
            "code": row["tier"],
            "name": tier_label(row["tier"], levels.names),
            "count": row["n"],
            "aum": row["aum"],
        }
        for row in grouped
    ]
    tiers.sort(key=lambda t: -(levels.thresholds.get(t["code"]) or Decimal("-1")))
    return tiers


def _book_rows(
    customers: list[WithAnnotations[Customer, ContactAnnotations]],
    *,
    manager: User,
    levels: LevelTable,
    size: int | None,
) -> tuple[list[BookRow], Decimal | None]:
    """The page's customers with the due date of their next contact (by their
    tier's service standard, or as a major customer of the book), and the AUM from
    which a customer is one of the book's major customers."""
    policy = TierPolicy.current()
    floor = major_floor(manager, policy.major_share_pct, size=size)
    per_tier, default_days = levels.intervals, policy.major_contact_interval_days
    today = timezone.localdate()
    rows = []
    for customer in customers:
        major = bool(customer.tier) or (floor is not None and customer.aum >= floor)
        due, interval = next_due(
            tier=customer.tier,
            major=major,
            last_contact=customer.last_contact,
            since=customer.assigned_since,
            per_tier=per_tier,
            default_days=default_days,
        )
        rows.append(
            BookRow(
                customer=customer,
                tier_name=tier_label(customer.tier, levels.names),
                last_contact=customer.last_contact,
                since=customer.assigned_since,
                next_due=due,
                interval=interval,
                major=major,
                overdue=bool(due and due < today),
            )
        )
    return rows, floor


def manager_book(
    *,
    user: User,
    manager: User,
    cursor: str = "",
    size: int = 25,
    sort: str = "aum",
    customers: QuerySet[Customer] | None = None,
    filtered: QuerySet[Customer] | None = None,
) -> Book:
    """A manager's customers (as far as `user` may see them: `customers`, already
    narrowed to `user`, or `Customer.objects.visible_to(user)`), largest AUM first
    (or in another keyset order, `customers.search.SORTS`), with their last contact
    and the due date of the next one.

    `filtered` is `customers` narrowed further by the page's filters
    (`vip.filters.BookFilterSet`): the rows come from it, while the per-tier
    summary counts the whole book, from the kept figures when they are built
    (`as_of` says when; `vip.selectors.figures`), else from the customers."""
    levels = level_table()
    if customers is None:
        customers = Customer.objects.visible_to(user)
    if filtered is None:
        filtered = customers
    build = figures_build()
    kept = book_tiers(user, manager) if build is not None else None
    if kept is None:
        build = None
        tiers = _tier_summary(customers.filter(primary_manager=manager, merged_into__isnull=True), levels)
    else:
        tiers = _tier_rows(kept, levels)
    shown = filtered.filter(primary_manager=manager, merged_into__isnull=True).annotate(
        last_contact=_last_contact(), assigned_since=_assigned_since()
    )
    page = keyset_page(CustomerRows(shown, sort=sort), cursor=cursor, size=size)
    # The page's rows are read back from `shown`, with its annotations.
    annotated = cast("list[WithAnnotations[Customer, ContactAnnotations]]", page.rows)
    book_customers = book_size(manager) if build is not None else None
    rows, floor = _book_rows(annotated, manager=manager, levels=levels, size=book_customers)
    return Book(
        manager=manager,
        page=page,
        rows=rows,
        tiers=tiers,
        total=sum(t["count"] for t in tiers),
        total_aum=sum((t["aum"] or Decimal("0") for t in tiers), Decimal("0")),
        major_floor=floor,
        names=levels.names,
        as_of=build,
    )


def managers_in_scope(user: User) -> QuerySet[User]:
    """Client managers (active or not: a manager who left still has a book) of the
    branches the user may see."""
    return (
        User.objects.filter(branch__in=visible_branches(user), groups__name=Role.CLIENT_MANAGER)
        .select_related("branch")
        .distinct()
    )


def book_managers(user: User) -> QuerySet[User]:
    """The managers whose book the user may open, by branch and name: a client
    manager only their own (as `vip.permissions.access_manager` allows)."""
    managers = managers_in_scope(user)
    if data_scope(user).kind is ScopeKind.OWN:
        managers = managers.filter(pk=user.pk)
    return managers.order_by("branch__path", "display_name", "employee_no")


def managers_with_books(user: User) -> list[WithAnnotations[User, BookFigures]]:
    """Managers in scope with the size and AUM of their books as far as the user may
    see them (one grouped query): a customer of a book homed outside the user's
    scope is not counted."""
    # Each manager is given `BookFigures` below, before the list is returned.
    managers = cast(
        "list[WithAnnotations[User, BookFigures]]",
        list(managers_in_scope(user).order_by("branch__path", "employee_no")),
    )
    figures = {
        row["primary_manager"]: row
        for row in Customer.objects.visible_to(user)
        .filter(primary_manager__in=[m.pk for m in managers], merged_into__isnull=True)
        .order_by()
        .values("primary_manager")
        .annotate(n=Count("pk"), aum=Sum("aum"))
    }
    for manager in managers:
        row = figures.get(manager.pk, {})
        manager.book_size = row.get("n", 0)
        manager.book_aum = row.get("aum") or Decimal("0")
    return managers


# --- pool -----------------------------------------------------------------------------


def pool_customers(
    *,
    user: User,
    cursor: str = "",
    size: int = 50,
    sort: str = "aum",
    customers: QuerySet[Customer] | None = None,
) -> KeysetPage:
    """Customers without a manager of record in the user's scope (`customers`,
    already narrowed to `user` and perhaps by the page's filters,
    `vip.filters.PoolFilterSet`; or `Customer.objects.visible_to(user)`), largest
    AUM first (or in another keyset order, `customers.search.SORTS`)."""
    if customers is None:
        customers = Customer.objects.visible_to(user)
    customers = customers.filter(primary_manager__isnull=True, merged_into__isnull=True)
    customers = customers.select_related("home_branch")
    return keyset_page(CustomerRows(customers, sort=sort), cursor=cursor, size=size)


def pool_counts(user: User) -> list[dict[str, Any]]:
    """Pool size per home branch in the user's scope."""
    rows = (
        Customer.objects.visible_to(user)
        .filter(primary_manager__isnull=True, merged_into__isnull=True)
        .order_by()
        .values("home_branch__code", "home_branch__name")
        .annotate(n=Count("pk"), aum=Sum("aum"))
        .order_by("home_branch__code")
    )
    return list(rows)

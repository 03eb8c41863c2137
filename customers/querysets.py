"""The customer data scope: the one rule that says which customers a user may see,
and the querysets of every model that holds a customer, built on it. Every list,
search, 360 view, export, API call and report starts here.

- `customer_scope(user, path)` writes the rule once, as the condition "the customer
  reached through `path` is one the user may see" (`accounts.scope.data_scope` says
  which kind of scope the user has).
- `CustomerQuerySet.visible_to(user)`: the customers themselves (path "").
- `CustomerHeldQuerySet.visible_to(user)`: the rows of a model that holds a customer
  (accounts, balances, contacts, interactions, transfers, campaign targets...); a
  subclass names the path to the customer (`customer_path`) and the other customers
  a row may name (`other_customer_paths`), which must be visible too.
- `visible_prefetch(user, lookup, queryset)`: related rows of a visible object,
  narrowed to what the user may see as well.

A model holding a customer without `visible_to` is a test failure
(tests/customers/test_scope.py enumerates them through the app registry)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import Branch
from accounts.scope import ScopeKind, data_scope
from core.compiled import CompiledRead


def customer_scope(user, path: str = "") -> Q | None:
    """The condition on rows whose customer, reached through `path` ("" for the
    customer rows themselves, "customer", "account__customer"...), the user may see;
    None when the user may see no customer at all.

    Head-office roles: every customer, an empty condition (a bank-wide list joins
    nothing). Branch head: customers of their branch subtree. Client manager:
    customers whose manager of record they are, plus customers explicitly shared
    with them (unexpired grants). Anyone else: none."""
    return ScopeRule.of(user).condition(path)


@dataclass(frozen=True)
class ScopeRule:
    """`customer_scope` with what it reads from the database read once, for a
    condition on several paths (a row naming two customers)."""

    user: Any
    kind: ScopeKind
    # Constants rather than subqueries, on purpose. A subtree is at most a few
    # thousand branches: with their ids the planner knows how many customers they
    # hold and leads with the search index, instead of a bitmap of the whole
    # branch. Grants are a handful at most: "manager = me" alone then drives the
    # manager's AUM-ordered index.
    branch_ids: tuple[int, ...] = ()
    granted: tuple[int, ...] = ()

    @classmethod
    def of(cls, user) -> ScopeRule:
        scope = data_scope(user)
        if scope.kind is ScopeKind.SUBTREE:
            assert scope.branch is not None  # a subtree scope always has its root
            return cls(user, scope.kind, branch_ids=_subtree(user, scope.branch))
        if scope.kind is ScopeKind.OWN:
            return cls(user, scope.kind, granted=tuple(_granted(user)))
        return cls(user, scope.kind)

    def condition(self, path: str = "") -> Q | None:
        alternatives = self.alternatives(path)
        if alternatives is None:
            return None
        condition = Q()
        for alternative in alternatives:
            condition |= alternative
        return condition

    def alternatives(self, path: str = "") -> tuple[Q, ...] | None:
        """The condition as the OR of these: a manager's own customers and those
        shared with them are two index ranges, which the search reads apart
        (customers.search); None when nothing is visible."""
        prefix = f"{path}__" if path else ""
        if self.kind is ScopeKind.ALL:
            return (Q(),)
        if self.kind is ScopeKind.SUBTREE:
            return (Q(**{f"{prefix}home_branch_id__in": list(self.branch_ids)}),)
        if self.kind is ScopeKind.OWN:
            own = Q(**{f"{prefix}primary_manager": self.user})
            if not self.granted:
                return (own,)
            return (own, Q(**{f"{path or 'pk'}__in": list(self.granted)}))
        return None


def _subtree(user, branch: Branch) -> tuple[int, ...]:
    """The ids of the branch and the branches below it, read once per request for
    the user's own branch (the user object lives as long; a page asks for the
    scope of several tables)."""
    cached = getattr(user, "_subtree_branch_cache", None)
    if cached is None or cached[0] != branch.pk:
        cached = (branch.pk, tuple(Branch.objects.subtree(branch).values_list("pk", flat=True)))
        user._subtree_branch_cache = cached
    return cached[1]


def _granted(user) -> list[int]:
    """The ids of the customers shared with the user or whom they assist (a running
    split credit: they count a share of the customer's figures), in one query read
    once per request (the user object lives as long)."""
    granted = getattr(user, "_granted_customer_cache", None)
    if granted is None:
        rows = _GRANTED.rows(user.pk, timezone.now(), timezone.localdate())
        granted = [customer_id for (customer_id,) in rows]
        user._granted_customer_cache = granted
    return granted


def _granted_statement(user_id: int, now: datetime.datetime, today: datetime.date) -> models.QuerySet:
    shared = granted_customer_ids(user_id, now).values_list("content_object_id", flat=True)
    return shared.union(assisted_customer_ids(user_id, today))  # UNION: each id once


# read on every page of a client manager: compiled once per process
_GRANTED = CompiledRead(
    "customers.CustomerUserObjectPermission",
    _granted_statement,
    kinds=(int, datetime.datetime, datetime.date),
)


def assisted_customer_ids(user, today: datetime.date | None = None) -> models.QuerySet:
    """Customers the user (or user id) assists today: a secondary assignment (split
    credit) that has started and not ended."""
    from .choices import AssignmentRole
    from .models import CustomerAssignment

    today = today or timezone.localdate()
    return (
        CustomerAssignment.objects.filter(manager=user, role=AssignmentRole.SECONDARY, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("customer_id", flat=True)
    )


def granted_customer_ids(user, now: datetime.datetime | None = None) -> models.QuerySet:
    """Customers shared with the user (or user id) through an unexpired
    django-guardian grant."""
    from .models import CustomerUserObjectPermission

    now = now or timezone.now()
    return (
        CustomerUserObjectPermission.objects.filter(
            user=user, permission__codename="view_customer", permission__content_type__app_label="customers"
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("content_object_id")
    )


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> CustomerQuerySet:
        """The customers the user may see (`customer_scope`)."""
        condition = customer_scope(user)
        return self.none() if condition is None else self.filter(condition)


class CustomerHeldQuerySet(models.QuerySet):
    """Rows of a model that holds a customer: visible when the user may see their
    customer (and every other customer the row names). Subclasses name the path."""

    # The lookup path from a row to the customer it is about.
    customer_path = "customer"
    # Other customers a row names (a duplicate pair's other half, a merge's merged
    # record): each must be visible too; a nullable one only when it is set.
    other_customer_paths: tuple[str, ...] = ()
    # Whether a row that names no customer (a nullable `customer_path`) is visible.
    customerless_visible = False

    def scope_condition(self, user) -> Q | None:
        """The condition `visible_to` applies (None: nothing is visible)."""
        rule = ScopeRule.of(user)
        condition = rule.condition(self.customer_path)
        if condition is None or not condition:  # nothing, or the whole bank
            return condition
        for path in self.other_customer_paths:
            other = rule.condition(path)
            assert other is not None  # the same rule gave the row's own condition
            condition &= (Q(**{f"{path}__isnull": True}) | other) if self._nullable(path) else other
        if self.customerless_visible:
            condition = Q(**{f"{self.customer_path}__isnull": True}) | condition
        return condition

    def visible_to(self, user) -> models.QuerySet:
        condition = self.scope_condition(user)
        return self.none() if condition is None else self.filter(condition)

    def _nullable(self, path: str) -> bool:
        return "__" not in path and self.model._meta.get_field(path).null


class HeldThroughAccount(CustomerHeldQuerySet):
    """Daily balances: the customer is the account's."""

    customer_path = "account__customer"


class GrantQuerySet(CustomerHeldQuerySet):
    """Grants of a customer to a user (django-guardian's `content_object`)."""

    customer_path = "content_object"


class QualityIssueQuerySet(CustomerHeldQuerySet):
    """A data-quality issue shows its customer and, for a duplicate pair, the other
    customer too: both must be visible (a pair half outside the scope would show a
    customer the user may not see). Each half is a join on the customer's primary
    key with the scope's constants, never "other_customer IN (subquery)": under the
    OR with "no pair" such an IN cannot become a join, and PostgreSQL re-reads the
    whole scope for every pair row (minutes for a manager's queue over a million
    customers)."""

    other_customer_paths = ("other_customer",)


class MergeQuerySet(CustomerHeldQuerySet):
    """A merge names the survivor and the merged record: both must be visible."""

    customer_path = "survivor"
    other_customer_paths = ("merged",)


def visible_prefetch(user, lookup: str, queryset: Any, *, to_attr: str | None = None) -> Prefetch:
    """Prefetch `lookup` with only the related rows the user may see: `queryset` (of
    the related model, whose class answers `visible_to`) narrowed to the user. For a
    forward relation a related row outside the scope reads as None; for a reverse
    one it is left out of the list."""
    return Prefetch(lookup, queryset=queryset.visible_to(user), to_attr=to_attr)

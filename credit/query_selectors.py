"""Credit-report queries, the reads of their pages (the writes: credit.services).
Every read starts from the user's scope (`visible_to`): a query or authorization of
a customer the user may not see does not exist for them (404)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from customers.models import Customer

from .choices import QueryStatus
from .models import CreditAuthorization, CreditQuery
from .services import APPROVE_PERMISSION, SENDABLE, authorization_state

QUERY_READ = "credit.view_creditquery"
AUTHORIZATION_READ = "credit.view_creditauthorization"
_QUERY_COLUMNS = ("customer", "authorization", "proposed_by", "decided_by")


def may_read_queries(user) -> bool:
    return user.has_perm(QUERY_READ)


def may_read_customer_credit(user) -> bool:
    """Whether the user may open a customer's credit-report page."""
    return user.has_perm(QUERY_READ) or user.has_perm(AUTHORIZATION_READ)


def access_query(user: User, pk: int) -> CreditQuery:
    """A query of a customer in the user's scope (else 404)."""
    queries = CreditQuery.objects.visible_to(user).select_related(*_QUERY_COLUMNS)
    return get_object_or_404(queries, pk=pk)


def access_authorization(user: User, pk: int) -> CreditAuthorization:
    """An authorization of a customer in the user's scope (else 404)."""
    if not user.has_perm(AUTHORIZATION_READ):
        raise PermissionDenied
    authorizations = CreditAuthorization.objects.visible_to(user).select_related("customer")
    return get_object_or_404(authorizations, pk=pk)


@dataclass(frozen=True)
class AuthorizationRow:
    authorization: CreditAuthorization
    state: str  # "valid", "expired", "revoked" (credit.services.authorization_state)


def customer_authorizations(user: User, customer: Customer, today: datetime.date) -> list[AuthorizationRow]:
    """The customer's authorizations, latest signed first, each with its state today;
    none for a user who may not read them."""
    if not user.has_perm(AUTHORIZATION_READ):
        return []
    rows = (
        CreditAuthorization.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("recorded_by", "revoked_by")
        .order_by("-signed_on", "-pk")
    )
    return [AuthorizationRow(a, authorization_state(a, today)) for a in rows]


def customer_queries(user: User, customer: Customer) -> QuerySet[CreditQuery]:
    """The customer's queries, latest first; none for a user who may not read them."""
    if not user.has_perm(QUERY_READ):
        return CreditQuery.objects.none()
    return (
        CreditQuery.objects.visible_to(user)
        .filter(customer=customer)
        .select_related(*_QUERY_COLUMNS)
        .order_by("-proposed_at", "-pk")
    )


def query_list(queries: QuerySet[CreditQuery]) -> QuerySet[CreditQuery]:
    """The rows of the queries list (already narrowed to the user's scope), with
    what its columns show."""
    return queries.select_related(*_QUERY_COLUMNS, "customer__home_branch")


def requesters(user: User) -> QuerySet[User]:
    """Who asked for the queries the user may see: the list's "requested by" choices."""
    asked = CreditQuery.objects.visible_to(user).values("proposed_by_id")
    return User.objects.filter(pk__in=asked).order_by("display_name", "pk")


def queries_to_decide(user: User) -> QuerySet[CreditQuery]:
    """The queries of the user's scope waiting for their decision (not their own),
    oldest first; none for a user who may not approve."""
    if not user.has_perm(APPROVE_PERMISSION):
        return CreditQuery.objects.none()
    return (
        CreditQuery.objects.visible_to(user)
        .filter(status=QueryStatus.PENDING)
        .exclude(proposed_by=user)
        .select_related(*_QUERY_COLUMNS, "customer__home_branch")
        .order_by("proposed_at", "pk")
    )


def queries_to_resend(user: User) -> QuerySet[CreditQuery]:
    """Approved queries of the user's scope the bureau did not answer, which the user
    may send again (not their own)."""
    if not user.has_perm(APPROVE_PERMISSION):
        return CreditQuery.objects.none()
    return (
        CreditQuery.objects.visible_to(user)
        .filter(status__in=SENDABLE)
        .exclude(proposed_by=user)
        .select_related(*_QUERY_COLUMNS, "customer__home_branch")
        .order_by("proposed_at", "pk")
    )

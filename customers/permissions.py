"""Fetching one customer for a user: the only way views and the API get a customer.
A customer outside the user's scope does not exist for them (404, never 403)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Customer


def access_customer(user, customer_no: str, *, for_change: bool = False) -> Customer:
    if not user.has_perm("customers.view_customer"):
        raise PermissionDenied
    if for_change and not user.has_perm("customers.change_customer"):
        raise PermissionDenied
    try:
        return (
            Customer.objects.visible_to(user)
            .select_related("home_branch", "primary_manager", "household")
            .get(customer_no=customer_no)
        )
    except Customer.DoesNotExist:
        raise Http404 from None

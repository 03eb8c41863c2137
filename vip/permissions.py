"""Fetching one object of the VIP area for a user: the only way its views get a
transfer, a prospect, a share, a batch or a manager whose book they
open (a customer comes from `customers.permissions.access_customer`).

Each `access_<thing>(user, key, *, for_change)` reads through the object's
`visible_to(user)`: an object outside the user's scope does not exist for them (404,
never 403). A user whose role may not use such objects at all (or, `for_change`,
act on them) is refused (403). The services check again when they write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.scope import ScopeKind, data_scope
from customers.models import CustomerUserObjectPermission

from .models import AssignmentBatch, TransferRequest, VipProspect
from .selectors import managers_in_scope


def _require_any(user, *permissions: str) -> None:
    if not any(user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def access_transfer(user, pk: int, *, for_change: bool) -> TransferRequest:
    """A transfer request of a customer in the user's scope. To act on one (approve,
    reject, or cancel one's own), the user may approve or request transfers."""
    if for_change:
        _require_any(user, "vip.approve_transferrequest", "vip.add_transferrequest")
    else:
        _require_any(
            user, "vip.view_transferrequest", "vip.approve_transferrequest", "vip.add_transferrequest"
        )
    return get_object_or_404(TransferRequest.objects.visible_to(user).select_related("customer"), pk=pk)


def access_prospect(user, pk: int, *, for_change: bool) -> VipProspect:
    """A prospect of the user's scope (their own, their branches', or any)."""
    _require_any(user, "vip.change_vipprospect" if for_change else "vip.view_vipprospect")
    prospects = VipProspect.objects.visible_to(user).select_related("manager", "branch", "customer")
    return get_object_or_404(prospects, pk=pk)


def access_share(user, pk: int, *, for_change: bool) -> CustomerUserObjectPermission:
    """A share (a django-guardian grant) of a customer in the user's scope."""
    _require_any(user, "vip.share_customer" if for_change else "customers.view_customer")
    grants = CustomerUserObjectPermission.objects.visible_to(user).select_related("user", "content_object")
    return get_object_or_404(grants, pk=pk)


def access_batch(user, pk: int, *, for_change: bool) -> AssignmentBatch:
    """A batch assignment the user prepared: nobody else's batch exists for them."""
    _require_any(user, "vip.assign_customer")
    return get_object_or_404(AssignmentBatch.objects.filter(created_by=user), pk=pk)


def access_manager(user, employee_no: str, *, for_change: bool) -> User:
    """A client manager of the branches the user may see, whose book they open (a
    client manager: only themselves); to act on the book (recall it), the user may
    recall customers."""
    _require_any(user, "vip.recall_customer" if for_change else "customers.view_customer")
    managers = managers_in_scope(user)
    if data_scope(user).kind is ScopeKind.OWN:
        managers = managers.filter(pk=user.pk)
    return get_object_or_404(managers, employee_no=employee_no)

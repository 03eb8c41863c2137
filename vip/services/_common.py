"""Checks every write of the VIP area makes: the permission, a reason, the new
manager of record, and the customer row locked before it changes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from accounts.scope import has_role, visible_branches
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment


def require_permission(user: User, permission: str) -> None:
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this."))


def require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({field: _("Give a reason (at least 4 characters).")})
    return reason[:200]


def is_client_manager(user: User | None) -> bool:
    return bool(user and user.is_active and has_role(user, Role.CLIENT_MANAGER))


def check_manager(manager: User, *, by: User | None = None) -> None:
    """The new manager of record: an active client manager, within the branches the
    assigning user may see."""
    if not is_client_manager(manager):
        raise ValidationError(
            _("%(name)s is not an active client manager.") % {"name": manager.get_full_name()}
        )
    if by is not None and not visible_branches(by).filter(pk=manager.branch_id).exists():
        raise ValidationError(_("%(name)s works outside your branches.") % {"name": manager.get_full_name()})


def lock_customer(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def open_primary(customer: Customer) -> CustomerAssignment | None:
    """The customer's running assignment to their manager of record, if any."""
    return (
        CustomerAssignment.objects.filter(
            customer=customer, role=AssignmentRole.PRIMARY, end_date__isnull=True
        )
        .select_related("manager")
        .first()
    )

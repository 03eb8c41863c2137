"""Fetching one customer for a user: the only way views and the API get a customer,
and the check every service makes again before it writes about one.

- `access_customer(user, customer_no, *, for_change)`: views and the API. A customer
  outside the user's scope does not exist for them (404, never 403, and audited as
  refused); a user who may not view customers at all (or, `for_change`, change
  them) is refused (403).
  `access_quality_issue` does the same for an issue of the data-quality queue.
- `require_in_scope(user, customer)`: services. A service given a user and a
  customer refuses a customer that user may not see, whatever its caller checked
  before (PermissionDenied, with a message)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.audit import Action, audit

from .models import Customer, DataQualityIssue


def access_customer(user, customer_no: str, *, for_change: bool) -> Customer:
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
        _audit_refused(user, customer_no)
        raise Http404 from None


def _audit_refused(user, customer_no: str) -> None:
    """A customer who exists but is outside the user's scope is recorded (the
    suspicious-operation report counts them); a number that matches nobody is not."""
    refused = Customer.objects.filter(customer_no=customer_no).only("pk", "customer_no", "name").first()
    if refused is not None:
        audit(Action.CUSTOMER_ACCESS_REFUSED, actor=user, target=refused)


def access_quality_issue(user, pk: int, *, for_change: bool) -> DataQualityIssue:
    """An issue of the data-quality queue whose customers (both, for a pair) the user
    may see; acting on one (merging its pair, dismissing it) needs one of those
    permissions."""
    needed = (
        ("customers.change_dataqualityissue", "customers.merge_customer")
        if for_change
        else ("customers.view_dataqualityissue",)
    )
    if not any(user.has_perm(permission) for permission in needed):
        raise PermissionDenied
    issues = DataQualityIssue.objects.visible_to(user).select_related("branch", "resolved_by")
    return get_object_or_404(issues, pk=pk)


def require_in_scope(user, customer: Customer, *, lock: bool = False) -> Customer:
    """The customer, if the user's data scope holds them (else PermissionDenied).
    With `lock`, read again and locked for the rest of the transaction: a service
    that serialises its writes about one customer on the customer's row."""
    visible = Customer.objects.visible_to(user).filter(pk=customer.pk)
    if lock:
        found = visible.select_for_update().first()
        if found is not None:
            return found
    elif visible.exists():
        return customer
    raise PermissionDenied(_("This customer is not in your scope."))

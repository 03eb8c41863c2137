"""The manager of record: a customer of the pool given to a client manager, and
customers (one, a selection, or a leaving manager's whole book) recalled to the
branch pool. A customer who already has a manager moves to another only through
an approved transfer (`transfers`).

Assignments are written only through `customers.services.assignment_set_primary`
and `assignment_end_primary`. A running split of the credit ends with the manager of
record it was agreed with (`split_credit.splits_end_with_primary`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from accounts.scope import visible_branches
from customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from customers.permissions import require_in_scope
from customers.services import assignment_end_primary, assignment_set_primary, ensure_not_merged

from .. import events
from ..choices import TransferStatus
from ..models import TransferRequest
from ._common import check_manager, lock_customer, open_primary, require_permission, require_reason
from .figures import figures_follow
from .reminders import remind
from .split_credit import splits_end_of_assisting, splits_end_with_primary


@transaction.atomic
def customer_assign(*, customer: Customer, manager: User, by: User, reason: str) -> CustomerAssignment:
    """Give a customer of the pool (no manager of record) to a client manager. A
    customer who already has a manager moves only through an approved transfer."""
    require_permission(by, "vip.assign_customer")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    check_manager(manager, by=by)
    customer = lock_customer(customer)
    current = open_primary(customer)
    if current is not None and current.manager_id == manager.pk:
        return current
    if current is not None:
        raise ValidationError(
            _("%(no)s is looked after by %(name)s: request a transfer instead.")
            % {"no": customer.customer_no, "name": current.manager.get_full_name()}
        )
    # the new manager's first day is today: a split left running ends yesterday
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    splits_end_with_primary(customer_ids=[customer.pk], last_day=yesterday, by=by, reason=reason)
    with figures_follow([customer.pk]):
        assignment = assignment_set_primary(customer=customer, manager=manager, by=by, reason=reason)
    if manager.pk != by.pk:
        remind(user=manager, customer=customer, kind=events.CUSTOMER_ASSIGNED, figures={"by": by.employee_no})
    return assignment


# --- back to the pool --------------------------------------------------------------------------


def _cancel_pending(customer_ids: QuerySet | list[int], *, by: User, note: str) -> int:
    return TransferRequest.objects.filter(customer_id__in=customer_ids, status=TransferStatus.PENDING).update(
        status=TransferStatus.CANCELLED, decided_by=by, decided_at=timezone.now(), decision_note=note[:200]
    )


@transaction.atomic
def customers_recall(*, customers: Iterable[Customer], by: User, reason: str) -> int:
    """Back to the branch pool: the customers' open primary assignments end today;
    transfers waiting for them are cancelled."""
    require_permission(by, "vip.recall_customer")
    reason = require_reason(reason)
    ids = sorted({c.pk for c in customers})
    visible = set(Customer.objects.visible_to(by).filter(pk__in=ids).values_list("pk", flat=True))
    if visible != set(ids):
        raise PermissionDenied(_("This customer is not in your scope."))
    _cancel_pending(ids, by=by, note=_("recalled to the pool"))
    with figures_follow(ids):
        recalled = assignment_end_primary(customer_ids=ids, by=by, reason=reason)
    # the manager of record's last day is today: so is their split's
    splits_end_with_primary(customer_ids=recalled, last_day=timezone.localdate(), by=by, reason=reason)
    return len(recalled)


@dataclass(frozen=True)
class RecallResult:
    recalled: int
    outside_scope: int
    shares_revoked: int
    transfers_cancelled: int


def _revoke_shares_with(manager: User, *, by: User, reason: str) -> int:
    """End every share with the manager (one audit event per customer); how many."""
    revoked = 0
    grants = CustomerUserObjectPermission.objects.filter(user=manager).select_related("content_object")
    for grant in grants:
        revoked += 1
        audit(
            Action.GRANT_CHANGED,
            actor=by,
            target=grant.content_object,
            details={"revoked_from": manager.employee_no, "reason": reason},
        )
    grants.delete()
    return revoked


@transaction.atomic
def manager_book_recall(*, manager: User, by: User, reason: str) -> RecallResult:
    """A manager leaves: every customer they look after (within the recalling user's
    scope) goes back to the pool in one action; the customers shared with them, the
    splits in which they assist and the transfers waiting to go to them end too."""
    require_permission(by, "vip.recall_customer")
    reason = require_reason(reason)
    if not visible_branches(by).filter(pk=manager.branch_id).exists():
        raise PermissionDenied(_("This manager works outside your branches."))
    book = Customer.objects.filter(primary_manager=manager)
    ids = list(book.filter(pk__in=Customer.objects.visible_to(by).values("pk")).values_list("pk", flat=True))
    outside = book.exclude(pk__in=ids).count()
    cancelled = _cancel_pending(ids, by=by, note=_("recalled to the pool"))
    cancelled += TransferRequest.objects.filter(to_manager=manager, status=TransferStatus.PENDING).update(
        status=TransferStatus.CANCELLED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_note=_("the manager's book was recalled"),
    )
    with figures_follow(ids):
        recalled = assignment_end_primary(customer_ids=ids, by=by, reason=reason)
    splits_end_with_primary(customer_ids=recalled, last_day=timezone.localdate(), by=by, reason=reason)
    splits_end_of_assisting(manager=manager, last_day=timezone.localdate(), by=by, reason=reason)
    revoked = _revoke_shares_with(manager, by=by, reason=reason)
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=manager,
        details={"book_recalled": len(recalled), "outside_scope": outside, "reason": reason},
    )
    return RecallResult(len(recalled), outside, revoked, cancelled)

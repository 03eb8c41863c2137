"""Temporary sharing: another client manager may see a customer for a time, through
a django-guardian object grant with an expiry (the data scope stops honouring it
then; the daily job deletes it)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from accounts.scope import ScopeKind, data_scope
from customers.models import Customer, CustomerUserObjectPermission
from customers.permissions import require_in_scope
from customers.services import ensure_not_merged

from .. import events
from ..models import TierPolicy
from ._common import check_manager, require_permission, require_reason
from .reminders import remind


def running_shares(customer: Customer, *, now: datetime.datetime | None = None):
    """The customer's grants that still count (no expiry, or one still to come)."""
    now = now or timezone.now()
    return CustomerUserObjectPermission.objects.filter(content_object=customer).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def share_excluded_user_ids(customer: Customer) -> set[int]:
    """Who a customer cannot be shared with: the manager of record, who already
    looks after them, and whoever they are shared with now (the share form leaves
    them out; `customer_share` refuses them)."""
    excluded = set(running_shares(customer).values_list("user_id", flat=True))
    if customer.primary_manager_id:
        excluded.add(customer.primary_manager_id)
    return excluded


@transaction.atomic
def customer_share(
    *, customer: Customer, with_user: User, by: User, until: datetime.datetime, reason: str
) -> CustomerUserObjectPermission:
    """Let another client manager see a customer until `until` (a django-guardian
    object grant with an expiry; the data scope stops honouring it then)."""
    from guardian.shortcuts import assign_perm

    require_permission(by, "vip.share_customer")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    if data_scope(by).kind is ScopeKind.OWN and customer.primary_manager_id != by.pk:
        raise PermissionDenied(_("Only the customer's manager of record can share them."))
    check_manager(with_user)
    if with_user.pk == customer.primary_manager_id:
        raise ValidationError(
            {
                "with_user": _("%(manager)s is the customer's manager of record already.")
                % {"manager": with_user.get_full_name()}
            }
        )
    now = timezone.now()
    if running_shares(customer, now=now).filter(user=with_user).exists():
        raise ValidationError(
            {
                "with_user": _(
                    "%(name)s is already shared with %(manager)s; end that share before sharing again."
                )
                % {"name": customer.name, "manager": with_user.get_full_name()}
            }
        )
    policy = TierPolicy.current()
    if until <= now:
        raise ValidationError({"until": _("The share must end in the future.")})
    if until > now + datetime.timedelta(days=policy.share_max_days):
        raise ValidationError(
            {"until": _("A share lasts at most %(n)s days.") % {"n": policy.share_max_days}}
        )
    grant = assign_perm("customers.view_customer", with_user, customer)
    assert isinstance(grant, CustomerUserObjectPermission)  # a user's grant on a customer
    grant.expires_at = until
    grant.save(update_fields=["expires_at"])
    audit(
        Action.GRANT_CHANGED,
        actor=by,
        target=customer,
        details={"shared_with": with_user.employee_no, "until": until.isoformat(), "reason": reason},
    )
    remind(user=with_user, customer=customer, kind=events.CUSTOMER_SHARED, figures={"by": by.employee_no})
    return grant


@transaction.atomic
def customer_share_revoke(*, grant: CustomerUserObjectPermission, by: User, reason: str = "") -> None:
    require_permission(by, "vip.share_customer")
    customer = grant.content_object
    require_in_scope(by, customer)
    if data_scope(by).kind is ScopeKind.OWN and customer.primary_manager_id != by.pk:
        raise PermissionDenied(_("Only the customer's manager of record can end a share."))
    audit(
        Action.GRANT_CHANGED,
        actor=by,
        target=customer,
        details={"revoked_from": grant.user.employee_no, "reason": (reason or "")[:200]},
    )
    CustomerUserObjectPermission.objects.filter(pk=grant.pk).delete()


@transaction.atomic
def shares_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the grants whose time is up (they already stopped counting): one
    statement, one audit event."""
    now = now or timezone.now()
    expired = CustomerUserObjectPermission.objects.filter(expires_at__isnull=False, expires_at__lte=now)
    count = expired.count()
    if count:
        expired.delete()
        audit(Action.GRANT_CHANGED, actor_username="vip.expire_shares", details={"expired": count})
    return count

"""A customer's VIP status: registration as a VIP (with the benefits granted) and
its liquidation, and VIPs to be won (prospects): a person not yet a customer, or a
customer with assets elsewhere, who shows as "to be won" until the prospect is
closed."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import Branch, User
from accounts.scope import ScopeKind, data_scope
from customers.idnumbers import validate_mobile
from customers.models import Customer
from customers.permissions import require_in_scope
from customers.services import ensure_not_merged

from ..choices import ProspectSource, ProspectStatus, VipStatus
from ..evaluation import lock_against_evaluation
from ..models import VipProspect, VipStatusChange
from ._common import lock_customer, require_permission, require_reason
from .figures import figures_follow


def _set_vip_status(
    *, customer: Customer, to_status: str, by: User | None, reason: str = "", benefits: str = "", on=None
) -> VipStatusChange:
    with figures_follow([customer.pk]):  # the report's registered VIPs, won and lost
        change = VipStatusChange.objects.create(
            customer=customer,
            from_status=customer.vip_status,
            to_status=to_status,
            effective_date=on or timezone.localdate(),
            changed_by=by,
            tier=customer.tier,
            reason=reason[:200],
            benefits=benefits[:200],
        )
        Customer.objects.filter(pk=customer.pk).update(vip_status=to_status)
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={"vip_status": {"from": customer.vip_status, "to": to_status}, "reason": reason[:200]},
    )
    customer.vip_status = to_status
    return change


@transaction.atomic
def vip_register(
    *,
    customer: Customer,
    by: User,
    benefits: str,
    registered_on: datetime.date | None = None,
    reason: str = "",
) -> VipStatusChange:
    """Register a customer as a VIP (with the benefits granted and the date). A VIP
    holds a tier, by rule or by override."""
    require_permission(by, "vip.register_vip")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    benefits = (benefits or "").strip()
    if not benefits:
        raise ValidationError({"benefits": _("Say which benefits the VIP receives.")})
    registered_on = registered_on or timezone.localdate()
    if registered_on > timezone.localdate():
        raise ValidationError({"registered_on": _("A registration cannot be dated in the future.")})
    lock_against_evaluation()
    customer = lock_customer(customer)
    if customer.vip_status == VipStatus.REGISTERED:
        raise ValidationError(_("This customer is already a registered VIP."))
    if not customer.tier:
        raise ValidationError(
            _("This customer holds no tier: a VIP must meet a tier level (or have an override).")
        )
    return _set_vip_status(
        customer=customer,
        to_status=VipStatus.REGISTERED,
        by=by,
        reason=reason,
        benefits=benefits,
        on=registered_on,
    )


@transaction.atomic
def vip_liquidate(
    *, customer: Customer, by: User, reason: str, liquidated_on: datetime.date | None = None
) -> VipStatusChange:
    """End a customer's VIP registration (销户), with a reason."""
    require_permission(by, "vip.register_vip")
    require_in_scope(by, customer)
    reason = require_reason(reason)
    liquidated_on = liquidated_on or timezone.localdate()
    if liquidated_on > timezone.localdate():
        raise ValidationError({"liquidated_on": _("A liquidation cannot be dated in the future.")})
    lock_against_evaluation()
    customer = lock_customer(customer)
    if customer.vip_status != VipStatus.REGISTERED:
        raise ValidationError(_("Only a registered VIP can be liquidated."))
    return _set_vip_status(
        customer=customer, to_status=VipStatus.LIQUIDATED, by=by, reason=reason, on=liquidated_on
    )


# --- prospects (VIPs to be won) ------------------------------------------------------------


def _check_prospect(
    *, name: str, source: str, estimated_assets: Decimal | None, customer: Customer | None
) -> None:
    """A prospect names a person (or a customer), a known source and assets above zero."""
    if not name and customer is None:
        raise ValidationError({"name": _("Enter the person's name.")})
    if source not in ProspectSource.values:
        raise ValidationError({"source": _("Choose a source.")})
    if estimated_assets is None or estimated_assets <= 0:
        raise ValidationError({"estimated_assets": _("Estimate the assets (above zero).")})


def _mark_to_be_won(customer: Customer, *, by: User, source: str) -> None:
    """A customer named by a prospect shows as "to be won", unless they are a VIP
    (registered) or already to be won."""
    lock_against_evaluation()
    customer = lock_customer(customer)
    if customer.vip_status in (VipStatus.NONE, VipStatus.POTENTIAL, VipStatus.LIQUIDATED):
        _set_vip_status(customer=customer, to_status=VipStatus.TO_BE_WON, by=by, reason=source)


@transaction.atomic
def prospect_create(
    *,
    by: User,
    name: str,
    source: str,
    estimated_assets: Decimal,
    mobile: str = "",
    held_at: str = "",
    note: str = "",
    customer: Customer | None = None,
) -> VipProspect:
    """Register a VIP to be won: a person not yet a customer, or a customer with
    assets elsewhere (who then shows as "to be won")."""
    require_permission(by, "vip.add_vipprospect")
    name = (name or "").strip()
    _check_prospect(name=name, source=source, estimated_assets=estimated_assets, customer=customer)
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from exc
    branch: Branch | None = by.branch
    if customer is not None:
        require_in_scope(by, customer)
        ensure_not_merged(customer)
        name = name or customer.name
        branch = customer.home_branch
    if branch is None:
        raise ValidationError(_("You belong to no branch: ask an administrator."))
    prospect = VipProspect(
        name=name[:60],
        customer=customer,
        source=source,
        estimated_assets=estimated_assets,
        held_at=held_at.strip()[:100],
        note=note.strip()[:200],
        manager=by,
        branch=branch,
    )
    prospect.mobile = mobile
    prospect.full_clean()
    prospect.save()
    if customer is not None:
        _mark_to_be_won(customer, by=by, source=source)
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=prospect,
        target_repr=f"VIP prospect {prospect.pk}",
        details={
            "prospect": "registered",
            "source": source,
            "customer": customer.customer_no if customer else None,
        },
    )
    return prospect


@transaction.atomic
def prospect_close(
    *, prospect: VipProspect, by: User, won: bool, note: str = "", customer: Customer | None = None
) -> VipProspect:
    """A prospect was won (now a customer: link them) or lost."""
    require_permission(by, "vip.change_vipprospect")
    prospect = VipProspect.objects.select_for_update().get(pk=prospect.pk)
    if prospect.manager_id != by.pk and data_scope(by).kind is ScopeKind.OWN:
        raise PermissionDenied(_("This is another manager's prospect."))
    if prospect.status != ProspectStatus.OPEN:
        raise ValidationError(_("This prospect is already closed."))
    if customer is not None:
        require_in_scope(by, customer)
        prospect.customer = customer
    if won and prospect.customer is None:
        raise ValidationError({"customer": _("Say which customer the prospect became.")})
    prospect.status = ProspectStatus.WON if won else ProspectStatus.LOST
    prospect.closed_at = timezone.now()
    prospect.note = (note or prospect.note).strip()[:200]
    prospect.save(update_fields=["status", "closed_at", "note", "customer"])
    if not won and prospect.customer is not None:
        lock_against_evaluation()
        linked = lock_customer(prospect.customer)
        if linked.vip_status == VipStatus.TO_BE_WON:
            _set_vip_status(customer=linked, to_status=VipStatus.NONE, by=by, reason="prospect lost")
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=prospect,
        target_repr=f"VIP prospect {prospect.pk}",
        details={"prospect": prospect.status},
    )
    return prospect

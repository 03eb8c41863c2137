"""Account-opening requests (开户预约), written: recording one, setting or moving its
appointment, cancelling it. Confirming one (an account core banking reports, matched
at night or by hand) is `marketing.sales`'s.

Rules of a new request, in the order they are checked:
- the user may add requests and the customer is in their scope;
- the product is on sale and the customer's risk assessment covers it (investor
  suitability: an expired or too low assessment refuses a wealth or fund product,
  with the reason);
- an opportunity or campaign target it comes from is the same customer's and the
  same product's (the target's campaign offers the product);
- the channel is in use; the branch is below head office, in use, and the
  customer's home branch or one of the user's scope (`openings.service_branches`);
- an appointment is not in the past;
- the customer has no other open request of the product.
The request is "appointed" when a time is given, else "requested".

Setting or moving the time and cancelling are for the requester, a branch head of
the request's branch (its subtree) or head office, while the request is open; a
cancellation needs a reason. Every write is audited in its transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import Branch, User
from accounts.scope import ScopeKind, data_scope
from customers.models import Customer
from customers.permissions import require_in_scope

from .. import openings, suitability
from ..choices import CampaignStatus, MarketingAction, OpeningStatus
from ..models import CampaignTarget, Channel, OpeningRequest, Opportunity, Product
from ._common import require


def _when(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else None


def _not_in_past(appointment_at: datetime.datetime | None) -> None:
    if appointment_at is not None and appointment_at < timezone.now():
        raise ValidationError({"appointment_at": _("The appointment cannot be in the past.")})


def _check_source(
    customer: Customer, product: Product, opportunity: Opportunity | None, target: CampaignTarget | None
) -> None:
    if opportunity is not None and (
        opportunity.customer_id != customer.pk or opportunity.product_id != product.pk
    ):
        raise ValidationError(
            _("The opportunity is for another customer or another product than this request.")
        )
    if target is not None:
        if target.customer_id != customer.pk:
            raise ValidationError(_("The campaign target is another customer."))
        if not target.campaign.products.filter(pk=product.pk).exists():
            raise ValidationError(
                {
                    "product": _("Campaign “%(campaign)s” does not offer %(product)s.")
                    % {"campaign": target.campaign.name, "product": product.name}
                }
            )


def _check_place(user: User, customer: Customer, channel: Channel, branch: Branch) -> None:
    if not channel.is_active:
        raise ValidationError(
            {"channel": _("Channel %(channel)s is not in use.") % {"channel": channel.name}}
        )
    if not openings.service_branches(user, customer).filter(pk=branch.pk).exists():
        raise ValidationError(
            {
                "branch": _(
                    "%(branch)s cannot take this request: choose the customer's home branch or a "
                    "branch of your own."
                )
                % {"branch": branch.name}
            }
        )


@transaction.atomic
def opening_request(
    *,
    user: User,
    customer: Customer,
    product: Product,
    channel: Channel,
    branch: Branch,
    appointment_at: datetime.datetime | None = None,
    expected_amount: Decimal | None = None,
    note: str = "",
    opportunity: Opportunity | None = None,
    target: CampaignTarget | None = None,
) -> OpeningRequest:
    """Record that the customer wants the product (see the module's rules)."""
    require(user, "marketing.add_openingrequest")
    # the customer's row is locked: two requests of one customer are made one after the other
    customer = require_in_scope(user, customer, lock=True)
    today = timezone.localdate()
    if not product.on_sale(today):
        raise ValidationError({"product": _("%(p)s is not on sale.") % {"p": product.name}})
    verdict = suitability.check(customer, product, on=today)
    if not verdict.allowed:
        raise ValidationError(verdict.message, code=verdict.reason)
    if target is not None:
        target = CampaignTarget.objects.select_related("campaign").get(pk=target.pk)
        if target.campaign.status != CampaignStatus.RUNNING:
            raise ValidationError(_("The campaign is not running: its targets cannot be worked."))
    _check_source(customer, product, opportunity, target)
    _check_place(user, customer, channel, branch)
    _not_in_past(appointment_at)
    existing = openings.open_request_of(customer, product)
    if existing is not None:
        raise ValidationError(
            _(
                "%(name)s already has an open request for %(product)s (no. %(pk)s, recorded %(day)s "
                "by %(manager)s at %(branch)s): change or cancel that one."
            )
            % {
                "name": customer.name,
                "product": product.name,
                "pk": existing.pk,
                "day": timezone.localtime(existing.created_at).date().isoformat(),
                "manager": existing.manager.display_name or existing.manager.username,
                "branch": existing.branch.name,
            },
            code="duplicate",
        )
    request = OpeningRequest(
        customer=customer,
        product=product,
        channel=channel,
        branch=branch,
        appointment_at=appointment_at,
        expected_amount=expected_amount,
        manager=user,
        opportunity=opportunity,
        target=target,
        status=OpeningStatus.APPOINTED if appointment_at else OpeningStatus.REQUESTED,
        note=note.strip()[:300],
    )
    request.full_clean()
    request.save()
    audit(
        MarketingAction.OPENING_REQUESTED,
        actor=user,
        target=request,
        details={
            "customer": customer.customer_no,
            "product": product.code,
            "channel": channel.code,
            "branch": branch.code,
            "appointment": _when(appointment_at),
            "expected_amount": str(expected_amount) if expected_amount is not None else None,
            "opportunity": opportunity.pk if opportunity else None,
            "target": target.pk if target else None,
        },
    )
    return request


def may_act_on(request: OpeningRequest, user: User) -> bool:
    """The requester, a branch head whose subtree holds the request's branch, or head
    office -- with the permission to change requests."""
    if not user.has_perm("marketing.change_openingrequest"):
        return False
    if request.manager_id == user.pk:
        return True
    scope = data_scope(user)
    if scope.sees_all:
        return True
    return (
        scope.kind is ScopeKind.SUBTREE
        and scope.branch is not None
        and request.branch.path.startswith(scope.branch.path)
    )


def _lock_open(request: OpeningRequest, user: User) -> OpeningRequest:
    require(user, "marketing.change_openingrequest")
    locked = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "product", "branch", "manager")
        .get(pk=request.pk)
    )
    require_in_scope(user, locked.customer)
    if not may_act_on(locked, user):
        raise PermissionDenied(
            _("Only the manager who made the request or a head of its branch may change it.")
        )
    if not locked.is_open:
        raise ValidationError(
            _("This request is %(status)s: it can no longer be changed.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


@transaction.atomic
def opening_appoint(
    request: OpeningRequest, *, user: User, appointment_at: datetime.datetime
) -> OpeningRequest:
    """Set or move the appointment of an open request; nothing is written when the
    time does not change."""
    request = _lock_open(request, user)
    _not_in_past(appointment_at)
    before = request.appointment_at
    if before == appointment_at:
        return request
    request.appointment_at = appointment_at
    request.status = OpeningStatus.APPOINTED
    request.save(update_fields=["appointment_at", "status"])
    audit(
        MarketingAction.OPENING_APPOINTED,
        actor=user,
        target=request,
        details={"from": _when(before), "to": _when(appointment_at)},
    )
    return request


@transaction.atomic
def opening_cancel(request: OpeningRequest, *, user: User, reason: str) -> OpeningRequest:
    """Cancel an open request, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the request is cancelled.")})
    request = _lock_open(request, user)
    before = request.status
    request.status = OpeningStatus.CANCELLED
    request.cancelled_by = user
    request.cancelled_at = timezone.now()
    request.cancel_reason = reason[:200]
    request.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    audit(
        MarketingAction.OPENING_CANCELLED,
        actor=user,
        target=request,
        details={"from": before, "reason": request.cancel_reason},
    )
    return request

"""Opportunities and the sales that win them. An opportunity comes from a campaign
target or from the manager's own lead; it moves through its open stages and is
lost, or won with a sale of its product."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import User
from accounts.scope import data_scope
from customers.models import Customer
from customers.permissions import require_in_scope

from .. import suitability
from ..choices import (
    OPEN_STAGES,
    OPEN_TARGET_STATUSES,
    CampaignStatus,
    MarketingAction,
    OpportunityStage,
    SaleSource,
    TargetStatus,
)
from ..models import CampaignTarget, Opportunity, Product, Sale
from ._common import require


def _explain_unsuitable(customer: Customer, product: Product, on: datetime.date) -> None:
    verdict = suitability.check(customer, product, on=on)
    if not verdict.allowed:
        raise ValidationError(verdict.message, code=verdict.reason)


def _workable_target(target: CampaignTarget, product: Product) -> CampaignTarget:
    """The target, refused when it cannot be worked now or its campaign does not
    offer the product."""
    target = CampaignTarget.objects.select_related("campaign").get(pk=target.pk)
    campaign = target.campaign
    if target.excluded_reason:
        raise ValidationError(_("This customer is excluded from the campaign."))
    if campaign.status != CampaignStatus.RUNNING:
        raise ValidationError(_("The campaign is not running: its targets cannot be worked."))
    if not campaign.products.filter(pk=product.pk).exists():
        raise ValidationError({"product": _("The campaign does not offer this product.")})
    return target


@transaction.atomic
def opportunity_create(
    *,
    user: User,
    product: Product,
    expected_amount: Decimal,
    expected_close_date: datetime.date,
    customer: Customer | None = None,
    target: CampaignTarget | None = None,
    notes: str = "",
) -> Opportunity:
    """An opportunity from an interested campaign target or the manager's own lead.
    Refused, with the reason, when the product may not be recommended to the
    customer (investor suitability) or is not on sale."""
    require(user, "marketing.add_opportunity")
    campaign = None
    if target is not None:
        target = _workable_target(target, product)
        customer, campaign = target.customer, target.campaign
    if customer is None:
        raise ValueError("a target or a customer is needed")
    customer = require_in_scope(user, customer, lock=True)
    today = timezone.localdate()
    if not product.on_sale(today):
        raise ValidationError({"product": _("%(p)s is not on sale.") % {"p": product.name}})
    _explain_unsuitable(customer, product, today)
    opportunity = Opportunity(
        customer=customer,
        manager=user,
        product=product,
        campaign=campaign,
        target=target,
        expected_amount=expected_amount,
        expected_close_date=expected_close_date,
        notes=notes.strip()[:500],
    )
    opportunity.full_clean()
    opportunity.save()
    if target is not None and target.status in OPEN_TARGET_STATUSES:
        CampaignTarget.objects.filter(pk=target.pk).update(status=TargetStatus.INTERESTED)
    audit(
        MarketingAction.OPPORTUNITY_CREATED,
        actor=user,
        target=opportunity,
        details={
            "customer": customer.customer_no,
            "product": product.code,
            "campaign": campaign.pk if campaign else None,
            "expected_amount": str(expected_amount),
        },
    )
    return opportunity


def _lock_own_opportunity(opportunity: Opportunity, user: User) -> Opportunity:
    require(user, "marketing.change_opportunity")
    locked = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("product", "customer")
        .get(pk=opportunity.pk)
    )
    if locked.manager_id != user.pk and not data_scope(user).sees_all:
        raise PermissionDenied(_("Only the opportunity's owner may change it."))
    if locked.stage not in OPEN_STAGES:
        raise ValidationError(_("This opportunity is closed."))
    return locked


@transaction.atomic
def opportunity_advance(*, opportunity: Opportunity, user: User, stage: str) -> Opportunity:
    if stage not in (*OPEN_STAGES, OpportunityStage.LOST):
        raise ValidationError({"stage": _("Use 'won' with the sale amount to win an opportunity.")})
    opportunity = _lock_own_opportunity(opportunity, user)
    before = opportunity.stage
    opportunity.stage = stage
    if stage == OpportunityStage.LOST:
        opportunity.closed_at = timezone.now()
    opportunity.save(update_fields=["stage", "closed_at"])
    audit(
        MarketingAction.OPPORTUNITY_ADVANCED,
        actor=user,
        target=opportunity,
        details={"from": before, "to": stage},
    )
    return opportunity


def _record_sale(opportunity: Opportunity, amount: Decimal, sale_date: datetime.date) -> Sale:
    """The won opportunity's sale, attributed to the customer's manager of record on
    the sale date and linked to the opportunity's campaign and target."""
    from ..sales import attribute_sales

    sale = Sale(
        customer=opportunity.customer,
        product=opportunity.product,
        product_code=opportunity.product.code,
        category=opportunity.product.category,
        amount=amount,
        sale_date=sale_date,
        branch=opportunity.customer.home_branch,
        source=SaleSource.OPPORTUNITY,
        opportunity=opportunity,
        campaign=opportunity.campaign,
        target=opportunity.target,
    )
    sale.full_clean()
    sale.save()
    attribute_sales(Sale.objects.filter(pk=sale.pk))
    sale.refresh_from_db()
    return sale


@transaction.atomic
def opportunity_win(
    *, opportunity: Opportunity, user: User, amount: Decimal, sale_date: datetime.date | None = None
) -> Sale:
    """Win an opportunity: a sale of its product, attributed to the customer's
    manager of record on the sale date and linked to its campaign. It counts as
    confirmed once core banking reports the account (`sales.sales_from_new_accounts`)."""
    opportunity = _lock_own_opportunity(opportunity, user)
    sale_date = sale_date or timezone.localdate()
    if sale_date > timezone.localdate():
        raise ValidationError({"sale_date": _("A sale cannot be dated in the future.")})
    product = opportunity.product
    _explain_unsuitable(opportunity.customer, product, sale_date)
    if amount < product.min_amount:
        raise ValidationError(
            {
                "amount": _("The minimum amount of %(p)s is %(min)s.")
                % {"p": product.name, "min": product.min_amount}
            }
        )
    opportunity.stage = OpportunityStage.WON
    opportunity.closed_at = timezone.now()
    opportunity.save(update_fields=["stage", "closed_at"])
    sale = _record_sale(opportunity, amount, sale_date)
    if opportunity.target_id:
        CampaignTarget.objects.filter(pk=opportunity.target_id).update(status=TargetStatus.CONVERTED)
    audit(
        MarketingAction.OPPORTUNITY_WON,
        actor=user,
        target=opportunity,
        details={"sale": sale.pk, "amount": str(amount), "product": product.code},
    )
    return sale

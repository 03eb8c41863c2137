"""A customer's tier by hand: a business manager's override, which applies at once
and lasts until its expiry (the nightly evaluation keeps it till then), and its
early end, after which the rules decide the tier again at once."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from core.months import month_back
from customers.models import Customer, CustomerMonthlyAum
from customers.permissions import require_in_scope
from customers.services import ensure_not_merged

from .. import events
from ..choices import OverrideEnd, TierChangeSource
from ..evaluation import current_rules, evaluate_customer, latest_business_date, lock_against_evaluation
from ..models import TierChange, TierLevel, TierOverride, TierPolicy
from ._common import lock_customer, require_permission, require_reason
from .figures import figures_follow
from .reminders import remind


def _record_tier_change(
    *, customer: Customer, to_tier: str, source: str, by: User | None, reason: str
) -> TierChange | None:
    """Write the customer's new tier and its history row (the customer row is locked
    by the caller); remind the manager of record."""
    if customer.tier == to_tier:
        return None
    with figures_follow([customer.pk]):  # the books' tiers and this month's tier figures
        change = TierChange.objects.create(
            customer=customer,
            from_tier=customer.tier,
            to_tier=to_tier,
            effective_date=timezone.localdate(),
            source=source,
            changed_by=by,
            reason=reason[:200],
        )
        Customer.objects.filter(pk=customer.pk).update(tier=to_tier)
    if customer.primary_manager_id and customer.primary_manager_id != getattr(by, "pk", None):
        remind(
            user=customer.primary_manager,
            customer=customer,
            kind=events.TIER_CHANGE,
            figures={"from": customer.tier, "to": to_tier},
        )
    audit(
        Action.TIER_CHANGED,
        actor=by,
        target=customer,
        details={"from": customer.tier, "to": to_tier, "source": source, "reason": reason[:200]},
    )
    customer.tier = to_tier
    return change


def _check_expiry(expires_on: datetime.date, *, today: datetime.date) -> None:
    """An override ends after today, and within the policy's longest override."""
    policy = TierPolicy.current()
    if expires_on <= today:
        raise ValidationError({"expires_on": _("The expiry must be after today.")})
    if expires_on > today + datetime.timedelta(days=policy.override_max_days):
        raise ValidationError(
            {"expires_on": _("An override lasts at most %(n)s days.") % {"n": policy.override_max_days}}
        )


@transaction.atomic
def tier_override_set(
    *, customer: Customer, tier: str, reason: str, expires_on: datetime.date, by: User
) -> TierOverride:
    """A business manager sets a customer's tier by hand, with a reason and an expiry
    (exclusive). It applies at once; the nightly evaluation keeps it until it
    expires, then the rules take over."""
    require_permission(by, "vip.add_tieroverride")
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    if tier and not TierLevel.objects.filter(code=tier, is_active=True).exists():
        raise ValidationError({"tier": _("Choose an active tier level.")})
    today = timezone.localdate()
    _check_expiry(expires_on, today=today)
    lock_against_evaluation()
    customer = lock_customer(customer)
    TierOverride.objects.filter(customer=customer, ended_on__isnull=True).update(
        ended_on=today, end_reason=OverrideEnd.REPLACED, ended_by=by
    )
    override = TierOverride.objects.create(
        customer=customer,
        tier=tier,
        previous_tier=customer.tier,
        reason=reason,
        starts_on=today,
        expires_on=expires_on,
        created_by=by,
    )
    if customer.tier != tier:
        _record_tier_change(
            customer=customer, to_tier=tier, source=TierChangeSource.OVERRIDE, by=by, reason=reason
        )
    else:
        audit(
            Action.TIER_CHANGED,
            actor=by,
            target=customer,
            details={
                "from": tier,
                "to": tier,
                "source": "override",
                "reason": reason,
                "expires_on": str(expires_on),
            },
        )
    return override


def rule_decision(customer: Customer, *, as_of: datetime.date | None = None):
    """What the rules say for this one customer now (the nightly rule, in Python)."""
    rules = current_rules()
    reference = (as_of or latest_business_date()).replace(day=1)
    span = max(rules.observation + rules.window - 1, 2 * rules.window)
    months = {
        row.month: int((row.avg_aum * 100).to_integral_value())
        for row in CustomerMonthlyAum.objects.filter(
            customer=customer, month__gte=month_back(reference, span - 1), month__lte=reference
        )
    }
    return evaluate_customer(
        rules=rules,
        tier=customer.tier,
        vip_status=customer.vip_status,
        month_cents=months,
        reference_month=reference,
        override_expired=True,
    )


@transaction.atomic
def tier_override_end(*, override: TierOverride, by: User, reason: str) -> TierOverride:
    """End a running override now: the rules decide the tier again at once."""
    require_permission(by, "vip.add_tieroverride")
    require_in_scope(by, override.customer)
    reason = require_reason(reason)
    lock_against_evaluation()
    customer = lock_customer(override.customer)
    override = TierOverride.objects.select_for_update().get(pk=override.pk)
    if override.ended_on is not None:
        return override
    override.ended_on = timezone.localdate()
    override.end_reason = OverrideEnd.REVOKED
    override.ended_by = by
    override.save(update_fields=["ended_on", "end_reason", "ended_by"])
    decision = rule_decision(customer)
    if decision.tier != customer.tier:
        _record_tier_change(
            customer=customer,
            to_tier=decision.tier,
            source=TierChangeSource.OVERRIDE_END,
            by=by,
            reason=reason,
        )
    else:
        audit(
            Action.TIER_CHANGED,
            actor=by,
            target=customer,
            details={"override_ended": override.pk, "reason": reason},
        )
    return override

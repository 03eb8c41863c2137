"""Marketing contacts under the contact-frequency policy, and the policy's own
maker-checker flow."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide
from accounts.audit import Action, audit
from accounts.models import User
from customers.choices import MarketingChannel
from customers.models import Customer
from customers.permissions import require_in_scope
from customers.services import customer_update, interaction_log

from .. import policy
from ..channels import channel_for_contact
from ..choices import CampaignStatus, ContactOutcome, MarketingAction, PolicyStatus, TargetStatus
from ..models import Campaign, CampaignTarget, ContactPolicy, MarketingContact
from ._common import require

OUTCOME_STATUS: dict[str, TargetStatus] = {
    ContactOutcome.NOT_REACHED: TargetStatus.NOT_REACHED,
    ContactOutcome.INTERESTED: TargetStatus.INTERESTED,
    ContactOutcome.DECLINED: TargetStatus.DECLINED,
    ContactOutcome.CONVERTED: TargetStatus.CONVERTED,
    ContactOutcome.DO_NOT_CONTACT: TargetStatus.DO_NOT_CONTACT,
}


def _lock_workable_target(target: CampaignTarget, channel: str) -> CampaignTarget:
    """Lock the target and refuse one that cannot be worked now, or by this channel."""
    target = (
        CampaignTarget.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=target.pk)
    )
    campaign = target.campaign
    if campaign.status != CampaignStatus.RUNNING:
        raise ValidationError(_("The campaign is not running: its targets cannot be worked."))
    if target.excluded_reason:
        raise ValidationError(
            _("This customer is excluded from the campaign: %(r)s.")
            % {"r": target.get_excluded_reason_display()}
        )
    if target.status in (TargetStatus.DO_NOT_CONTACT,):
        raise ValidationError(_("The customer asked not to be contacted."))
    if channel not in campaign.channels:
        raise ValidationError({"channel": _("This campaign does not use that channel.")})
    return target


def _check_policy(customer: Customer, channel: str, occurred_at: datetime.datetime) -> None:
    """Refuse (policy.ContactRefused) a contact the policy in force forbids, given
    the customer's other contacts within its window either side."""
    rules = policy.current_policy()
    window = datetime.timedelta(days=rules.window_days)
    nearby = list(
        MarketingContact.objects.filter(
            customer=customer, occurred_at__gt=occurred_at - window, occurred_at__lt=occurred_at + window
        ).values_list("occurred_at", flat=True)
    )
    policy.check_contact(
        customer=customer, channel=channel, at=occurred_at, earlier_contacts=nearby, policy=rules
    )


def _subject(campaign: Campaign | None, outcome: str) -> str:
    """The line the contact shows under in the customer's interaction history."""
    label = ContactOutcome(outcome).label
    if campaign:
        return _("Campaign %(name)s: %(outcome)s") % {"name": campaign.name, "outcome": label}
    return _("Marketing contact: %(outcome)s") % {"outcome": label}


def _record_on_target(target: CampaignTarget, outcome: str, occurred_at: datetime.datetime) -> None:
    """The target now stands where its latest contact left it."""
    target.contact_count += 1
    target.last_contacted_at = max(filter(None, [target.last_contacted_at, occurred_at]))
    target.status = OUTCOME_STATUS[outcome]
    target.save(update_fields=["contact_count", "last_contacted_at", "status"])


@transaction.atomic
def contact_log(
    *,
    user: User,
    channel: str,
    outcome: str,
    target: CampaignTarget | None = None,
    customer: Customer | None = None,
    occurred_at: datetime.datetime | None = None,
    notes: str = "",
) -> MarketingContact:
    """Record a marketing contact with a campaign target (or, without a target, with
    a customer of the manager's own leads) through `channel`, a channel's code (for
    a target, one of its campaign's). The contact is kept as going through that
    channel (`via`) and reaching the customer by its contact channel (`channel`:
    the consent, frequency cap and quiet hours that apply); a channel that reaches
    nobody (mobile banking) is refused. Refused with the reason
    (policy.ContactRefused) when the contact-frequency policy forbids it. A
    do-not-contact outcome opts the customer out of every marketing channel."""
    require(user, "marketing.add_marketingcontact")
    if outcome not in ContactOutcome.values:
        raise ValidationError({"outcome": _("Unknown outcome.")})
    occurred_at = occurred_at or timezone.now()
    campaign = None
    if target is not None:
        target = _lock_workable_target(target, channel)
        campaign, customer = target.campaign, target.customer
    via = channel_for_contact(channel)
    channel = via.contact_channel
    if customer is None:
        raise ValueError("a target or a customer is needed")
    # The customer row lock serialises contacts with one customer, so two managers
    # cannot both take the last contact the policy allows.
    customer = require_in_scope(user, customer, lock=True)
    _check_policy(customer, channel, occurred_at)
    interaction = interaction_log(
        customer=customer,
        kind=channel,
        subject=_subject(campaign, outcome)[:200],
        notes=notes,
        logged_by=user,
        occurred_at=occurred_at,
    )
    contact = MarketingContact(
        customer=customer,
        campaign=campaign,
        target=target,
        channel=channel,
        via=via,
        occurred_at=occurred_at,
        outcome=outcome,
        notes=notes.strip()[:500],
        manager=user,
        interaction=interaction,
    )
    contact.full_clean()
    contact.save()
    if target is not None:
        _record_on_target(target, outcome, occurred_at)
    if outcome == ContactOutcome.DO_NOT_CONTACT:
        customer_update(
            customer=customer, updated_by=user, **{f"consent_{c}": False for c in MarketingChannel.values}
        )
    audit(
        MarketingAction.CONTACT_LOGGED,
        actor=user,
        target=contact,
        details={
            "customer": customer.customer_no,
            "campaign": campaign.pk if campaign else None,
            "channel": channel,
            "via": via.code,
            "outcome": outcome,
        },
    )
    return contact


# --- the contact policy (maker-checker) ----------------------------------------------------


def _bring_into_force(row: ContactPolicy, by: User) -> dict[str, Any]:
    """The effect of an approval: the policy in force retires, this one replaces it."""
    before = ContactPolicy.objects.select_for_update().filter(status=PolicyStatus.ACTIVE).first()
    if before is not None:
        before.status = PolicyStatus.RETIRED
        before.save(update_fields=["status"])
    return {"replaced": before.pk if before else None}


def _policy_details(row: ContactPolicy, decision: str) -> dict[str, Any]:
    return {
        "parameter": "contact_policy",
        "max_contacts": row.max_contacts,
        "window_days": row.window_days,
        "quiet_hours": f"{row.quiet_start:%H:%M}-{row.quiet_end:%H:%M}",
        "quiet_channels": row.quiet_channels,
    }


POLICY_FLOW: ApprovalFlow[ContactPolicy] = ApprovalFlow(
    model=ContactPolicy,
    item=gettext_lazy("contact-frequency policy"),
    permission="marketing.approve_contactpolicy",
    action=Action.PARAMETER_CHANGED,
    on_approve=_bring_into_force,
    details=_policy_details,
)


def policy_approve(
    *, policy_row: ContactPolicy, user: User, approve: bool = True, note: str = ""
) -> ContactPolicy:
    """Bring a proposed policy into force (the one in force retires), or reject it
    (with the reason in `note`). The proposer cannot decide on their own proposal."""
    return decide(POLICY_FLOW, policy_row, by=user, approve=approve, note=note)

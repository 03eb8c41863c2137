"""A campaign's flow: draft → submitted → approved (another business manager
decides) or rejected (back to draft to revise) → running (its segment frozen into
the target list) → closed → evaluated. Each step locks the campaign and refuses a
skipped one."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide
from accounts.audit import audit
from accounts.models import User
from core.approvals import ApprovalStatus

from .. import suitability
from ..channels import contact_channels
from ..choices import CampaignStatus, MarketingAction, TargetStatus
from ..models import Campaign, CampaignTarget, Product, Segment
from ..segments import segment_customers
from ._common import require

EDITABLE_CAMPAIGN_FIELDS = (
    "name",
    "objective",
    "description",
    "segment",
    "channels",
    "budget",
    "start_date",
    "end_date",
)


@transaction.atomic
def campaign_create(*, user: User, products: Iterable[Product] = (), **fields: Any) -> Campaign:
    require(user, "marketing.add_campaign")
    unknown = set(fields) - set(EDITABLE_CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"not campaign fields: {sorted(unknown)}")
    campaign = Campaign(created_by=user, **fields)
    campaign.full_clean()
    campaign.save()
    campaign.products.set(list(products))
    audit(MarketingAction.CAMPAIGN_CREATED, actor=user, target=campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, user: User, products: Iterable[Product] | None = None, **changes: Any
) -> Campaign:
    require(user, "marketing.change_campaign")
    unknown = set(changes) - set(EDITABLE_CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(
            _("Only a draft campaign can be changed (this one is %(s)s).")
            % {"s": str(campaign.get_status_display())}
        )
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save()
    if products is not None:
        campaign.products.set(list(products))
    audit(MarketingAction.CAMPAIGN_UPDATED, actor=user, target=campaign, details={"fields": sorted(changes)})
    return campaign


def _lock_in_status(campaign: Campaign, allowed: Sequence[str], verb: str) -> Campaign:
    """Lock the campaign and refuse a skipped step: `verb` names what was asked."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in allowed:
        labels = ", ".join(str(CampaignStatus(s).label) for s in allowed)
        raise ValidationError(
            _("A campaign can be %(verb)s only when it is %(allowed)s; this one is %(s)s.")
            % {"verb": verb, "allowed": labels, "s": locked.get_status_display()},
            code="wrong_status",
        )
    return locked


def _submission_errors(campaign: Campaign) -> list[str]:
    """What a draft still lacks before it can go for approval."""
    errors = []
    if campaign.segment_id is None:
        errors.append(_("Choose a segment."))
    if not campaign.channels:
        errors.append(_("Choose at least one channel."))
    products = list(campaign.products.all())
    if not products:
        errors.append(_("Choose at least one product."))
    for product in products:
        if not (product.on_sale(campaign.start_date) or product.on_sale(campaign.end_date)):
            errors.append(_("%(p)s is not on sale during the campaign.") % {"p": product.name})
    return errors


@transaction.atomic
def campaign_submit(*, campaign: Campaign, user: User) -> Campaign:
    require(user, "marketing.change_campaign")
    campaign = _lock_in_status(campaign, [CampaignStatus.DRAFT], _("submitted"))
    errors = _submission_errors(campaign)
    if errors:
        raise ValidationError(errors)
    campaign.status = CampaignStatus.SUBMITTED
    campaign.proposed_by, campaign.proposed_at = user, timezone.now()
    campaign.save(update_fields=["status", "proposed_by", "proposed_at"])
    audit(MarketingAction.CAMPAIGN_SUBMITTED, actor=user, target=campaign)
    return campaign


# Submitted → approved | rejected: another business manager decides; an approved
# campaign may start, which is a step of its own.
CAMPAIGN_FLOW: ApprovalFlow[Campaign] = ApprovalFlow(
    model=Campaign,
    item=gettext_lazy("campaign"),
    permission="marketing.approve_campaign",
    action={
        ApprovalStatus.APPROVED: MarketingAction.CAMPAIGN_APPROVED,
        ApprovalStatus.REJECTED: MarketingAction.CAMPAIGN_REJECTED,
    },
)


def campaign_approve(*, campaign: Campaign, user: User, comment: str = "") -> Campaign:
    return decide(CAMPAIGN_FLOW, campaign, by=user, approve=True, note=comment)


def campaign_reject(*, campaign: Campaign, user: User, comment: str) -> Campaign:
    return decide(CAMPAIGN_FLOW, campaign, by=user, approve=False, note=comment)


@transaction.atomic
def campaign_revise(*, campaign: Campaign, user: User) -> Campaign:
    """A rejected campaign goes back to draft to be changed and submitted again."""
    require(user, "marketing.change_campaign")
    campaign = _lock_in_status(campaign, [CampaignStatus.REJECTED], _("reopened"))
    campaign.status = CampaignStatus.DRAFT
    campaign.save(update_fields=["status"])
    audit(MarketingAction.CAMPAIGN_REVISED, actor=user, target=campaign)
    return campaign


TARGET_INSERT_SQL = """
INSERT INTO marketing_campaigntarget
    (campaign_id, customer_id, manager_id, branch_id, excluded_reason, status, contact_count)
SELECT %s, members.id, members.primary_manager_id, members.home_branch_id, members.exclusion, %s, 0
  FROM ({members}) members
"""


def _refuse_outside_dates(campaign: Campaign, today: datetime.date) -> None:
    if today > campaign.end_date:
        raise ValidationError(
            _("Campaign “%(name)s” ended on %(date)s; it cannot start.")
            % {"name": campaign.name, "date": campaign.end_date.isoformat()},
            code="ended",
        )
    if today < campaign.start_date:
        raise ValidationError(
            _("Campaign “%(name)s” starts on %(date)s; it cannot start before that day.")
            % {"name": campaign.name, "date": campaign.start_date.isoformat()},
            code="not_started",
        )


def _freeze_targets(
    campaign: Campaign, segment: Segment, *, user: User, today: datetime.date
) -> dict[str, int]:
    """Insert the segment's members, evaluated in the starter's scope, as the
    campaign's targets (one INSERT ... SELECT), each with the reason it is
    excluded, if any; the included and excluded counts. Opted out of every way
    the campaign's channels contact customers excludes a member; a campaign whose
    channels contact nobody (the counter, mobile banking) excludes nobody for that."""
    rating = suitability.highest_rating(campaign.products.values_list("risk_rating", flat=True))
    reaching = contact_channels(campaign.channels)
    members = (
        segment_customers(segment.rules, user=user, today=today)
        .annotate(exclusion=suitability.exclusion_case(rating, on=today, channels=reaching))
        .values("id", "primary_manager_id", "home_branch_id", "exclusion")
        .order_by()
    )
    sql, params = members.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(TARGET_INSERT_SQL.format(members=sql), [campaign.pk, TargetStatus.PENDING, *params])
    return CampaignTarget.objects.filter(campaign=campaign).aggregate(
        included=Count("pk", filter=Q(excluded_reason="")),
        excluded=Count("pk", filter=~Q(excluded_reason="")),
    )


@transaction.atomic
def campaign_start(*, campaign: Campaign, user: User, today: datetime.date | None = None) -> Campaign:
    """Start an approved campaign: its segment, evaluated in the starter's scope, is
    frozen into the target list in one INSERT ... SELECT. Members the campaign may
    not offer its products to (investor suitability) or reach (opted out of every
    campaign channel) stay on the list as excluded, with the reason."""
    require(user, "marketing.run_campaign")
    today = today or timezone.localdate()
    campaign = _lock_in_status(campaign, [CampaignStatus.APPROVED], _("started"))
    _refuse_outside_dates(campaign, today)
    segment = campaign.segment
    assert segment is not None  # a campaign is submitted, so approved, with a segment
    counts = _freeze_targets(campaign, segment, user=user, today=today)
    campaign.status = CampaignStatus.RUNNING
    campaign.started_by, campaign.started_at = user, timezone.now()
    campaign.frozen_rules = segment.rules
    campaign.target_count, campaign.excluded_count = counts["included"], counts["excluded"]
    campaign.save(
        update_fields=["status", "started_by", "started_at", "frozen_rules", "target_count", "excluded_count"]
    )
    audit(
        MarketingAction.CAMPAIGN_STARTED,
        actor=user,
        target=campaign,
        details={"segment": segment.pk, "targets": counts["included"], "excluded": counts["excluded"]},
    )
    return campaign


@transaction.atomic
def campaign_close(*, campaign: Campaign, user: User) -> Campaign:
    require(user, "marketing.run_campaign")
    campaign = _lock_in_status(campaign, [CampaignStatus.RUNNING], _("closed"))
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "closed_at"])
    audit(MarketingAction.CAMPAIGN_CLOSED, actor=user, target=campaign)
    return campaign


@transaction.atomic
def campaign_evaluate(
    *, campaign: Campaign, user: User, evaluation: str, actual_cost: Decimal | None = None
) -> Campaign:
    """Close the books on a closed campaign: the funnel as it stands is kept with
    the evaluation text and the actual cost."""
    from ..selectors import campaign_funnel

    require(user, "marketing.run_campaign")
    campaign = _lock_in_status(campaign, [CampaignStatus.CLOSED], _("evaluated"))
    if len(evaluation.strip()) < 4:
        raise ValidationError(_("Write the evaluation (at least 4 characters)."))
    campaign.status = CampaignStatus.EVALUATED
    campaign.evaluated_at = timezone.now()
    campaign.evaluation = evaluation.strip()
    if actual_cost is not None:
        campaign.actual_cost = actual_cost
    funnel = campaign_funnel(campaign, user=None)
    campaign.results = {k: str(v) if isinstance(v, Decimal) else v for k, v in funnel.items()}
    campaign.full_clean()
    campaign.save(update_fields=["status", "evaluated_at", "evaluation", "actual_cost", "results"])
    audit(
        MarketingAction.CAMPAIGN_EVALUATED, actor=user, target=campaign, details={"results": campaign.results}
    )
    return campaign

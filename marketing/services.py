"""Writes of the marketing area. Keyword-only; each runs in one transaction,
validates with full_clean, locks the row whose state it changes and writes its
audit event in the same transaction. Refusals are ValidationError (with a message
for the user) or PermissionDenied."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.approvals import ApprovalFlow, decide
from accounts.audit import Action, audit
from accounts.models import Branch, BranchLevel, User
from accounts.roles import Role
from accounts.scope import data_scope, has_role
from core.approvals import ApprovalStatus
from customers.choices import MarketingChannel
from customers.models import Customer
from customers.permissions import require_in_scope
from customers.services import customer_update, interaction_log

from . import policy, suitability
from .choices import (
    OPEN_STAGES,
    OPEN_TARGET_STATUSES,
    AllocationStatus,
    CampaignStatus,
    ContactOutcome,
    MarketingAction,
    OpportunityStage,
    PolicyStatus,
    SaleSource,
    TargetStatus,
    TaskStatus,
)
from .models import (
    Campaign,
    CampaignTarget,
    ContactPolicy,
    MarketingContact,
    MarketingTask,
    Opportunity,
    Product,
    Sale,
    Segment,
    TaskAllocation,
)
from .segments import clean_rules, segment_customers


def _require(user: User, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(_("You may not do this."))


# --- segments -------------------------------------------------------------------------


@transaction.atomic
def segment_save(
    *, user: User, name: str, rules: dict[str, Any], description: str = "", segment: Segment | None = None
) -> Segment:
    _require(user, "marketing.change_segment" if segment else "marketing.add_segment")
    if segment is not None:
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        if segment.owner_id != user.pk and not data_scope(user).sees_all:
            raise PermissionDenied(_("Only the owner or head office may change this segment."))
    else:
        segment = Segment(owner=user)
    segment.name = name.strip()
    segment.description = description.strip()
    segment.rules = clean_rules(rules)
    segment.updated_at = timezone.now()
    segment.full_clean()
    segment.save()
    audit(MarketingAction.SEGMENT_SAVED, actor=user, target=segment, details={"rules": segment.rules})
    return segment


# --- campaigns ------------------------------------------------------------------------

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
    _require(user, "marketing.add_campaign")
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
    _require(user, "marketing.change_campaign")
    unknown = set(changes) - set(EDITABLE_CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(
            _("Only a draft campaign can be changed (this one is %(s)s).") % _status(campaign)
        )
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save()
    if products is not None:
        campaign.products.set(list(products))
    audit(MarketingAction.CAMPAIGN_UPDATED, actor=user, target=campaign, details={"fields": sorted(changes)})
    return campaign


def _status(campaign: Campaign) -> dict[str, str]:
    return {"s": str(campaign.get_status_display())}


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


@transaction.atomic
def campaign_submit(*, campaign: Campaign, user: User) -> Campaign:
    _require(user, "marketing.change_campaign")
    campaign = _lock_in_status(campaign, [CampaignStatus.DRAFT], _("submitted"))
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
    _require(user, "marketing.change_campaign")
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


@transaction.atomic
def campaign_start(*, campaign: Campaign, user: User, today: datetime.date | None = None) -> Campaign:
    """Start an approved campaign: its segment, evaluated in the starter's scope, is
    frozen into the target list in one INSERT ... SELECT. Members the campaign may
    not offer its products to (investor suitability) or reach (opted out of every
    campaign channel) stay on the list as excluded, with the reason."""
    _require(user, "marketing.run_campaign")
    today = today or timezone.localdate()
    campaign = _lock_in_status(campaign, [CampaignStatus.APPROVED], _("started"))
    if today > campaign.end_date:
        raise ValidationError(_("The campaign's end date has passed; it cannot start."))
    if today < campaign.start_date:
        raise ValidationError(
            _("The campaign starts on %(date)s; it cannot start before.") % {"date": campaign.start_date}
        )
    segment = campaign.segment
    rating = suitability.highest_rating(campaign.products.values_list("risk_rating", flat=True))
    members = (
        segment_customers(segment.rules, user=user, today=today)
        .annotate(exclusion=suitability.exclusion_case(rating, on=today, channels=campaign.channels))
        .values("id", "primary_manager_id", "home_branch_id", "exclusion")
        .order_by()
    )
    sql, params = members.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(TARGET_INSERT_SQL.format(members=sql), [campaign.pk, TargetStatus.PENDING, *params])
    counts = CampaignTarget.objects.filter(campaign=campaign).aggregate(
        included=Count("pk", filter=Q(excluded_reason="")),
        excluded=Count("pk", filter=~Q(excluded_reason="")),
    )
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
    _require(user, "marketing.run_campaign")
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
    from .selectors import campaign_funnel

    _require(user, "marketing.run_campaign")
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


# --- contacts under the policy -----------------------------------------------------------

OUTCOME_STATUS = {
    ContactOutcome.NOT_REACHED: TargetStatus.NOT_REACHED,
    ContactOutcome.INTERESTED: TargetStatus.INTERESTED,
    ContactOutcome.DECLINED: TargetStatus.DECLINED,
    ContactOutcome.CONVERTED: TargetStatus.CONVERTED,
    ContactOutcome.DO_NOT_CONTACT: TargetStatus.DO_NOT_CONTACT,
}


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
    a customer of the manager's own leads). Refused with the reason
    (policy.ContactRefused) when the contact-frequency policy forbids it. A
    do-not-contact outcome opts the customer out of every marketing channel."""
    _require(user, "marketing.add_marketingcontact")
    if channel not in MarketingChannel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if outcome not in ContactOutcome.values:
        raise ValidationError({"outcome": _("Unknown outcome.")})
    occurred_at = occurred_at or timezone.now()
    campaign = None
    if target is not None:
        target = (
            CampaignTarget.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .get(pk=target.pk)
        )
        campaign = target.campaign
        customer = target.customer
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
    if customer is None:
        raise ValueError("a target or a customer is needed")
    # The customer row lock serialises contacts with one customer, so two managers
    # cannot both take the last contact the policy allows.
    customer = require_in_scope(user, customer, lock=True)
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
    subject = (
        _("Campaign %(name)s: %(outcome)s")
        % {"name": campaign.name, "outcome": ContactOutcome(outcome).label}
        if campaign
        else _("Marketing contact: %(outcome)s") % {"outcome": ContactOutcome(outcome).label}
    )
    interaction = interaction_log(
        customer=customer,
        kind=channel,
        subject=subject[:200],
        notes=notes,
        logged_by=user,
        occurred_at=occurred_at,
    )
    contact = MarketingContact(
        customer=customer,
        campaign=campaign,
        target=target,
        channel=channel,
        occurred_at=occurred_at,
        outcome=outcome,
        notes=notes.strip()[:500],
        manager=user,
        interaction=interaction,
    )
    contact.full_clean()
    contact.save()
    if target is not None:
        target.contact_count += 1
        target.last_contacted_at = max(filter(None, [target.last_contacted_at, occurred_at]))
        target.status = OUTCOME_STATUS[outcome]
        target.save(update_fields=["contact_count", "last_contacted_at", "status"])
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
            "outcome": outcome,
        },
    )
    return contact


# --- contact policy (maker-checker) -----------------------------------------------------------


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


# --- opportunities and sales ----------------------------------------------------------------


def _explain_unsuitable(customer: Customer, product: Product, on: datetime.date) -> None:
    verdict = suitability.check(customer, product, on=on)
    if not verdict.allowed:
        raise ValidationError(verdict.message, code=verdict.reason)


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
    _require(user, "marketing.add_opportunity")
    campaign = None
    if target is not None:
        target = CampaignTarget.objects.select_related("campaign").get(pk=target.pk)
        customer, campaign = target.customer, target.campaign
        if target.excluded_reason:
            raise ValidationError(_("This customer is excluded from the campaign."))
        if campaign.status != CampaignStatus.RUNNING:
            raise ValidationError(_("The campaign is not running: its targets cannot be worked."))
        if not campaign.products.filter(pk=product.pk).exists():
            raise ValidationError({"product": _("The campaign does not offer this product.")})
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
    _require(user, "marketing.change_opportunity")
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


@transaction.atomic
def opportunity_win(
    *, opportunity: Opportunity, user: User, amount: Decimal, sale_date: datetime.date | None = None
) -> Sale:
    """Win an opportunity: a sale of its product, attributed to the customer's
    manager of record on the sale date and linked to its campaign. It counts as
    confirmed once core banking reports the account (`sales.sales_from_new_accounts`)."""
    from .sales import attribute_sales

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
    sale = Sale(
        customer=opportunity.customer,
        product=product,
        product_code=product.code,
        category=product.category,
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
    if opportunity.target_id:
        CampaignTarget.objects.filter(pk=opportunity.target_id).update(status=TargetStatus.CONVERTED)
    audit(
        MarketingAction.OPPORTUNITY_WON,
        actor=user,
        target=opportunity,
        details={"sale": sale.pk, "amount": str(amount), "product": product.code},
    )
    return sale


# --- marketing tasks ----------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    user: User,
    name: str,
    indicator: str,
    period_start: datetime.date,
    period_end: datetime.date,
    target: Decimal,
    description: str = "",
) -> MarketingTask:
    _require(user, "marketing.add_marketingtask")
    task = MarketingTask(
        name=name.strip(),
        indicator=indicator,
        period_start=period_start,
        period_end=period_end,
        target=target,
        description=description.strip(),
        created_by=user,
    )
    task.full_clean()
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    task.save()
    head_office = Branch.objects.get(level=BranchLevel.HEAD_OFFICE)
    TaskAllocation.objects.create(
        task=task, branch=head_office, target=task.target, status=AllocationStatus.PENDING
    )
    audit(
        MarketingAction.TASK_CREATED,
        actor=user,
        target=task,
        details={"indicator": task.indicator, "target": str(task.target)},
    )
    return task


@transaction.atomic
def task_issue(*, task: MarketingTask, user: User) -> MarketingTask:
    """Issue a draft task: head office's share (the whole target) is accepted and can
    be decomposed to the branches."""
    _require(user, "marketing.add_marketingtask")
    task = MarketingTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.DRAFT:
        raise ValidationError(_("Only a draft task can be issued."))
    task.status, task.issued_at = TaskStatus.ISSUED, timezone.now()
    task.save(update_fields=["status", "issued_at"])
    TaskAllocation.objects.filter(task=task, parent__isnull=True).update(
        status=AllocationStatus.ACCEPTED, target=task.target, responded_by=user, responded_at=timezone.now()
    )
    audit(
        MarketingAction.TASK_ISSUED,
        actor=user,
        target=task,
        details={"indicator": task.indicator, "target": str(task.target)},
    )
    return task


def holds_allocation(user: User, allocation: TaskAllocation) -> bool:
    """Whose share is it: the manager's own, or a branch's for its branch head.
    Head office's share belongs to head-office roles."""
    if allocation.manager_id:
        return allocation.manager_id == user.pk
    if allocation.parent_id is None:
        return data_scope(user).sees_all
    return has_role(user, Role.BRANCH_HEAD) and user.branch_id == allocation.branch_id


def may_decompose(user: User, allocation: TaskAllocation) -> bool:
    """The holder of a branch share decomposes it; head office may decompose any
    branch share (a branch without a branch head)."""
    if not user.has_perm("marketing.decompose_marketingtask") or allocation.manager_id:
        return False
    return holds_allocation(user, allocation) or data_scope(user).sees_all


def _nobody_holds(allocation: TaskAllocation, user: User) -> bool:
    """A branch share decomposed by head office for a branch with no active branch
    head (so nobody could accept it)."""
    if allocation.manager_id or allocation.parent_id is None or not data_scope(user).sees_all:
        return False
    return not User.objects.filter(
        branch_id=allocation.branch_id, is_active=True, groups__name=Role.BRANCH_HEAD
    ).exists()


@transaction.atomic
def task_decompose(
    *, allocation: TaskAllocation, user: User, shares: Sequence[tuple[Branch | User, Decimal]]
) -> list[TaskAllocation]:
    """Give an accepted branch share to its child branches or to managers of its
    subtree. The shares must add up to the parent's target exactly. Decomposing
    again replaces the shares, as long as none of them was decomposed further;
    a share whose target changes waits for acceptance again."""
    allocation = (
        TaskAllocation.objects.select_for_update(of=("self",))
        .select_related("task", "branch")
        .get(pk=allocation.pk)
    )
    if not may_decompose(user, allocation):
        raise PermissionDenied(_("You may not decompose this share of the task."))
    if allocation.task.status != TaskStatus.ISSUED:
        raise ValidationError(_("The task is not issued."))
    if allocation.status == AllocationStatus.PENDING and _nobody_holds(allocation, user):
        # Nobody at the branch can accept it: head office takes the share on the
        # branch's behalf as it decomposes it (recorded as the answer).
        allocation.status = AllocationStatus.ACCEPTED
        allocation.comment = _("Taken by head office: the branch has no branch head.")
        allocation.responded_by, allocation.responded_at = user, timezone.now()
        allocation.save(update_fields=["status", "comment", "responded_by", "responded_at"])
    if allocation.status != AllocationStatus.ACCEPTED:
        raise ValidationError(_("A share must be accepted before it is decomposed."))
    if not shares:
        raise ValidationError(_("Give at least one share."))
    errors = []
    total = sum((Decimal(target) for _receiver, target in shares), Decimal("0"))
    if total != allocation.target:
        errors.append(
            _("The shares add up to %(total)s; they must add up to %(target)s.")
            % {"total": total.quantize(Decimal("0.01")), "target": allocation.target}
        )
    seen = set()
    for receiver, target in shares:
        if Decimal(target) < 0:
            errors.append(_("A share cannot be negative."))
        key = (type(receiver).__name__, receiver.pk)
        if key in seen:
            errors.append(_("%(r)s appears twice.") % {"r": receiver})
        seen.add(key)
        if isinstance(receiver, Branch):
            if receiver.parent_id != allocation.branch_id:
                errors.append(
                    _("%(r)s is not directly below %(b)s.") % {"r": receiver, "b": allocation.branch}
                )
        elif not (
            receiver.branch_id
            and receiver.is_active
            and has_role(receiver, Role.CLIENT_MANAGER)
            and receiver.branch.is_within(allocation.branch)
        ):
            errors.append(
                _("%(r)s is not a client manager of %(b)s.") % {"r": receiver, "b": allocation.branch}
            )
    if errors:
        raise ValidationError(errors)
    existing = {(a.branch_id, a.manager_id): a for a in allocation.children.select_for_update()}
    if TaskAllocation.objects.filter(parent__in=list(existing.values())).exists():
        raise ValidationError(_("A share has already been decomposed further; it cannot be redistributed."))
    wanted = {}
    for receiver, target in shares:
        key = (receiver.pk, None) if isinstance(receiver, Branch) else (None, receiver.pk)
        wanted[key] = Decimal(target)
    for key, child in existing.items():
        if key not in wanted:
            child.delete()
    result = []
    for (branch_id, manager_id), target in wanted.items():
        child = existing.get((branch_id, manager_id))
        if child is None:
            child = TaskAllocation(
                task=allocation.task,
                parent=allocation,
                branch_id=branch_id,
                manager_id=manager_id,
                target=target,
            )
        elif child.target != target:
            child.target, child.status, child.comment = target, AllocationStatus.PENDING, ""
            child.responded_by = child.responded_at = None
        elif child.status == AllocationStatus.RETURNED:
            child.status = AllocationStatus.PENDING
        child.full_clean()
        child.save()
        result.append(child)
    audit(
        MarketingAction.TASK_DECOMPOSED,
        actor=user,
        target=allocation.task,
        details={
            "allocation": allocation.pk,
            "shares": [
                {"branch": b, "manager": m, "target": str(t)} for (b, m), t in sorted(wanted.items(), key=str)
            ],
        },
    )
    return result


@transaction.atomic
def allocation_respond(
    *, allocation: TaskAllocation, user: User, accept: bool, comment: str = ""
) -> TaskAllocation:
    """The receiver accepts its share or returns it with a comment (the decomposer
    then redistributes)."""
    _require(user, "marketing.respond_marketingtask")
    allocation = (
        TaskAllocation.objects.select_for_update(of=("self",)).select_related("task").get(pk=allocation.pk)
    )
    if allocation.parent_id is None or not holds_allocation(user, allocation):
        raise PermissionDenied(_("This share of the task is not yours to accept or return."))
    if allocation.status != AllocationStatus.PENDING:
        raise ValidationError(_("This share is not waiting for an answer."))
    comment = comment.strip()
    if not accept and len(comment) < 4:
        raise ValidationError({"comment": _("Say why you return it (at least 4 characters).")})
    allocation.status = AllocationStatus.ACCEPTED if accept else AllocationStatus.RETURNED
    allocation.comment = comment[:300]
    allocation.responded_by, allocation.responded_at = user, timezone.now()
    allocation.save(update_fields=["status", "comment", "responded_by", "responded_at"])
    audit(
        MarketingAction.TASK_ACCEPTED if accept else MarketingAction.TASK_RETURNED,
        actor=user,
        target=allocation.task,
        details={"allocation": allocation.pk, "comment": allocation.comment},
    )
    return allocation


def decomposable_receivers(allocation: TaskAllocation) -> tuple[list[Branch], list[User]]:
    """Who a branch share can go to: its child branches, or client managers of its
    subtree."""
    branch = allocation.branch
    children = list(Branch.objects.filter(parent=branch, is_active=True).order_by("code"))
    managers = list(
        User.objects.filter(
            branch__in=Branch.objects.subtree(branch) if branch else Branch.objects.none(),
            groups__name=Role.CLIENT_MANAGER,
            is_active=True,
        )
        .select_related("branch")
        .order_by("branch__path", "employee_no")
    )
    return children, managers

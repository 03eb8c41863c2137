"""Codes of the marketing area. Product categories are the account categories
(`customers.choices.AccountCategory`), so a sale from core banking maps onto the
catalogue without a translation table."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.choices import AccountCategory, MarketingChannel  # noqa: F401  (re-exported)


class RiskRating(models.TextChoices):
    """Product risk rating (R1 lowest .. R5 highest)."""

    R1 = "R1", _("R1 low")
    R2 = "R2", _("R2 medium-low")
    R3 = "R3", _("R3 medium")
    R4 = "R4", _("R4 medium-high")
    R5 = "R5", _("R5 high")


# Investment products (investor suitability applies: they must carry a rating).
RATED_CATEGORIES = frozenset(
    {AccountCategory.WEALTH, AccountCategory.FUND, AccountCategory.INSURANCE, AccountCategory.CUSTODY}
)


class PromotionKind(models.TextChoices):
    RATE = "rate", _("Rate offer")
    PRICE = "price", _("Price offer")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RUNNING = "running", _("Running")
    CLOSED = "closed", pgettext_lazy("campaign status", "Closed")
    EVALUATED = "evaluated", _("Evaluated")


class CampaignObjective(models.TextChoices):
    CROSS_SELL = "cross_sell", _("Cross-sell products")
    AUM_GROWTH = "aum_growth", _("Grow AUM")
    RETENTION = "retention", _("Retain maturing funds")
    ACTIVATION = "activation", _("Reactivate dormant customers")
    ACQUISITION = "acquisition", _("Win new business (payroll, cards)")


class ExclusionReason(models.TextChoices):
    """Why a segment member is not a target (shown on the target list)."""

    NO_RISK_ASSESSMENT = "no_risk", _("No risk assessment")
    RISK_EXPIRED = "risk_expired", _("Risk assessment expired")
    UNSUITABLE = "unsuitable", _("Risk assessment below the product's rating")
    OPTED_OUT = "opted_out", _("Opted out of every channel of the campaign")


class ContactOutcome(models.TextChoices):
    NOT_REACHED = "not_reached", _("Not reached")
    INTERESTED = "interested", _("Interested")
    DECLINED = "declined", _("Declined")
    CONVERTED = "converted", _("Converted")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")


class TargetStatus(models.TextChoices):
    """Where a target stands: its latest contact outcome, or not contacted yet."""

    PENDING = "pending", _("Not contacted yet")
    NOT_REACHED = "not_reached", _("Not reached")
    INTERESTED = "interested", _("Interested")
    DECLINED = "declined", _("Declined")
    CONVERTED = "converted", _("Converted")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")


# Targets still worth a contact.
OPEN_TARGET_STATUSES = (TargetStatus.PENDING, TargetStatus.NOT_REACHED, TargetStatus.INTERESTED)


class OpportunityStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = (OpportunityStage.LEAD, OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION)


class SaleSource(models.TextChoices):
    OPPORTUNITY = "opportunity", _("Won opportunity")
    CORE_BANKING = "core_banking", _("New account from core banking")
    OPENING = "opening", _("Account-opening request")


class OpeningStatus(models.TextChoices):
    """Where an account-opening request (开户预约) stands: recorded without a time,
    with an appointment, confirmed by an account core banking reported, or cancelled."""

    REQUESTED = "requested", pgettext_lazy("opening status", "Requested")
    APPOINTED = "appointed", pgettext_lazy("opening status", "Appointment made")
    OPENED = "opened", pgettext_lazy("opening status", "Account opened")
    CANCELLED = "cancelled", pgettext_lazy("opening status", "Cancelled")


# Requests still waiting for their account.
OPEN_OPENING_STATUSES = (OpeningStatus.REQUESTED, OpeningStatus.APPOINTED)


class IndicatorKind(models.TextChoices):
    """How an indicator of the library (考核指标库) is computed; its parameters say
    from what (`marketing.indicators` validates and computes them). Kinds that need
    the performance engine's figures are computed by `performance`, which registers
    them (`marketing.indicators.register`)."""

    BALANCE_END = "balance_end", _("Period-end balance of account categories")
    BALANCE_AVG = "balance_avg", _("Daily average balance (deposit, loan or AUM)")
    CONTRIBUTION = "contribution", _("FTP contribution")
    INCREMENT = "increment", _("Increment over a base period")
    SALES_AMOUNT = "sales_amount", _("Sales amount")
    SALES_COUNT = "sales_count", _("Sales count")
    NEW_ACCOUNTS = "new_accounts", _("Newly opened accounts")
    INTERMEDIARY_INCOME = "intermediary_income", _("Intermediary income")
    NEW_CUSTOMERS = "new_customers", _("New customers")
    NEW_VIPS = "new_vips", _("New VIPs")
    TIER_UPGRADES = "tier_upgrades", _("Tier upgrades")
    LOST_VIPS = "lost_vips", _("Lost VIPs")
    CONTACTS = "contacts", _("Contacts made")
    CAMPAIGN_CONVERSIONS = "campaign_conversions", _("Campaign conversions")
    TASK_COMPLETION = "task_completion", _("Marketing-task completion")


class IndicatorUnit(models.TextChoices):
    CNY = "cny", _("CNY")
    COUNT = "count", _("Count")
    PERCENT = "percent", _("Percent")


class IndicatorDirection(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    DEDUCTION = "deduction", _("Deduction: lower is better")


class TaskStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CLOSED = "closed", pgettext_lazy("task status", "Closed")


class AllocationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class PolicyStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("In force")
    RETIRED = "retired", _("Retired")
    REJECTED = "rejected", _("Rejected")


class MarketingAction(models.TextChoices):
    """Audit-trail actions of the marketing area (free text in AuditEvent.action)."""

    CAMPAIGN_CREATED = "campaign_created", _("Campaign created")
    CAMPAIGN_UPDATED = "campaign_updated", _("Campaign updated")
    CAMPAIGN_SUBMITTED = "campaign_submitted", _("Campaign submitted")
    CAMPAIGN_APPROVED = "campaign_approved", _("Campaign approved")
    CAMPAIGN_REJECTED = "campaign_rejected", _("Campaign rejected")
    CAMPAIGN_REVISED = "campaign_revised", _("Campaign reopened as draft")
    CAMPAIGN_STARTED = "campaign_started", _("Campaign started (targets frozen)")
    CAMPAIGN_CLOSED = "campaign_closed", _("Campaign closed")
    CAMPAIGN_EVALUATED = "campaign_evaluated", _("Campaign evaluated")
    SEGMENT_SAVED = "segment_saved", _("Segment saved")
    TASK_ISSUED = "task_issued", _("Marketing task issued")
    TASK_DECOMPOSED = "task_decomposed", _("Marketing task decomposed")
    TASK_ACCEPTED = "task_accepted", _("Marketing task accepted")
    TASK_RETURNED = "task_returned", _("Marketing task returned")
    CONTACT_LOGGED = "contact_logged", _("Marketing contact logged")
    OPPORTUNITY_CREATED = "opportunity_created", _("Opportunity created")
    OPPORTUNITY_ADVANCED = "opportunity_advanced", _("Opportunity stage changed")
    OPPORTUNITY_WON = "opportunity_won", _("Opportunity won")
    TASK_CREATED = "task_created", _("Marketing task created")
    POLICY_APPROVED = "policy_approved", _("Contact policy approved")
    INDICATOR_CREATED = "indicator_created", _("Indicator created")
    INDICATOR_UPDATED = "indicator_updated", _("Indicator updated")
    CHANNEL_CREATED = "channel_created", _("Channel created")
    CHANNEL_UPDATED = "channel_updated", _("Channel updated")
    CHANNEL_SWITCHED_OFF = "channel_switched_off", _("Channel switched off")
    CHANNEL_SWITCHED_ON = "channel_switched_on", _("Channel switched back on")
    OPENING_REQUESTED = "opening_requested", _("Account opening requested")
    OPENING_APPOINTED = "opening_appointed", _("Account-opening appointment set")
    OPENING_CANCELLED = "opening_cancelled", _("Account-opening request cancelled")
    OPENING_CONFIRMED = "opening_confirmed", _("Account-opening request confirmed by a loaded account")
    OPENING_MATCHED = "opening_matched", _("Account-opening request matched by hand")
    OPENING_FLAGGED = "opening_flagged", _("Account-opening request flagged overdue")

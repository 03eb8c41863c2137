"""Marketing from plan to result: the product catalogue, segments and the nightly
marketing profile (RFM), campaigns with their frozen target lists, contacts under
the contact-frequency policy, opportunities and sales, and marketing tasks issued
down the org tree."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.approvals import ApprovalRecord, ApprovalStatus, ChangeProposal
from core.money import MONEY
from customers.choices import AccountCategory, MarketingChannel
from customers.choices import Channel as TransactionChannel
from customers.models import Customer, Interaction
from customers.querysets import CustomerHeldQuerySet

from .choices import (
    RATED_CATEGORIES,
    AllocationStatus,
    CampaignObjective,
    CampaignStatus,
    ContactOutcome,
    ExclusionReason,
    IndicatorDirection,
    IndicatorKind,
    IndicatorUnit,
    OpeningStatus,
    OpportunityStage,
    PolicyStatus,
    PromotionKind,
    RiskRating,
    SaleSource,
    TargetStatus,
    TaskStatus,
)
from .querysets import (
    CampaignQuerySet,
    MarketingTaskQuerySet,
    OpportunityQuerySet,
    SegmentQuerySet,
    TaskAllocationQuerySet,
)

USER = settings.AUTH_USER_MODEL


def _check_codes(values, allowed, field: str) -> None:
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise ValidationError({field: _("Unknown code in %(v)s.") % {"v": values}})


# --- channels -----------------------------------------------------------------------


class Channel(models.Model):
    """A marketing and sales channel (渠道): counter, mobile banking, WeChat, the
    outbound call centre... The list is data, kept by the business managers. A
    product lists the channels it is sold on and a campaign those it uses, by code
    (`Product.channels`, `Campaign.channels`); a channel switched off stays on what
    chose it but cannot be chosen for a new campaign. Where a contact through it
    reaches the customer (`contact_channel`), that consent applies (opt-outs, quiet
    hours); where core banking reports transactions under it (`transaction_channel`,
    the extract's TXN_SUMMARY code), its transaction figures come from there."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    contact_channel = models.CharField(
        _("contacts customers by"),
        max_length=8,
        choices=MarketingChannel.choices,
        blank=True,
        help_text=_(
            "The way a contact through this channel reaches the customer: their consent to it applies."
        ),
    )
    transaction_channel = models.CharField(
        _("core banking's transaction channel"),
        max_length=8,
        choices=TransactionChannel.choices,
        blank=True,
        help_text=_("The channel core banking reports this channel's transactions under."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    description = models.CharField(_("description"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        verbose_name = _("channel (渠道)")
        verbose_name_plural = _("channels")
        ordering = ["position", "code"]
        permissions = [("manage_channel", _("Can add, change and switch off channels"))]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def codes(*, active: bool | None = None) -> set[str]:
        rows = Channel.objects.all() if active is None else Channel.objects.filter(is_active=active)
        return set(rows.values_list("code", flat=True))


def _check_channels(values, previous, field: str) -> None:
    """Codes of channels, each known; one not in `previous` (a new product's or
    campaign's, or one added to it) must be in use."""
    _check_codes(values, Channel.codes(), field)
    switched_off = sorted(set(values) - set(previous or ()) - Channel.codes(active=True))
    if switched_off:
        names = "、".join(Channel.objects.filter(code__in=switched_off).values_list("name", flat=True))
        raise ValidationError(
            {field: _("%(channels)s is switched off and cannot be chosen.") % {"channels": names}}
        )


def _saved(instance, field: str):
    if instance.pk is None:
        return None
    return type(instance).objects.filter(pk=instance.pk).values_list(field, flat=True).first()


# --- product catalogue -------------------------------------------------------------


class Product(models.Model):
    """A product of the catalogue (产品). `code` is the product code core banking puts
    on the account, so a new account is a sale of this product."""

    code = models.CharField(_("product code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=16, choices=AccountCategory.choices)
    risk_rating = models.CharField(
        _("risk rating"),
        max_length=2,
        choices=RiskRating.choices,
        blank=True,
        help_text=_("Required for wealth, fund, insurance and custody products."),
    )
    min_amount = models.DecimalField(_("minimum amount (CNY)"), default=0, **MONEY)
    term_days = models.PositiveIntegerField(_("term (days)"), null=True, blank=True)
    rate = models.DecimalField(_("rate (% a year)"), max_digits=7, decimal_places=4, null=True, blank=True)
    price = models.DecimalField(_("price (CNY)"), null=True, blank=True, **MONEY)
    sale_start = models.DateField(_("on sale from"), null=True, blank=True)
    sale_end = models.DateField(_("on sale until"), null=True, blank=True)
    channels = models.JSONField(_("sale channels"), default=list, blank=True)
    is_payroll = models.BooleanField(
        _("payroll product"), default=False, help_text=_("Its first sale makes a new payroll customer.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("product (产品)")
        verbose_name_plural = _("products")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        # by its name wherever it is picked or shown; the code is core banking's reference
        return self.name or self.code

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.category in RATED_CATEGORIES and not self.risk_rating:
            errors["risk_rating"] = _("An investment product needs a risk rating (R1..R5).")
        if self.sale_start and self.sale_end and self.sale_end < self.sale_start:
            errors["sale_end"] = _("The sale window ends before it starts.")
        if self.min_amount is not None and self.min_amount < 0:
            errors["min_amount"] = _("The minimum amount cannot be negative.")
        try:
            _check_channels(self.channels, _saved(self, "channels"), "channels")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    def on_sale(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return (
            self.is_active
            and (self.sale_start is None or self.sale_start <= day)
            and (self.sale_end is None or day <= self.sale_end)
        )


class Promotion(models.Model):
    """A rate or price offer on a product, for a window and for some tiers (优惠)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="promotions")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=PromotionKind.choices)
    value = models.DecimalField(
        _("offer rate (%) or price (CNY)"), max_digits=18, decimal_places=4, validators=[MinValueValidator(0)]
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    eligible_tiers = models.JSONField(
        _("eligible tiers"), default=list, blank=True, help_text=_("Tier codes; empty means every tier.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("promotion (优惠)")
        verbose_name_plural = _("promotions")
        ordering = ["product", "-start_date"]

    def __str__(self) -> str:
        return f"{self.product_id} {self.name}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The offer ends before it starts.")})
        if not isinstance(self.eligible_tiers, list) or not all(
            isinstance(t, str) for t in self.eligible_tiers
        ):
            raise ValidationError({"eligible_tiers": _("A list of tier codes.")})

    def applies_to(self, tier: str, day: datetime.date) -> bool:
        return (
            self.is_active
            and self.start_date <= day <= self.end_date
            and (not self.eligible_tiers or tier in self.eligible_tiers)
        )


class ProductChange(ChangeProposal):
    """A change of the product catalogue waiting for approval (产品变更申请): what
    a parameter manager saves in the admin, or imports from a spreadsheet, changes
    no product until another user with the right approves it (maker-checker).
    `changes` holds the new values ({"products": {code: {field: value}},
    "promotions": [{"product": code, "id": id or null, "values": {...},
    "delete": bool}]}, values as text), `base` the values they replace as they
    were when proposed ({"products": {code: {field: value} or null for a new
    product}, "promotions": {id: {field: value}}}): approval refuses if they moved
    since. Approved changes are the catalogue's history."""

    class Meta:
        verbose_name = _("product change (产品变更申请)")
        verbose_name_plural = _("product changes")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_productchange", _("Can approve product changes"))]
        indexes = [models.Index(fields=["status", "-proposed_at"], name="productchange_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {', '.join(sorted((self.changes or {}).get('products', {})))}"

    @property
    def product_codes(self) -> list[str]:
        changes = self.changes or {}
        codes = set(changes.get("products", {})) | {p["product"] for p in changes.get("promotions", [])}
        return sorted(codes)


# --- segments and the nightly marketing profile -----------------------------------


class Segment(models.Model):
    """A saved rule over customer data (客群). `rules` is what the segment form
    produced; `marketing.segments` turns it into one query."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment (客群)")
        verbose_name_plural = _("segments")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class MarketingProfile(models.Model):
    """Per customer, recomputed nightly by `marketing.rfm` (set-based): the RFM
    quintile scores from the transaction summaries, the last transaction date, and
    the month-average AUM of earlier months for the trend rules. Scores are NULL for
    a customer without transactions in the RFM window."""

    customer = models.OneToOneField(
        Customer,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="marketing_profile",
    )
    as_of = models.DateField(_("computed for"))
    last_txn_date = models.DateField(_("last transaction"), null=True, blank=True)
    frequency = models.IntegerField(_("transactions in window"), default=0)
    monetary = models.DecimalField(_("amount in window (CNY)"), default=0, **MONEY)
    recency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_score = models.PositiveSmallIntegerField(null=True, blank=True)
    aum_now = models.DecimalField(_("month-average AUM, this month"), default=0, **MONEY)
    aum_1m = models.DecimalField(null=True, blank=True, **MONEY)
    aum_3m = models.DecimalField(null=True, blank=True, **MONEY)
    aum_6m = models.DecimalField(null=True, blank=True, **MONEY)
    aum_12m = models.DecimalField(null=True, blank=True, **MONEY)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("marketing profile (RFM)")
        verbose_name_plural = _("marketing profiles")

    def __str__(self) -> str:
        return f"{self.customer_id} RFM {self.recency_score}{self.frequency_score}{self.monetary_score}"


# --- campaigns ----------------------------------------------------------------------


class Campaign(ApprovalRecord):
    """A marketing campaign (营销活动): draft → submitted → approved | rejected →
    running → closed → evaluated. Its segment is frozen into targets when it starts.
    Submitted → approved | rejected is its approval (`ApprovalRecord`): the
    submitter is the proposer, and another business manager decides."""

    APPROVAL_STATUSES = {
        ApprovalStatus.PENDING: CampaignStatus.SUBMITTED,
        ApprovalStatus.APPROVED: CampaignStatus.APPROVED,
        ApprovalStatus.REJECTED: CampaignStatus.REJECTED,
    }

    name = models.CharField(_("name"), max_length=100)
    objective = models.CharField(_("objective"), max_length=16, choices=CampaignObjective.choices)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    products = models.ManyToManyField(Product, related_name="campaigns", verbose_name=_("products"))
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    # The rules as they were when the targets were frozen (the segment may change later).
    frozen_rules = models.JSONField(default=dict, blank=True, editable=False)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    budget = models.DecimalField(_("budget (CNY)"), default=0, validators=[MinValueValidator(0)], **MONEY)
    actual_cost = models.DecimalField(
        _("actual cost (CNY)"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # A draft is not proposed yet: submitting it is. Both are nullable overrides of
    # the abstract base's fields.
    proposed_by = models.ForeignKey(  # type: ignore[assignment]
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)  # type: ignore[assignment]
    started_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    evaluation = models.TextField(_("evaluation"), blank=True, max_length=4000)
    results = models.JSONField(default=dict, blank=True, editable=False)
    target_count = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(default=0)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign (营销活动)")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "-id"]
        permissions = [
            ("approve_campaign", _("Can approve or reject campaigns")),
            ("run_campaign", _("Can start, close and evaluate campaigns")),
            ("export_marketing", _("Can export marketing dashboards")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="campaign_dates"),
        ]
        indexes = [models.Index(fields=["status", "-start_date"], name="campaign_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def starts_later(self) -> bool:
        """Its start date is still to come: it cannot be started yet."""
        return self.start_date > timezone.localdate()

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The campaign ends before it starts.")
        try:
            _check_channels(self.channels, _saved(self, "channels"), "channels")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)


class CampaignTarget(models.Model):
    """One customer of a campaign's frozen target list, given to the customer's
    manager of record; an excluded member stays on the list with its reason."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("manager")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    excluded_reason = models.CharField(
        _("excluded because"), max_length=16, choices=ExclusionReason.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    contact_count = models.PositiveIntegerField(_("contacts"), default=0)
    last_contacted_at = models.DateTimeField(_("last contact"), null=True, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="target_once_per_campaign"),
        ]
        indexes = [
            models.Index(fields=["campaign", "manager", "status"], name="target_campaign_manager"),
            models.Index(fields=["manager", "status"], name="target_manager_status"),
            models.Index(fields=["customer"], name="target_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}"


class MarketingContact(models.Model):
    """A marketing contact with a customer, counted by the contact-frequency policy
    across every campaign and channel; also written to the customer's timeline."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(
        CampaignTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=MarketingChannel.choices)
    # the campaign's channel the contact went through (the call centre, WeChat...);
    # `channel` is how it reached the customer, for consent and the frequency cap
    via = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("through"),
    )
    occurred_at = models.DateTimeField(_("when"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=ContactOutcome.choices)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    manager = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("marketing contact")
        verbose_name_plural = _("marketing contacts")
        indexes = [models.Index(fields=["customer", "occurred_at"], name="contact_customer_window")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.occurred_at:%Y-%m-%d %H:%M}"


class ContactPolicy(ApprovalRecord):
    """The contact-frequency policy (营销打扰控制), set by the parameter manager with
    maker-checker: a proposal comes into force when another user approves it; at
    most one is in force. Proposed → in force | rejected is its approval
    (`ApprovalRecord`); a policy in force retires when the next one is approved."""

    APPROVAL_STATUSES = {
        ApprovalStatus.PENDING: PolicyStatus.PROPOSED,
        ApprovalStatus.APPROVED: PolicyStatus.ACTIVE,
        ApprovalStatus.REJECTED: PolicyStatus.REJECTED,
    }

    max_contacts = models.PositiveSmallIntegerField(
        _("most contacts per customer in the window"), validators=[MinValueValidator(1)]
    )
    window_days = models.PositiveSmallIntegerField(_("window (days)"), validators=[MinValueValidator(1)])
    quiet_start = models.TimeField(_("quiet hours from"))
    quiet_end = models.TimeField(_("quiet hours until"))
    quiet_channels = models.JSONField(
        _("channels the quiet hours apply to"),
        default=list,
        blank=True,
        help_text=_("Codes: call, sms, wechat, email, visit."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.PROPOSED
    )
    note = models.CharField(_("why"), max_length=200, blank=True)
    # The policy the demo seeding records has no proposer: a nullable override of the
    # abstract base's field.
    proposed_by = models.ForeignKey(  # type: ignore[assignment]
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )

    class Meta:
        verbose_name = _("contact-frequency policy")
        verbose_name_plural = _("contact-frequency policies")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_contactpolicy", _("Can approve contact-frequency policies"))]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="contact_policy_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"≤{self.max_contacts} / {self.window_days}d ({self.get_status_display()})"

    def clean(self) -> None:
        _check_codes(self.quiet_channels, MarketingChannel.values, "quiet_channels")


# --- opportunities and sales ----------------------------------------------------------


class Opportunity(models.Model):
    """A sales opportunity (商机): from an interested campaign target or the
    manager's own lead."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(
        CampaignTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expected_amount = models.DecimalField(
        _("expected amount (CNY)"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    stage = models.CharField(
        _("stage"), max_length=12, choices=OpportunityStage.choices, default=OpportunityStage.LEAD
    )
    expected_close_date = models.DateField(_("expected close"))
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity (商机)")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close_date", "id"]
        indexes = [models.Index(fields=["manager", "stage"], name="opportunity_manager_stage")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product_id} {self.stage}"


class Sale(models.Model):
    """A sale (销售), attributed to the customer's manager of record on the sale date.
    From a won opportunity (unconfirmed until core banking reports the account) or a
    new account from core banking. Linked to the campaign it converts."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    product_code = models.CharField(_("product code"), max_length=20, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=AccountCategory.choices)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    sale_date = models.DateField(_("sale date"))
    manager = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("manager")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    source = models.CharField(_("source"), max_length=12, choices=SaleSource.choices)
    account = models.OneToOneField(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opportunity = models.OneToOneField(
        Opportunity, null=True, blank=True, on_delete=models.PROTECT, related_name="sale"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    target = models.ForeignKey(
        CampaignTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    # the channel it came through: an opening request's, or the last contact's of the
    # campaign it converts
    channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales",
        verbose_name=_("channel"),
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("sale (销售)")
        verbose_name_plural = _("sales")
        indexes = [
            models.Index(fields=["sale_date", "manager"], name="sale_date_manager"),
            models.Index(fields=["sale_date", "branch"], name="sale_date_branch"),
            models.Index(fields=["customer", "sale_date"], name="sale_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product_code} {self.amount} {self.sale_date}"

    @property
    def confirmed(self) -> bool:
        return self.account_id is not None


class OpeningRequest(models.Model):
    """An account-opening request (开户预约): a customer wants a product, through a
    channel at a branch, perhaps at an appointed time. Recorded by a manager (from an
    opportunity, a campaign target or the 360 view) once the customer's suitability
    for the product is checked; confirmed when core banking reports an account of
    that product for that customer (matched by the nightly job, or by hand), and then
    the sale attributed to the requesting manager. Not confirmed within
    `OPENING_OVERDUE_DAYS` of its appointment (or of its recording), it is flagged."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="opening_requests", verbose_name=_("channel")
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    expected_amount = models.DecimalField(
        _("expected amount (CNY)"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )
    manager = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.PROTECT, related_name="opening_requests"
    )
    target = models.ForeignKey(
        CampaignTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="opening_requests"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OpeningStatus.choices, default=OpeningStatus.REQUESTED
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # confirmation: the account, the sale it became, when and by whom (nobody: the nightly match)
    account = models.OneToOneField(
        "customers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sale = models.OneToOneField(Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="opening")
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    matched_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("matched by")
    )
    matched_at = models.DateTimeField(_("matched"), null=True, blank=True)
    cancelled_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)
    # set by the nightly check when it is overdue (still open N days after its appointment)
    flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("account-opening request (开户预约)")
        verbose_name_plural = _("account-opening requests")
        ordering = ["-created_at", "-id"]
        permissions = [("match_openingrequest", _("Can match an opening request to an account by hand"))]
        indexes = [
            models.Index(fields=["branch", "appointment_at"], name="opening_branch_day"),
            models.Index(fields=["manager", "status"], name="opening_manager_status"),
            models.Index(fields=["customer", "product", "status"], name="opening_customer_product"),
            models.Index(fields=["status", "created_at"], name="opening_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in (OpeningStatus.REQUESTED, OpeningStatus.APPOINTED)


# --- marketing tasks ------------------------------------------------------------------


class MarketingTask(models.Model):
    """A marketing task (经营任务) issued by head office for a period and an
    indicator, decomposed down the org tree (`TaskAllocation`)."""

    name = models.CharField(_("name"), max_length=100)
    indicator = models.ForeignKey(
        "Indicator", on_delete=models.PROTECT, related_name="tasks", verbose_name=_("indicator")
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    target = models.DecimalField(_("target"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.DRAFT)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)

    objects = MarketingTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("marketing task (经营任务)")
        verbose_name_plural = _("marketing tasks")
        ordering = ["-period_start", "-id"]
        permissions = [
            ("decompose_marketingtask", _("Can decompose marketing tasks")),
            ("respond_marketingtask", _("Can accept or return marketing tasks")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="task_period"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskAllocation(models.Model):
    """A share of a task given to a branch or to a manager; its children's targets
    add up to its own. The root is head office's, the task's whole target."""

    task = models.ForeignKey(MarketingTask, on_delete=models.CASCADE, related_name="allocations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target = models.DecimalField(_("target"), validators=[MinValueValidator(0)], **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.PENDING
    )
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    responded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = TaskAllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("task allocation")
        verbose_name_plural = _("task allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(branch__isnull=False, manager__isnull=True)
                | Q(branch__isnull=True, manager__isnull=False),
                name="allocation_branch_or_manager",
            ),
            models.UniqueConstraint(fields=["task", "branch"], name="allocation_branch_once"),
            models.UniqueConstraint(fields=["task", "manager"], name="allocation_manager_once"),
        ]
        indexes = [
            models.Index(fields=["manager", "status"], name="allocation_manager"),
            models.Index(fields=["branch", "status"], name="allocation_branch"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.branch_id or self.manager_id}: {self.target}"

    @property
    def receiver(self):
        return self.manager if self.manager_id else self.branch


# --- the indicator library -------------------------------------------------------------


class Indicator(models.Model):
    """An indicator of the library (考核指标库): a row, not code. It names a
    computation `kind` and its `params` (validated per kind by
    `marketing.indicators`), the unit of its figure and whether more is better or
    it is a deduction. Marketing tasks and assessment schemes measure indicators;
    one switched off stays for what measures it already but cannot be chosen again."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=IndicatorKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=IndicatorUnit.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=IndicatorDirection.choices, default=IndicatorDirection.HIGHER
    )
    description = models.TextField(_("description"), blank=True, max_length=2000)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("indicator (考核指标)")
        verbose_name_plural = _("indicators")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The kinds and their parameters live with their computations.
        from .indicators import validate_params

        if self.kind:
            self.params = validate_params(self.kind, self.params)

    @property
    def is_amount(self) -> bool:
        return self.unit == IndicatorUnit.CNY

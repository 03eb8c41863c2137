"""The VIP area: tier levels and their parameters (changed only through approved
proposals), the nightly evaluation and its history, manual overrides, the VIP
status lifecycle, prospects to be won, transfers between managers with approval,
batch assignments; the reminders all of these send to managers are announced
(`vip.events`) and kept as alerts by keep close.

The customer's current tier and VIP status live on `customers.Customer` (`tier`,
`vip_status`: the codes search and the API read); everything here is how they got
there. The assignment table itself is `customers.CustomerAssignment`, written only
by `customers.services.assignment_set_primary` / `assignment_end_primary`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.approvals import ApprovalRecord, ApprovalStatus, ChangeProposal
from core.money import MONEY
from customers.crypto import cipher
from customers.querysets import CustomerHeldQuerySet

from .choices import (
    BatchSource,
    BatchStatus,
    OverrideEnd,
    ProspectSource,
    ProspectStatus,
    RunStatus,
    TierChangeSource,
    TransferStatus,
    VipStatus,
)
from .querysets import VipProspectQuerySet

# Tier codes go into generated SQL (vip.evaluation) as literals: keep them plain.
TIER_CODE_RE = r"^[a-z][a-z0-9_]{0,19}$"
tier_code_validator = RegexValidator(
    TIER_CODE_RE, _("Lower-case letters, digits and underscores, starting with a letter.")
)
# Its own encryption context: a prospect's number never decrypts as a customer's.
PROSPECT_MOBILE = "vip.prospect.mobile"


# What a violated constraint of a level says, and on which field.
LEVEL_CONSTRAINT_MESSAGES = {
    "tierlevel_threshold_positive": ("aum_threshold", _("The minimum average AUM must be more than 0.")),
    "tierlevel_interval_positive": (
        "contact_interval_days",
        _("The contact interval must be at least 1 day."),
    ),
    "tierlevel_one_threshold": (
        "aum_threshold",
        _("Another active level has this minimum average AUM: each needs its own."),
    ),
}


class TierLevel(models.Model):
    """A tier level (客户等级): the minimum average AUM over the policy's window and
    the service standard (contact at least every N days). Levels rank by threshold;
    a level is withdrawn (inactive), never deleted, because the history names it."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[tier_code_validator])
    name = models.CharField(_("name"), max_length=40)
    aum_threshold = models.DecimalField(_("minimum average AUM (CNY)"), **MONEY)
    contact_interval_days = models.PositiveSmallIntegerField(
        _("contact at least every (days)"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("tier level (客户等级)")
        verbose_name_plural = _("tier levels")
        ordering = ["-is_active", "-aum_threshold"]
        constraints = [
            models.CheckConstraint(condition=Q(aum_threshold__gt=0), name="tierlevel_threshold_positive"),
            models.CheckConstraint(
                condition=Q(contact_interval_days__gt=0), name="tierlevel_interval_positive"
            ),
            models.UniqueConstraint(
                fields=["aum_threshold"], condition=Q(is_active=True), name="tierlevel_one_threshold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        # The threshold constraint in words: a form would show a violated
        # constraint by its name. A field with an error here is not checked again
        # against the constraints.
        if self.aum_threshold is not None and self.aum_threshold <= 0:
            raise ValidationError({"aum_threshold": _("The minimum average AUM must be more than 0.")})

    def validate_constraints(self, exclude=None) -> None:
        """The constraints, a violated one said in words on its field rather than
        by its name (LEVEL_CONSTRAINT_MESSAGES)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            said = {str(c.get_violation_error_message()): c.name for c in self._meta.constraints}
            errors: dict[str, list] = {}
            for field, messages in exc.message_dict.items():
                for message in messages:
                    field_and_text = LEVEL_CONSTRAINT_MESSAGES.get(said.get(message, ""))
                    target, text = field_and_text or (field, message)
                    errors.setdefault(target, []).append(text)
            raise ValidationError(errors) from exc


class TierPolicy(models.Model):
    """The evaluation rules shared by every level (one row, id 1): the averaging
    window, the downgrade observation period, the potential-VIP rules, what makes a
    customer "major", and the limits of overrides and shares."""

    window_months = models.PositiveSmallIntegerField(
        _("averaging window (months)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    observation_months = models.PositiveSmallIntegerField(
        _("downgrade observation period (months)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    potential_distance_pct = models.DecimalField(
        _("potential VIP: within this % below the next level"),
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    growth_pct = models.DecimalField(
        # xgettext:no-python-format
        _("potential VIP: average AUM grown by this % on the previous window"),
        max_digits=7,
        decimal_places=2,
        default=30,
        validators=[MinValueValidator(1)],
    )
    growth_min_aum = models.DecimalField(
        _("potential VIP by growth: minimum average AUM (CNY)"), default=100000, **MONEY
    )
    major_share_pct = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("major customers: top % of a manager's book by AUM"),
        default=20,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    major_contact_interval_days = models.PositiveSmallIntegerField(
        _("major customers without a tier: contact at least every (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )
    override_max_days = models.PositiveSmallIntegerField(
        _("longest tier override (days)"), default=366, validators=[MinValueValidator(1)]
    )
    share_max_days = models.PositiveSmallIntegerField(
        _("longest temporary share (days)"), default=90, validators=[MinValueValidator(1)]
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("tier policy (等级规则)")
        verbose_name_plural = _("tier policy")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="tierpolicy_single_row")]

    def __str__(self) -> str:
        return str(_("Tier policy"))

    @classmethod
    def current(cls) -> TierPolicy:
        policy = cls.objects.filter(pk=1).first()
        return policy if policy is not None else cls(pk=1)


class ParameterProposal(ChangeProposal):
    """A proposed change of tier parameters (maker-checker): one parameter manager
    proposes, another parameter manager or a system administrator approves, and only
    then do the levels change. `changes` holds the new values, `base` the values they
    replace as they were when proposed (approval refuses if they moved since).
    Approved proposals are the parameters' history."""

    # changes: {"levels": {code: {field: value}}, "policy": {field: value}}; values as text

    class Meta:
        verbose_name = _("parameter proposal (参数变更申请)")
        verbose_name_plural = _("parameter proposals")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_parameterproposal", _("Can approve tier parameter proposals"))]
        indexes = [models.Index(fields=["status", "-proposed_at"], name="proposal_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class EvaluationRun(models.Model):
    """One run of the tier evaluation: when, for which business date, with which
    parameters, and what it changed."""

    as_of = models.DateField(_("business date"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    source = models.CharField(_("started by"), max_length=20, default="nightly")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict)
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("tier evaluation run")
        verbose_name_plural = _("tier evaluation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} {self.status}"


class TierChange(models.Model):
    """A change of a customer's tier (等级变动历史): from, to, when, by rule or by
    whom, and why. Rule changes carry the figures the rule saw."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.CharField(_("from"), max_length=20, blank=True)
    to_tier = models.CharField(_("to"), max_length=20, blank=True)
    effective_date = models.DateField(_("date"))
    source = models.CharField(_("by"), max_length=12, choices=TierChangeSource.choices)
    run = models.ForeignKey(
        EvaluationRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("run"),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    window_avg_aum = models.DecimalField(_("average AUM over the window"), null=True, blank=True, **MONEY)
    threshold = models.DecimalField(_("threshold"), null=True, blank=True, **MONEY)
    window_months = models.PositiveSmallIntegerField(null=True, blank=True)
    observation_months = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        permissions = [
            ("view_vip_report", _("Can view VIP reports")),
            ("export_vip_report", _("Can export VIP reports")),
        ]
        indexes = [
            models.Index(fields=["customer", "-effective_date", "-id"], name="tierchange_customer"),
            models.Index(fields=["effective_date"], name="tierchange_date"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.from_tier or '-'} -> {self.to_tier or '-'} {self.effective_date}"


class TierOverride(models.Model):
    """A manual tier set by a business manager, with a reason and an expiry. While it
    runs the evaluation keeps the customer at this tier; when it expires the rules
    take over again. At most one running override per customer."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tier_overrides"
    )
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    previous_tier = models.CharField(_("tier before"), max_length=20, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    expires_on = models.DateField(_("until (exclusive)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("set by")
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end"), max_length=10, choices=OverrideEnd.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier override")
        verbose_name_plural = _("tier overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_on__isnull=True), name="tieroverride_one_running"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("starts_on")), name="tieroverride_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.tier or '-'} until {self.expires_on}"


class VipStatusChange(models.Model):
    """A step of the VIP lifecycle: potential (by rule), to be won, registered (with
    benefits), liquidated (with a reason)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="vip_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=VipStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=VipStatus.choices, blank=True)
    effective_date = models.DateField(_("date"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    run = models.ForeignKey(EvaluationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier = models.CharField(_("tier then"), max_length=20, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    benefits = models.CharField(_("benefits"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("VIP status change")
        verbose_name_plural = _("VIP status changes")
        permissions = [("register_vip", _("Can register and liquidate VIPs"))]
        indexes = [
            models.Index(fields=["customer", "-effective_date", "-id"], name="vipchange_customer"),
            models.Index(fields=["to_status", "effective_date"], name="vipchange_status_date"),
            # the report's latest changes of a period, newest first
            models.Index(fields=["effective_date", "id"], name="vipchange_date"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.from_status or '-'} -> {self.to_status or '-'}"


class VipProspect(models.Model):
    """A VIP to be won (待挖掘VIP): a person who is not a customer yet, or a customer
    whose assets are mostly elsewhere, registered by the manager pursuing them."""

    name = models.CharField(_("name"), max_length=60)
    mobile_enc = models.TextField(_("mobile (encrypted)"), blank=True)
    mobile_suffix = models.CharField(max_length=4, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("existing customer"),
    )
    source = models.CharField(_("source"), max_length=20, choices=ProspectSource.choices)
    estimated_assets = models.DecimalField(_("estimated assets (CNY)"), **MONEY)
    held_at = models.CharField(_("assets now held at"), max_length=100, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("manager")
    )
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ProspectStatus.choices, default=ProspectStatus.OPEN
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    ENCRYPTED_FIELDS = {"mobile_enc": PROSPECT_MOBILE}  # re-encrypted by customers.keys

    objects = VipProspectQuerySet.as_manager()

    class Meta:
        verbose_name = _("VIP prospect (待挖掘VIP)")
        verbose_name_plural = _("VIP prospects")
        indexes = [
            models.Index(fields=["manager", "status"], name="prospect_manager"),
            models.Index(fields=["branch", "status"], name="prospect_branch"),
        ]

    def __str__(self) -> str:
        return f"prospect {self.pk} ({self.status})"

    @property
    def mobile(self) -> str:
        return cipher().decrypt(self.mobile_enc, context=PROSPECT_MOBILE) if self.mobile_enc else ""

    @mobile.setter
    def mobile(self, value: str) -> None:
        value = (value or "").strip()
        self.mobile_enc = cipher().encrypt(value, context=PROSPECT_MOBILE) if value else ""
        self.mobile_suffix = value[-4:]


class TransferRequest(ApprovalRecord):
    """A transfer of a customer from one manager to another (客户移交): requested
    with a reason, it takes effect only when a branch head or business manager other
    than the requester approves it. At most one waiting request per customer.
    `proposed_by` is the requester; a cancelled request is a withdrawn one."""

    APPROVAL_STATUSES = {
        ApprovalStatus.PENDING: TransferStatus.PENDING,
        ApprovalStatus.APPROVED: TransferStatus.APPROVED,
        ApprovalStatus.REJECTED: TransferStatus.REJECTED,
        ApprovalStatus.WITHDRAWN: TransferStatus.CANCELLED,
    }

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="transfer_requests"
    )
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from"),
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    batch = models.ForeignKey(
        "AssignmentBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer request (客户移交)")
        verbose_name_plural = _("transfer requests")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_transferrequest", _("Can approve customer transfers"))]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="pending"), name="transfer_one_pending"
            ),
        ]
        indexes = [models.Index(fields=["status", "-proposed_at"], name="transfer_status")]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.customer_id} ({self.status})"


class AssignmentBatch(models.Model):
    """A batch assignment: the rows (from an uploaded list or a search result) with
    what each will do, shown as a preview; executed on confirmation, after which
    each row says what it did. Kept in the database so any web process can show it."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=BatchSource.choices)
    filename = models.CharField(_("file"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    # [{"line", "customer_no", "manager", "reason", "outcome", "message"}]
    rows = models.JSONField(default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    executed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("batch assignment")
        verbose_name_plural = _("batch assignments")
        permissions = [
            ("assign_customer", _("Can assign customers to managers")),
            ("recall_customer", _("Can recall customers to the branch pool")),
            ("share_customer", _("Can share a customer with another manager for a time")),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.status})"


# --- figures kept for the pages (vip.services.figures) ------------------------------------


class FigureBuild(models.Model):
    """When the kept figures (`BookFigure`, `TierMonthFigure`) were last built from
    the customers and the tier history: the pages say so. One row, rewritten by
    each build; without it the pages read the live tables."""

    built_at = models.DateTimeField(_("built at"))
    business_date = models.DateField(_("business date"))
    # The months (YYYY-MM-01) of the tier figures in this build.
    months = models.JSONField(default=list)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("build of the VIP figures")
        verbose_name_plural = _("builds of the VIP figures")

    def __str__(self) -> str:
        return f"figures built {self.built_at:%Y-%m-%d %H:%M} ({self.business_date})"


class BookFigure(models.Model):
    """The customers (merged records aside) of one manager of record (none: the
    pool) homed at one branch and holding one tier ("" none): how many, their AUM
    and how many are registered VIPs. Summed per manager it is a book; per branch
    and tier, the VIP report's counts."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    home_branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    customers = models.IntegerField(_("customers"), default=0)
    aum = models.DecimalField(_("AUM (CNY)"), default=0, **MONEY)
    registered = models.IntegerField(_("registered VIPs"), default=0)

    class Meta:
        verbose_name = _("book figure")
        verbose_name_plural = _("book figures")
        # No unique key: the pages sum the rows, so two rows of one key (two
        # services adding the first customer of a key at once) count the same.
        indexes = [
            models.Index(fields=["manager", "home_branch", "tier"], name="book_figure_manager"),
            models.Index(fields=["home_branch", "tier"], name="book_figure_branch"),
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.home_branch_id} {self.tier or '-'}: {self.customers}"


class TierMonthFigure(models.Model):
    """The customers (merged records aside) homed at a branch whose tier history
    says they held `tier` at the end of `month` (the month's last day, today in the
    current month): the VIP report's tier migration starts from these."""

    month = models.DateField(_("month"), help_text="first day of the month")
    home_branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(_("tier"), max_length=20)
    customers = models.IntegerField(_("customers"), default=0)

    class Meta:
        verbose_name = _("tier figure of a month")
        verbose_name_plural = _("tier figures of a month")
        constraints = [
            models.UniqueConstraint(fields=["month", "home_branch", "tier"], name="tier_month_figure_once")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.home_branch_id} {self.tier}: {self.customers}"


class TierMigrationFigure(models.Model):
    """The customers (merged records aside) homed at a branch whose tier changed
    at least once after the end of `month_from` up to the end of `month_to`, by
    the tier they held at each end ("" none): the VIP report's tier migration is
    these beside the tiers held at the first month end (`TierMonthFigure`), which
    everybody else kept. One row per pair of the report's months, branch and pair
    of tiers that has such customers."""

    month_from = models.DateField(_("from month"), help_text="first day of the month")
    month_to = models.DateField(_("to month"), help_text="first day of the month")
    home_branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    from_tier = models.CharField(_("from"), max_length=20, blank=True)
    to_tier = models.CharField(_("to"), max_length=20, blank=True)
    customers = models.IntegerField(_("customers"), default=0)

    class Meta:
        verbose_name = _("tier migration figure")
        verbose_name_plural = _("tier migration figures")
        # No unique key, as BookFigure: the pages sum the rows.
        indexes = [
            models.Index(fields=["month_from", "month_to", "home_branch"], name="tier_migration_figure"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.month_from:%Y-%m}..{self.month_to:%Y-%m} {self.home_branch_id} "
            f"{self.from_tier or '-'} -> {self.to_tier or '-'}: {self.customers}"
        )


class WonLostDayFigure(models.Model):
    """The changes effective on one day of the customers homed at a branch, counted
    as the VIP report's "won and lost" counts them: VIPs registered and liquidated
    (`VipStatusChange`), customers who came into a tier from none and who dropped
    out of every tier (`TierChange`). Summed over a period's days it is that
    period's counts; the changes themselves are listed from their own tables."""

    day = models.DateField(_("date"))
    home_branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    registered = models.IntegerField(_("registered VIPs"), default=0)
    liquidated = models.IntegerField(_("liquidated VIPs"), default=0)
    entered = models.IntegerField(_("came into a tier"), default=0)
    dropped = models.IntegerField(_("left every tier"), default=0)

    class Meta:
        verbose_name = _("won and lost figure of a day")
        verbose_name_plural = _("won and lost figures of a day")
        # No unique key, as BookFigure: the pages sum the rows.
        indexes = [models.Index(fields=["day", "home_branch"], name="won_lost_day_figure")]

    def __str__(self) -> str:
        return f"{self.day} {self.home_branch_id}: +{self.registered} -{self.liquidated}"

"""Performance figures (docs/performance.md): periods, the FTP spreads they are
computed with (changed only through maker-checker approval), and each computation
of a period as a version with its figures per customer and per manager."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.approvals import ApprovalRecord, ApprovalStatus, ChangeProposal
from core.money import MONEY
from customers.models import Customer
from customers.querysets import CustomerHeldQuerySet

from .choices import DisputeClaim, PeriodKind, PeriodStatus, VersionStatus
from .querysets import ManagerResultManager, ManagerResultQuerySet
from .scheme_choices import (
    EDITABLE_STATUSES,
    FormulaKind,
    ManagerLevelCode,
    SchemeRole,
    SchemeStatus,
    TargetSource,
)

# Unrounded amounts: summed as they are and rounded once, per manager and figure.
EXACT: dict[str, Any] = {"max_digits": 30, "decimal_places": 10}


class Period(models.Model):
    """A calendar month (`YYYY-MM`), quarter (`YYYY-Qn`) or year (`YYYY`)."""

    code = models.CharField(_("period"), max_length=7, unique=True)
    kind = models.CharField(_("kind"), max_length=7, choices=PeriodKind.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    status = models.CharField(
        _("status"), max_length=6, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )

    class Meta:
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        ordering = ["-start", "kind"]

    def __str__(self) -> str:
        return self.code


class FtpSpreads(models.Model):
    """The net funds-transfer-pricing spread of each category: the bank's default
    (`period` empty) or a period's own. Written only by an approved `FtpProposal`."""

    period = models.OneToOneField(
        Period, null=True, blank=True, on_delete=models.PROTECT, related_name="ftp_spreads"
    )
    spreads = models.JSONField(_("spreads"), default=dict)  # {category: "0.0200"}
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("FTP spreads")
        verbose_name_plural = _("FTP spreads")
        constraints = [
            models.UniqueConstraint(fields=["period"], name="ftp_one_default", nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return str(self.period or _("default"))


class FtpProposal(ChangeProposal):
    """A proposed change of FTP spreads (maker-checker). changes: {"period": code or
    "", "spreads": {category: "0.0200"}}; base: the spreads it replaces."""

    class Meta:
        verbose_name = _("FTP spread proposal")
        verbose_name_plural = _("FTP spread proposals")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_ftpproposal", _("Can approve FTP spread proposals"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class ResultVersion(models.Model):
    """One computation of a period. Version 0 is the open period's provisional
    figures, computed again after every load; closing publishes version 1; a
    recalculation of a published period is version N+1, pending until a second
    person approves it. Every version stays readable."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=VersionStatus.choices)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)
    counted_through = models.DateField(_("counted through"), null=True, blank=True)
    counted_days = models.PositiveIntegerField(_("counted days"), default=0)
    ftp_spreads = models.JSONField(_("FTP spreads"), default=dict)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A proposed version is computed by a job after the proposal is saved (a period
    # takes about a minute at the bank's size, longer than a request may): until it
    # is done the version has no figures and cannot be approved; a failure says why.
    computing = models.BooleanField(_("being computed"), default=False)
    failure = models.CharField(_("computation failed"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("result version")
        verbose_name_plural = _("result versions")
        ordering = ["period", "-number"]
        constraints = [models.UniqueConstraint(fields=["period", "number"], name="version_number")]

    def __str__(self) -> str:
        return f"{self.period} v{self.number} ({self.status})"


class Publication(ApprovalRecord):
    """A version waiting for a second person before it becomes the period's published
    figures: the one that closes a period, or a recalculation of a published period
    (which replaces the published version only once approved)."""

    version = models.OneToOneField(ResultVersion, on_delete=models.CASCADE, related_name="publication")
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300)
    # What the version changes against the figures it would replace, per manager and
    # pool, written once it is computed (`publication.publication_changes_record`):
    # [{"manager": id or None, "branch": id, "before": {...}, "after": {...},
    #   "causes": ["data" | "rule" | "ownership", ...]}], amounts as exact text.
    changes = models.JSONField(_("changes"), null=True, blank=True)

    class Meta:
        verbose_name = _("publication of figures")
        verbose_name_plural = _("publications of figures")
        ordering = ["-proposed_at", "-id"]
        permissions = [
            ("propose_publication", _("Can close a period or recalculate a published one")),
            ("approve_publication", _("Can approve the publication of performance figures")),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.get_status_display()})"


class Figures(models.Model):
    """The figures of docs/performance.md, rounded half-up to 2 decimals once."""

    deposit_avg = models.DecimalField(_("deposits, daily average"), default=0, **MONEY)
    loan_avg = models.DecimalField(_("loans, daily average"), default=0, **MONEY)
    aum_avg = models.DecimalField(_("AUM, daily average"), default=0, **MONEY)
    liability = models.DecimalField(_("liability business"), default=0, **MONEY)
    asset = models.DecimalField(_("asset business"), default=0, **MONEY)
    intermediary = models.DecimalField(_("intermediary business"), default=0, **MONEY)
    total = models.DecimalField(_("contribution"), default=0, **MONEY)

    class Meta:
        abstract = True


class ManagerResult(Figures):
    """A manager's figures in a version; the row with no manager is a branch's
    customers on days they had no manager of record (its pool)."""

    version = models.ForeignKey(ResultVersion, on_delete=models.CASCADE, related_name="managers")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")

    objects = ManagerResultManager()

    class Meta:
        verbose_name = _("manager's figures")
        verbose_name_plural = _("managers' figures")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "manager", "branch"], name="manager_result_once", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} {self.manager_id or '-'} {self.branch_id}"


class CustomerResult(models.Model):
    """What one customer brought one manager (or the pool) in a version, unrounded:
    balance-days per kind and the contribution; the drill-down below a manager.

    A million rows a version, written only by the engine from rows that exist: the
    database keeps no foreign-key checks on them (deferred checks of every row
    doubled the time of a commit) and no index of its own on the version or the
    manager (the version-and-manager index serves every read by version).

    On PostgreSQL the table is partitioned by version (migration 0006): the engine
    writes a version's rows into a table of their own and swaps it in whole
    (`performance.engine`), instead of updating a million rows in place each night;
    rows written otherwise (the ORM) go to the default partition."""

    version = models.ForeignKey(
        ResultVersion, on_delete=models.CASCADE, related_name="customers", db_constraint=False, db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    deposit_days = models.DecimalField(_("deposit balance-days"), default=0, **EXACT)
    loan_days = models.DecimalField(_("loan balance-days"), default=0, **EXACT)
    aum_days = models.DecimalField(_("AUM balance-days"), default=0, **EXACT)
    liability = models.DecimalField(_("liability business"), default=0, **EXACT)
    asset = models.DecimalField(_("asset business"), default=0, **EXACT)
    intermediary = models.DecimalField(_("intermediary business"), default=0, **EXACT)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer's figures")
        verbose_name_plural = _("customers' figures")
        indexes = [models.Index(fields=["version", "manager"], name="customer_result_manager")]

    def __str__(self) -> str:
        return f"{self.version_id} {self.customer_id} {self.manager_id or '-'}"


# --- assessment schemes (考核方案), scores, ranks and grades ---------------------------------


class Scheme(ApprovalRecord):
    """An assessment scheme of a period for a role: indicators of the library with
    weights adding up to 100, a formula and a target each, and grade bands. Draft →
    pending → approved | rejected (a second person decides); only an approved scheme
    scores. An approved scheme is never edited: a copy is, and its approval
    supersedes the scheme it copies."""

    APPROVAL_STATUSES = {
        ApprovalStatus.PENDING: SchemeStatus.PENDING,
        ApprovalStatus.APPROVED: SchemeStatus.APPROVED,
        ApprovalStatus.REJECTED: SchemeStatus.REJECTED,
    }

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="schemes")
    role = models.CharField(_("assessed"), max_length=16, choices=SchemeRole.choices)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    copy_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        verbose_name=_("copy of"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # A draft is not proposed yet: submitting it is (nullable overrides of the base's fields).
    proposed_by = models.ForeignKey(  # type: ignore[assignment]
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)  # type: ignore[assignment]

    class Meta:
        verbose_name = _("assessment scheme (考核方案)")
        verbose_name_plural = _("assessment schemes")
        ordering = ["-period__start", "role", "-id"]
        permissions = [("approve_scheme", _("Can approve assessment schemes"))]
        constraints = [
            # one approved scheme of a period and role scores its units
            models.UniqueConstraint(
                fields=["period", "role"],
                condition=models.Q(status="approved"),
                name="scheme_one_approved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.name}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class SchemeIndicator(models.Model):
    """An indicator of a scheme: its weight, scoring formula (performance/formulas.py)
    and where its target comes from: one fixed target, a target per unit (set or
    imported from Excel), or the allocation of the marketing task that measures the
    same indicator over the same period."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.ForeignKey("marketing.Indicator", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    formula = models.CharField(_("formula"), max_length=10, choices=FormulaKind.choices)
    params = models.JSONField(_("formula parameters"), default=dict, blank=True)
    target_source = models.CharField(
        _("target"), max_length=8, choices=TargetSource.choices, default=TargetSource.FIXED
    )
    target = models.DecimalField(_("fixed target"), null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = _("scheme indicator")
        verbose_name_plural = _("scheme indicators")
        ordering = ["scheme", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "indicator"], name="scheme_indicator_once")]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.indicator_id} {self.weight}"


class SchemeTarget(models.Model):
    """The target of one assessed unit (a manager or a branch) for an indicator whose
    targets are per unit."""

    scheme_indicator = models.ForeignKey(SchemeIndicator, on_delete=models.CASCADE, related_name="targets")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target = models.DecimalField(_("target"), **MONEY)

    class Meta:
        verbose_name = _("assessment target")
        verbose_name_plural = _("assessment targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(manager__isnull=False, branch__isnull=True)
                | models.Q(manager__isnull=True, branch__isnull=False),
                name="scheme_target_manager_or_branch",
            ),
            models.UniqueConstraint(
                fields=["scheme_indicator", "manager"], name="scheme_target_manager_once"
            ),
            models.UniqueConstraint(fields=["scheme_indicator", "branch"], name="scheme_target_branch_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme_indicator_id} {self.manager_id or self.branch_id}: {self.target}"


class GradeBand(models.Model):
    """A grade of a scheme: from a minimum score, or for a top share of the peer group
    (cumulative percent: A 20, B 70, C 100)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="bands")
    label = models.CharField(_("grade"), max_length=20)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    min_score = models.DecimalField(_("minimum score"), max_digits=7, decimal_places=2, null=True, blank=True)
    share = models.DecimalField(
        _("top share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        ordering = ["scheme", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_score__isnull=False, share__isnull=True)
                | models.Q(min_score__isnull=True, share__isnull=False),
                name="grade_band_score_or_share",
            ),
            models.UniqueConstraint(fields=["scheme", "label"], name="grade_band_label_once"),
        ]

    def __str__(self) -> str:
        return self.label


# Scores are seen as the figures are: a client manager their own, a branch head their
# subtree's (the same scope, over the score's manager and branch).
ManagerScoreManager = models.Manager.from_queryset(ManagerResultQuerySet)


class ManagerScore(models.Model):
    """A unit's score in a version under an approved scheme: a client manager (with
    their branch) or a branch (manager empty). Rank 1 is the best of the peer group
    (same role, same branch level, same scheme); equal scores share a rank."""

    version = models.ForeignKey(ResultVersion, on_delete=models.CASCADE, related_name="scores")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="scores")
    role = models.CharField(_("assessed"), max_length=16, choices=SchemeRole.choices)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    peer_level = models.PositiveSmallIntegerField(_("peer group's branch level"))
    peers = models.PositiveIntegerField(_("peers"))
    score = models.DecimalField(_("score"), max_digits=9, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"))
    grade = models.CharField(_("grade"), max_length=20, blank=True)

    objects = ManagerScoreManager()

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "scheme", "manager", "branch"], name="score_once", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["version", "role", "manager"], name="score_version_manager")]

    def __str__(self) -> str:
        return f"{self.version_id} {self.manager_id or self.branch_id}: {self.score}"


class IndicatorScore(models.Model):
    """What one indicator gave a unit's score: the actual, the target, the weight, the
    formula's points (out of 100; negative for a deduction) and the score it adds."""

    manager_score = models.ForeignKey(ManagerScore, on_delete=models.CASCADE, related_name="indicators")
    scheme_indicator = models.ForeignKey(SchemeIndicator, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("indicator"), max_length=50)
    actual = models.DecimalField(_("actual"), **MONEY)
    target = models.DecimalField(_("target"), null=True, blank=True, **MONEY)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    points = models.DecimalField(_("points"), max_digits=9, decimal_places=2)
    score = models.DecimalField(_("score"), max_digits=9, decimal_places=2)

    class Meta:
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        ordering = ["manager_score", "scheme_indicator__position", "scheme_indicator_id"]

    def __str__(self) -> str:
        return f"{self.manager_score_id} {self.code}: {self.score}"


class ManagerLevel(models.Model):
    """A client manager's level (客户经理等级) from a published period on: the history
    of moves made by grades over consecutive published months
    (performance/levels.py). The latest row is the manager's level."""

    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=12, choices=ManagerLevelCode.choices)
    previous = models.CharField(_("previous level"), max_length=12, choices=ManagerLevelCode.choices)
    since = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+", verbose_name=_("from"))
    grades = models.JSONField(_("grades that moved it"), default=list)  # [[period, grade], ...]
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("client manager's level")
        verbose_name_plural = _("client managers' levels")
        ordering = ["manager", "-since__start", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["manager", "since"], name="manager_level_once_a_period")
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.level} ({self.since_id})"


class Dispute(ApprovalRecord):
    """A manager's dispute of whom a customer's days count for (`proposed_by` is the
    manager), decided by a branch head over the manager's branch. Approved, the
    assignment history of those days is corrected (`manager_of_record`; empty: the
    customer's home branch pool) and the periods holding them computed again: an
    open period at once, a closed one as a recalculation waiting for approval."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    claim = models.CharField(_("claim"), max_length=8, choices=DisputeClaim.choices)
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    manager_of_record = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("days count for"),
    )
    # what the outcome computed again: [{"period": code, "version": n, "status": ...}]
    recalculated = models.JSONField(_("recalculated"), default=list, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispute of credited days")
        verbose_name_plural = _("disputes of credited days")
        ordering = ["-proposed_at", "-id"]
        permissions = [("decide_dispute", _("Can decide disputes of credited customers"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="dispute_days"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id} {self.first_day}..{self.last_day} ({self.status})"

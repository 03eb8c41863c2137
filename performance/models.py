"""Performance figures (docs/performance.md): periods, the FTP spreads they are
computed with (changed only through maker-checker approval), and each computation
of a period as a version with its figures per customer and per manager."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.approvals import ApprovalRecord, ApprovalStatus, ChangeProposal
from core.money import MONEY
from customers.models import Customer
from customers.querysets import CustomerHeldQuerySet

from .choices import PeriodKind, PeriodStatus, VersionStatus
from .querysets import ManagerResultManager

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
    balance-days per kind and the contribution; the drill-down below a manager."""

    version = models.ForeignKey(ResultVersion, on_delete=models.CASCADE, related_name="customers")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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

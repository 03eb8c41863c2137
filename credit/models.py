"""Credit (docs/credit.md): the customer's written authorizations to query their
credit report, and the queries made with them, each approved by a second person."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.approvals import ApprovalRecord
from core.money import MONEY
from customers.choices import AccountCategory, RiskClass
from customers.models import Account, Customer
from customers.querysets import CustomerHeldQuerySet, HeldThroughAccount

from .buckets import OverdueBucket
from .choices import QueryPurpose, QueryStatus


class CreditAuthorization(models.Model):
    """A customer's written authorization (授权书) to query their credit report for a
    stated purpose, valid from the day signed to `valid_until`, unless revoked. The
    signed form itself is kept on paper or in the bank's imaging system: the portal
    records its reference."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="credit_authorizations", verbose_name=_("customer")
    )
    form_reference = models.CharField(_("scanned form reference"), max_length=60)
    purpose = models.CharField(_("purpose"), max_length=20, choices=QueryPurpose.choices)
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit-report authorization")
        verbose_name_plural = _("credit-report authorizations")
        indexes = [models.Index(fields=["customer", "valid_until"], name="credit_auth_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose} {self.signed_on}..{self.valid_until}"


class CreditQuery(ApprovalRecord):
    """A request to query a customer's credit report: who asked (`proposed_by`), for
    which purpose, under which authorization; refused at once without a valid one
    (`refusal`), else decided by a second person, then sent through the bureau
    adapter (`credit.bureau`), which returns a report reference."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="credit_queries", verbose_name=_("customer")
    )
    authorization = models.ForeignKey(
        CreditAuthorization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queries",
        verbose_name=_("authorization"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=QueryPurpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=QueryStatus.choices)
    refusal = models.CharField(_("reason refused"), max_length=200, blank=True)
    result_reference = models.CharField(_("report reference"), max_length=80, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failure = models.CharField(_("bureau error"), max_length=200, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit-report query")
        verbose_name_plural = _("credit-report queries")
        indexes = [
            models.Index(fields=["status", "proposed_at"], name="credit_query_status"),
            models.Index(fields=["proposed_by", "proposed_at"], name="credit_query_requester"),
        ]
        permissions = [
            ("approve_creditquery", _("Can approve credit-report queries")),
            ("view_credit_report", _("Can read the credit-risk reports")),
            ("export_credit_report", _("Can export the credit-risk reports")),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose} {self.status}"


# --- the credit-risk reports' figures (credit.risk_figures, docs/credit.md) -------------
# Small summary tables rebuilt set-based after each load, for the last
# RISK_FIGURE_MONTHS months: the report reads them, never the change log.


class RiskFigure(models.Model):
    """The loans and cards a branch books in a category at a month end (`as_of`: the
    month's last day, or the newest business date in the current month), in one
    bucket and one classification: how many, their balance and amount past due."""

    month = models.DateField(_("month"), help_text="first day of the month")
    as_of = models.DateField(_("as of"))
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch"))
    category = models.CharField(_("product line"), max_length=16, choices=AccountCategory.choices)
    bucket = models.PositiveSmallIntegerField(_("days past due"), choices=OverdueBucket.choices)
    risk_class = models.PositiveSmallIntegerField(_("classification"), choices=RiskClass.choices)
    accounts = models.PositiveIntegerField(_("accounts"))
    balance = models.DecimalField(_("balance (CNY)"), **MONEY)
    overdue_amount = models.DecimalField(_("amount past due (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("credit-risk figure")
        verbose_name_plural = _("credit-risk figures")
        indexes = [models.Index(fields=["month", "branch"], name="credit_risk_month_branch")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.branch_id} {self.category} {self.bucket} {self.risk_class}"


class RollRate(models.Model):
    """The loans and cards a branch books in a category that were in `from_bucket` at
    the previous month end and in `to_bucket` at this month's: how many, and their
    balance at this month end."""

    month = models.DateField(_("month"), help_text="first day of the month")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch"))
    category = models.CharField(_("product line"), max_length=16, choices=AccountCategory.choices)
    from_bucket = models.PositiveSmallIntegerField(
        _("bucket at the previous month end"), choices=OverdueBucket.choices
    )
    to_bucket = models.PositiveSmallIntegerField(_("bucket at the month end"), choices=OverdueBucket.choices)
    accounts = models.PositiveIntegerField(_("accounts"))
    balance = models.DecimalField(_("balance (CNY)"), **MONEY)

    class Meta:
        verbose_name = _("roll rate")
        verbose_name_plural = _("roll rates")
        indexes = [models.Index(fields=["month", "branch"], name="credit_roll_month_branch")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.branch_id} {self.category} {self.from_bucket}->{self.to_bucket}"


class Vintage(models.Model):
    """The loans and cards a branch booked in a category in the month `opened`, seen
    at the end of `month` (`months_on_book` later): how many were opened, how many
    of them were ever more than 30 days past due by then, and how many are now."""

    opened = models.DateField(_("opened in"), help_text="first day of the month")
    month = models.DateField(_("month"), help_text="first day of the month")
    months_on_book = models.PositiveSmallIntegerField(_("months on book"))
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", verbose_name=_("branch"))
    category = models.CharField(_("product line"), max_length=16, choices=AccountCategory.choices)
    accounts = models.PositiveIntegerField(_("accounts"))
    ever_past_due = models.PositiveIntegerField(_("ever 30+ days past due"))
    now_past_due = models.PositiveIntegerField(_("30+ days past due"))

    class Meta:
        verbose_name = _("vintage")
        verbose_name_plural = _("vintages")
        indexes = [models.Index(fields=["month"], name="credit_vintage_month")]

    def __str__(self) -> str:
        return f"{self.opened:%Y-%m}+{self.months_on_book} {self.branch_id} {self.category}"


class MonthEndSnapshot(models.Model):
    """That the loans and cards on book at a month end were recorded (`MonthEndStatus`):
    as of which day (the month's last day, or the newest business date in the current
    month) and with the balances of which date. The figures of a month are computed
    from its snapshot; a snapshot is written again when a load can change it."""

    month = models.DateField(_("month"), primary_key=True, help_text="first day of the month")
    as_of = models.DateField(_("as of"))
    balance_date = models.DateField(_("balance date"), null=True, blank=True)
    accounts = models.PositiveIntegerField(_("accounts"))
    written_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("month-end loan snapshot")
        verbose_name_plural = _("month-end loan snapshots")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} as of {self.as_of}"


class MonthEndStatus(models.Model):
    """A loan or card on book at a month end (`MonthEndSnapshot`): its branch and
    product line, bucket, classification, balance and amount past due that day. Kept
    for the report window and the month before it (its roll rates' start)."""

    pk = models.CompositePrimaryKey("month", "account_id")
    month = models.DateField(_("month"), help_text="first day of the month")
    # no foreign-key checks or extra indexes: a few hundred thousand rows a month are
    # written from the account table itself and read whole, month by month
    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    category = models.CharField(_("product line"), max_length=16, choices=AccountCategory.choices)
    bucket = models.PositiveSmallIntegerField(_("days past due"), choices=OverdueBucket.choices)
    risk_class = models.PositiveSmallIntegerField(_("classification"), choices=RiskClass.choices)
    balance = models.DecimalField(_("balance (CNY)"), **MONEY)
    overdue_amount = models.DecimalField(_("amount past due (CNY)"), **MONEY)

    objects = HeldThroughAccount.as_manager()

    class Meta:
        verbose_name = _("loan status at a month end")
        verbose_name_plural = _("loan statuses at month ends")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.account_id} {self.bucket} {self.risk_class}"

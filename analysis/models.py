"""Customer analysis (docs/analysis.md): per customer, rebuilt nightly and set-based
by `analysis.scoring`, their 12-month contribution, loyalty, churn risk, satisfaction,
value at risk and next best products, each with the reasons behind it; the churn
models trained monthly (`analysis.training`), versioned; the co-holding shares the
product recommendations stand on (`analysis.recommend`)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import MONEY
from customers.models import Customer
from customers.querysets import CustomerHeldQuerySet

from .choices import ChurnSource, ModelKind

RATIO: dict[str, Any] = {"max_digits": 12, "decimal_places": 4}


class ChurnModel(models.Model):
    """A trained churn model, one version per training: its coefficients over the
    standardised features, how well calibrated it is, and its back-test. The newest
    active one scores the customers; every version stays readable."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ModelKind.choices, default=ModelKind.LOGISTIC)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    as_of = models.DateField(_("history up to"))
    months = models.PositiveSmallIntegerField(_("months of history"))
    samples = models.PositiveIntegerField(_("customer-months trained on"))
    positives = models.PositiveIntegerField(_("of them left"))
    # {"intercept": float, "features": {name: {"coef": float, "mean": float, "scale": float}}}
    coefficients = models.JSONField(_("coefficients"), default=dict)
    # [{"low": float, "high": float, "predicted": float, "observed": float, "customers": int}, ...]
    calibration = models.JSONField(_("calibration"), default=list)
    # {"as_of": "YYYY-MM-DD", "flagged": int, "flagged_left": float, "others": int, "others_left": float}
    backtest = models.JSONField(_("back-test"), default=dict)
    # {"auc": float, "brier": float, ...} and the comparison of the candidates
    metrics = models.JSONField(_("measures"), default=dict)
    active = models.BooleanField(_("in use"), default=True)
    seconds = models.FloatField(_("training time (s)"), default=0)

    class Meta:
        verbose_name = _("churn model")
        verbose_name_plural = _("churn models")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.number}"


class CustomerAnalysis(models.Model):
    """One row per customer, rebuilt nightly (`analysis.scoring`). Money in CNY."""

    customer = models.OneToOneField(
        Customer,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="analysis",
        verbose_name=_("customer"),
    )
    as_of = models.DateField(_("computed for"))
    # contribution over the 12 months up to as_of (docs/performance.md), by business line
    contribution = models.DecimalField(_("12-month contribution"), default=0, **MONEY)
    contribution_liability = models.DecimalField(_("liability business"), default=0, **MONEY)
    contribution_asset = models.DecimalField(_("asset business"), default=0, **MONEY)
    contribution_intermediary = models.DecimalField(_("intermediary business"), default=0, **MONEY)
    # loyalty
    tenure_months = models.PositiveIntegerField(_("months with the bank"), default=0)
    product_depth = models.PositiveSmallIntegerField(_("kinds of product held"), default=0)
    wallet_trend = models.DecimalField(_("AUM against 12 months ago"), null=True, blank=True, **RATIO)
    rfm_score = models.PositiveSmallIntegerField(_("RFM score"), null=True, blank=True)
    loyalty = models.PositiveSmallIntegerField(_("loyalty (0-100)"), default=0)
    # churn: the features, then the probability
    aum = models.DecimalField(_("month-average AUM"), default=0, **MONEY)
    aum_change_3m = models.DecimalField(_("AUM change over 3 months"), null=True, blank=True, **RATIO)
    aum_change_6m = models.DecimalField(_("AUM change over 6 months"), null=True, blank=True, **RATIO)
    maturity_runoff = models.DecimalField(_("matured and not renewed"), default=0, **MONEY)
    outflow = models.DecimalField(_("largest monthly outflow"), default=0, **MONEY)
    dormant_days = models.PositiveIntegerField(_("days without a transaction"), null=True, blank=True)
    txn_change = models.DecimalField(
        _("transactions against the 3 months before"), null=True, blank=True, **RATIO
    )
    # the transactions txn_change compares (the last 90 days against the 90 before),
    # carried to the next night (analysis.features); empty on rows written before them
    txn_recent = models.PositiveIntegerField(_("transactions in the last 90 days"), null=True, blank=True)
    txn_before = models.PositiveIntegerField(_("transactions in the 90 days before"), null=True, blank=True)
    complaints = models.PositiveSmallIntegerField(_("complaints in 12 months"), default=0)
    service_requests = models.PositiveSmallIntegerField(_("service requests in 12 months"), default=0)
    manager_changed = models.BooleanField(_("new manager in the last 90 days"), default=False)
    churn_probability = models.DecimalField(_("churn probability"), default=0, max_digits=5, decimal_places=4)
    churn_source = models.CharField(
        _("churn from"), max_length=8, choices=ChurnSource.choices, default=ChurnSource.RULES
    )
    # no database constraint: a million rows checked at commit for one model row
    model = models.ForeignKey(
        ChurnModel,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("model"),
    )
    # satisfaction
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (0-100)"), default=0)
    # churn probability × 12-month contribution
    value_at_risk = models.DecimalField(_("value at risk"), default=0, **MONEY)
    # What the reasons are read from (analysis.reasons ranks them when a row is
    # shown, so the nightly write stores numbers only):
    # the month-average AUM 3, 6 and 12 months before as_of's month
    aum_3m = models.DecimalField(_("AUM 3 months before"), default=0, **MONEY)
    aum_6m = models.DecimalField(_("AUM 6 months before"), default=0, **MONEY)
    aum_12m = models.DecimalField(_("AUM 12 months before"), default=0, **MONEY)
    # how far each churn feature pushed the probability up: the model's bᵢ·zᵢ, or the
    # rules' points (analysis.scoring.push_sql)
    push_aum_change_3m = models.FloatField(_("push of the 3-month AUM change"), default=0)
    push_aum_change_6m = models.FloatField(_("push of the 6-month AUM change"), default=0)
    push_maturity_runoff = models.FloatField(_("push of the maturities not renewed"), default=0)
    push_outflow = models.FloatField(_("push of the largest outflow"), default=0)
    push_dormant_days = models.FloatField(_("push of the days without a transaction"), default=0)
    push_txn_change = models.FloatField(_("push of the transaction change"), default=0)
    push_complaints = models.FloatField(_("push of the complaints"), default=0)
    push_service_requests = models.FloatField(_("push of the service requests"), default=0)
    push_manager_changed = models.FloatField(_("push of a new manager"), default=0)
    # the loyalty parts' points
    loyalty_tenure = models.DecimalField(_("tenure points"), default=0, **RATIO)
    loyalty_depth = models.DecimalField(_("product depth points"), default=0, **RATIO)
    loyalty_wallet = models.DecimalField(_("share of wallet points"), default=0, **RATIO)
    loyalty_rfm = models.DecimalField(_("RFM points"), default=0, **RATIO)
    # the satisfaction parts: the rated contacts of 12 months, and the points
    rating_average = models.DecimalField(_("average rating"), null=True, blank=True, **RATIO)
    rating_count = models.PositiveIntegerField(_("rated contacts"), default=0)
    satisfaction_base = models.DecimalField(_("satisfaction to start from"), default=0, **RATIO)
    satisfaction_complaints = models.DecimalField(_("points off for complaints"), default=0, **RATIO)
    satisfaction_requests = models.DecimalField(_("points off for service requests"), default=0, **RATIO)
    # of the 12 months of contribution, how many had published and provisional figures
    months_published = models.PositiveSmallIntegerField(_("months of published figures"), default=0)
    months_provisional = models.PositiveSmallIntegerField(_("months of provisional figures"), default=0)
    # [{"product": id, "share": "0.3800", "held": category, "band": AUM band index,
    #   "customers": group size}, ...] best first (analysis.recommend)
    next_products = models.JSONField(_("next best products"), default=list)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer analysis")
        verbose_name_plural = _("customer analyses")
        indexes = [models.Index(fields=["-value_at_risk"], name="analysis_value_at_risk")]
        permissions = [
            ("view_analysis_report", _("Can read the customer analysis reports")),
            ("export_analysis_report", _("Can export the customer analysis reports")),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}"


class TransactionWindow(models.Model):
    """What the analysis rows' transaction counts (`txn_recent`, `txn_before`) were
    counted as of: the business date, the days of each half of the window and when
    the rows were written. One row, replaced with the analysis rows in the same
    transaction; the next night derives tonight's counts from them when nothing
    they were counted from changed since (`analysis.features.carried_window`)."""

    as_of = models.DateField(_("counted as of"))
    recent_days = models.PositiveSmallIntegerField(_("days in each half of the window"))
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("transaction window")

    def __str__(self) -> str:
        return f"{self.as_of} ({self.recent_days} days)"


class CoHolding(models.Model):
    """Among the customers of a group (a product kind they hold and an AUM band), the
    share that holds a product: what a recommendation's reason quotes
    ("of customers with a time deposit and AUM 500k-1m, 38% hold wealth products")."""

    as_of = models.DateField(_("computed for"))
    held = models.CharField(_("holding"), max_length=16)  # an account category
    aum_band = models.PositiveSmallIntegerField(_("AUM band"))  # analysis.recommend.AUM_BANDS index
    product = models.ForeignKey(
        "marketing.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    customers = models.PositiveIntegerField(_("customers in the group"))
    holders = models.PositiveIntegerField(_("of them holding the product"))
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4)

    class Meta:
        verbose_name = _("co-holding")
        constraints = [
            models.UniqueConstraint(fields=["held", "aum_band", "product"], name="coholding_group_product")
        ]

    def __str__(self) -> str:
        return f"{self.held}/{self.aum_band} {self.product_id} {self.share}"

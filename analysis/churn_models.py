"""Reads of the churn model versions for their pages (head office and the auditor).

A version holds no customer's data: coefficients, counts and shares over the whole
bank's history, so its pages are held by permission (analysis.view_churnmodel)
rather than narrowed to a data scope.

- `churn_model_versions()`: every version, newest first (pages of it: one count,
  one page query);
- `churn_model_in_use()`: the version the nightly scoring uses, or None (the rules);
- `churn_model_by_number(number)`: one version, or Http404;
- `model_card(model)`: what a page shows of a version: its coefficients by feature
  label (never a feature's code), the calibration table and the back-test, as
  percentages where they are shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import ChurnModel, CustomerAnalysis
from .training import FLAG_AT, HORIZON, MIN_LEFT, MIN_MONTHS


def churn_model_versions() -> QuerySet[ChurnModel]:
    return ChurnModel.objects.order_by("-number")


def churn_model_in_use() -> ChurnModel | None:
    return ChurnModel.objects.filter(active=True).order_by("-number").first()


def churn_model_by_number(number: int) -> ChurnModel:
    model = ChurnModel.objects.filter(number=number).first()
    if model is None:
        raise Http404(_("No churn model of this version."))
    return model


def feature_label(name: str) -> str:
    """A feature's label: the one its column has on the customer's analysis."""
    try:
        field = CustomerAnalysis._meta.get_field(name)
    except FieldDoesNotExist:
        return _("A feature no longer computed")
    return str(getattr(field, "verbose_name", name))


@dataclass(frozen=True)
class CoefficientRow:
    label: str
    coef: float
    mean: float
    scale: float

    @property
    def direction(self) -> int:
        """1 when a higher value raises the probability, -1 when it lowers it."""
        return (self.coef > 0) - (self.coef < 0)


@dataclass(frozen=True)
class CalibrationRow:
    low: float  # percentages
    high: float
    predicted: float
    observed: float
    customers: int


@dataclass(frozen=True)
class ModelCard:
    model: ChurnModel
    intercept: float | None
    coefficients: list[CoefficientRow]  # largest effect first
    calibration: list[CalibrationRow]
    backtest: dict[str, Any] | None  # shares as percentages
    auc: float | None
    brier: float | None
    holdout: str | None


def model_card(model: ChurnModel) -> ModelCard:
    stored = model.coefficients or {}
    rows = [
        CoefficientRow(
            label=feature_label(name),
            coef=float(values["coef"]),
            mean=float(values["mean"]),
            scale=float(values["scale"]),
        )
        for name, values in (stored.get("features") or {}).items()
    ]
    rows.sort(key=lambda row: -abs(row.coef))
    calibration = [
        CalibrationRow(
            low=100 * row["low"],
            high=100 * row["high"],
            predicted=100 * row["predicted"],
            observed=100 * row["observed"],
            customers=int(row["customers"]),
        )
        for row in model.calibration or []
    ]
    test = model.backtest or None
    if test:
        test = {
            **test,
            "flagged_left": 100 * test["flagged_left"],
            "others_left": 100 * test["others_left"],
        }
    metrics = model.metrics or {}
    return ModelCard(
        model=model,
        intercept=stored.get("intercept"),
        coefficients=rows,
        calibration=calibration,
        backtest=test,
        auc=metrics.get("auc"),
        brier=metrics.get("brier"),
        holdout=metrics.get("holdout"),
    )


def training_requirements() -> dict[str, int]:
    """What "enough history" is, for the page that says why no model scores yet."""
    return {"months": MIN_MONTHS, "left": MIN_LEFT, "horizon": HORIZON, "flag_at": round(100 * FLAG_AT)}

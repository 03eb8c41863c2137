"""The churn model's monthly training (docs/analysis.md, "Churn probability").

    train(*, by=None) -> TrainingOutcome

1. The history: the months of monthly AUM (`CustomerMonthlyAum`). Training needs
   `MIN_MONTHS` of them and `MIN_LEFT` customers who left; short of either it
   records nothing and says why, and the nightly scoring keeps to the rules.
2. The training set: every month `m` whose outcome 3 months later is known (the
   history has month `m + 3`), the features as of `m`'s last day
   (`analysis.features.write_features`, imputed as `MODEL_INPUTS` says) of the
   customers with a month-average AUM of at least `MIN_AUM` in `m` who had not
   left already (their AUM of `m` not below `LEFT_BELOW` of that 3 months before),
   labelled "left" when their month-average AUM of `m + 3` is below `LEFT_BELOW`
   of `m`'s.
   Built set-based, one month-end at a time, and read straight into numpy arrays
   (binary COPY on PostgreSQL, chunks elsewhere): a million customers over a year
   is about nine million rows, never Python objects.
3. Three fits of a logistic regression over the standardised inputs: the model
   kept (every month-end), the hold-out model (all but the newest month-end where
   some customers left, which it is measured on: AUC, Brier score, calibration by
   tenths) and the back-test
   model (only the outcomes known 3 months before the newest one: what it would
   have flagged then, and who of them left).
4. A new `ChurnModel` version, the only one in use, audited.

The stored coefficients reproduce the fitted model exactly:
p = 1 / (1 + exp(−(intercept + Σ coef · (x − mean) / scale))) (`probabilities`).
"""

from __future__ import annotations

import datetime
import logging
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from core.months import month_back, month_end
from customers.models import CustomerMonthlyAum

from .choices import ModelKind
from .features import FEATURES, MODEL_INPUTS, write_features
from .models import ChurnModel

logger = logging.getLogger(__name__)

MIN_MONTHS = 9  # months of monthly AUM before a model is trained
MIN_LEFT = 50  # customers who left, in the training population
MIN_AUM = 1000  # month-average AUM of the month scored: the population
LEFT_BELOW = 0.1  # left: AUM of m + 3 below this share of m's
HORIZON = 3  # months between the features and the outcome
FLAG_AT = 0.5  # the back-test flags the customers at or above this probability
CALIBRATION_BINS = 10

# The audit action of a training (a new version of what the scoring runs on).
TRAINED_ACTION = Action.CHURN_MODEL_TRAINED

FEATURE_TABLE = "analysis_training_features"


@dataclass(frozen=True)
class TrainingOutcome:
    """What a training did: a new model, or why none was trained."""

    model: ChurnModel | None
    message: str
    months: int = 0
    samples: int = 0
    positives: int = 0
    leavers: int = 0
    seconds: float = 0.0

    @property
    def trained(self) -> bool:
        return self.model is not None

    def __str__(self) -> str:
        return self.message


@dataclass
class TrainingSet:
    """Customer-months as arrays: inputs (one column per feature, FEATURES order),
    left (0/1) and the index of the month-end in `month_ends` each row is of."""

    month_ends: list[datetime.date]
    inputs: np.ndarray
    left: np.ndarray
    month: np.ndarray
    duration: np.ndarray | None = None  # months until leaving (3: stayed), when asked for

    def __len__(self) -> int:
        return int(self.left.shape[0])

    def where(self, rows: np.ndarray) -> TrainingSet:
        duration = self.duration[rows] if self.duration is not None else None
        return TrainingSet(self.month_ends, self.inputs[rows], self.left[rows], self.month[rows], duration)

    def of_months(self, months: Iterable[datetime.date]) -> TrainingSet:
        chosen = set(months)
        wanted = [i for i, m in enumerate(self.month_ends) if m in chosen]
        return self.where(np.isin(self.month, np.asarray(wanted, dtype=self.month.dtype)))


@dataclass
class Fitted:
    """A fitted model in the stored form, and what sklearn made of it."""

    coefficients: dict[str, Any]
    estimator: Any = field(repr=False)


# --------------------------------------------------------------------------- history


def history_months() -> list[datetime.date]:
    """The months (first days) of the monthly AUM history, oldest first."""
    return sorted(CustomerMonthlyAum.objects.order_by().values_list("month", flat=True).distinct())


def outcome_months(months: Sequence[datetime.date]) -> list[datetime.date]:
    """The months whose outcome `HORIZON` months later is in the history."""
    known = set(months)
    return [m for m in months if month_back(m, -HORIZON) in known]


# The customers of the training population of month %(month)s who left by
# %(later)s: month-average AUM of at least MIN_AUM in the month and not below
# LEFT_BELOW of that 3 months before (%(before)s: a customer who has left already
# cannot leave again, and would teach the model that the deepest falls stay),
# below LEFT_BELOW of it (or none at all) 3 months later. Only the monthly AUM is
# read: the refusal for too few leavers costs a scan, not the features.
LEAVERS_SQL = """
SELECT now.customer_id
  FROM customers_customermonthlyaum now
  LEFT JOIN customers_customermonthlyaum later
         ON later.customer_id = now.customer_id AND later.month = %(later)s
  LEFT JOIN customers_customermonthlyaum before
         ON before.customer_id = now.customer_id AND before.month = %(before)s
 WHERE now.month = %(month)s
   AND now.avg_aum >= %(min_aum)s
   AND now.avg_aum >= %(left_below)s * COALESCE(before.avg_aum, 0)
   AND COALESCE(later.avg_aum, 0) < %(left_below)s * now.avg_aum
"""


def leavers(months: Sequence[datetime.date]) -> int:
    """Distinct customers who left by `m + 3` from the population of any month `m`
    of `months`."""
    found: set[int] = set()
    with connection.cursor() as cursor:
        for month in months:
            cursor.execute(LEAVERS_SQL, _label_params(month))
            found.update(row[0] for row in cursor.fetchall())
    return len(found)


def _label_params(month: datetime.date) -> dict[str, Any]:
    return {
        "month": month,
        "later": month_back(month, -HORIZON),
        "before": month_back(month, HORIZON),
        "min_aum": MIN_AUM,
        "left_below": LEFT_BELOW,
    }


# --------------------------------------------------------------------------- the set

# One month-end's rows: the model's inputs (features.MODEL_INPUTS, as doubles so
# that they reach numpy as floats, never Decimals), then the label. The population
# is read from the features' own `aum` and `aum_3m` (the month-average AUM of the
# month and of 3 months before, as LEAVERS_SQL); the outcome from the monthly AUM
# 3 months later.
TRAINING_ROWS_SQL = """
SELECT {inputs},
       CAST(CASE WHEN COALESCE(later.avg_aum, 0) < %(left_below)s * f.aum THEN 1 ELSE 0 END
            AS DOUBLE PRECISION)
       {duration}
  FROM (SELECT customer_id, aum, aum_3m, {columns} FROM {table}) f
  LEFT JOIN customers_customermonthlyaum later
         ON later.customer_id = f.customer_id AND later.month = %(later)s
  {duration_joins}
 WHERE f.aum >= %(min_aum)s AND f.aum >= %(left_below)s * COALESCE(f.aum_3m, 0)
"""

# For a survival model (the comparison in bench/analysis_models.py): the months
# until the customer left, 1 when their AUM was already below the mark from m + 1
# on, 2 from m + 2, else 3 (also for those who stayed: censored at the horizon).
DURATION_SQL = """,
       CAST(CASE WHEN COALESCE(m1.avg_aum, 0) < %(left_below)s * f.aum
                  AND COALESCE(m2.avg_aum, 0) < %(left_below)s * f.aum THEN 1
                 WHEN COALESCE(m2.avg_aum, 0) < %(left_below)s * f.aum THEN 2
                 ELSE 3 END AS DOUBLE PRECISION)"""
DURATION_JOINS = """
  LEFT JOIN customers_customermonthlyaum m1 ON m1.customer_id = f.customer_id AND m1.month = %(next1)s
  LEFT JOIN customers_customermonthlyaum m2 ON m2.customer_id = f.customer_id AND m2.month = %(next2)s"""


def _rows_sql(table: str, *, durations: bool = False) -> str:
    columns = ", ".join(f"{MODEL_INPUTS[name]} AS {name}" for name in FEATURES)
    inputs = ", ".join(f"CAST(f.{name} AS DOUBLE PRECISION)" for name in FEATURES)
    return TRAINING_ROWS_SQL.format(
        inputs=inputs,
        columns=columns,
        table=table,
        duration=DURATION_SQL if durations else "",
        duration_joins=DURATION_JOINS if durations else "",
    )


def training_set(
    month_ends: Sequence[datetime.date], *, dtype: Any = np.float32, durations: bool = False
) -> TrainingSet:
    """The customer-months of `month_ends` (first days of months whose outcome is
    known), one month-end at a time: its features written set-based, then read into
    arrays. Temporary tables and the reads share one connection and transaction.
    `durations`: also the months until each customer left (DURATION_SQL)."""
    width = len(FEATURES)
    columns = width + 1 + int(durations)
    # each month-end's block is narrowed to its final types at once, so that the
    # doubles of one month-end at most are held beside the whole set
    inputs: list[np.ndarray] = [np.empty((0, width), dtype=dtype)]
    left: list[np.ndarray] = [np.empty(0, dtype=np.int8)]
    duration: list[np.ndarray] = [np.empty(0, dtype=np.int8)]
    months: list[np.ndarray] = [np.empty(0, dtype=np.int16)]
    sql = _rows_sql(FEATURE_TABLE, durations=durations)
    with transaction.atomic(), connection.cursor() as cursor:
        for index, month in enumerate(month_ends):
            write_features(cursor, month_end(month), table=FEATURE_TABLE)
            params = _label_params(month)
            if durations:
                params.update(next1=month_back(month, -1), next2=month_back(month, -2))
            block = _read_floats(cursor, sql, params, columns)
            inputs.append(block[:, :width].astype(dtype))
            left.append(block[:, width].astype(np.int8))
            if durations:
                duration.append(block[:, width + 1].astype(np.int8))
            months.append(np.full(block.shape[0], index, dtype=np.int16))
        cursor.execute(f"DROP TABLE IF EXISTS {FEATURE_TABLE}")
    return TrainingSet(
        month_ends=list(month_ends),
        inputs=np.concatenate(inputs),
        left=np.concatenate(left),
        month=np.concatenate(months),
        duration=np.concatenate(duration) if durations else None,
    )


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = len(_COPY_SIGNATURE) + 8  # flags and header-extension length, both 0


def _read_floats(cursor, sql: str, params: dict[str, Any], width: int) -> np.ndarray:
    """The rows of a query of `width` non-null double columns as an (n, width) array.

    PostgreSQL: binary COPY, whose rows of fixed-size doubles numpy reads as a
    record array in one step (five times faster than fetching tuples). Elsewhere:
    the rows in chunks."""
    if connection.vendor == "postgresql":
        chunks: list[bytes] = []
        raw = cursor.cursor
        # COPY takes no server-side parameters: the values are bound in the text
        # (dates and numbers of our own, never user input).
        query = raw.mogrify(sql, params)
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
            chunks.extend(bytes(chunk) for chunk in copy)
        data = b"".join(chunks)
        if not data.startswith(_COPY_SIGNATURE):
            raise ValueError("unexpected COPY output")
        (extension,) = struct.unpack(">I", data[_COPY_HEADER - 4 : _COPY_HEADER])
        body = data[_COPY_HEADER + extension : -2]  # the trailer is a field count of -1
        record = np.dtype(
            [("fields", ">i2")]
            + [(f"{kind}{i}", t) for i in range(width) for kind, t in (("n", ">i4"), ("v", ">f8"))]
        )
        records = np.frombuffer(body, dtype=record) if len(body) % record.itemsize == 0 else None
        if records is None or not all((records[f"n{i}"] == 8).all() for i in range(width)):
            # a NULL (a feature MODEL_INPUTS does not impute) or a column not a double
            raise ValueError("the training rows are not all non-null doubles")
        return np.column_stack([records[f"v{i}"].astype(np.float64) for i in range(width)]).reshape(-1, width)
    cursor.execute(sql, params)
    parts = []
    while rows := cursor.fetchmany(20_000):
        parts.append(np.asarray(rows, dtype=np.float64))
    return np.concatenate(parts) if parts else np.empty((0, width))


# --------------------------------------------------------------------------- fitting


def fit(inputs: np.ndarray, left: np.ndarray) -> Fitted:
    """A logistic regression over the standardised inputs. A feature that does not
    vary keeps a scale of 1 (its standardised value is 0 everywhere)."""
    from sklearn.linear_model import LogisticRegression

    mean = inputs.mean(axis=0, dtype=np.float64)
    scale = inputs.std(axis=0, dtype=np.float64)
    scale[scale == 0] = 1.0
    standardised = ((inputs - mean) / scale).astype(inputs.dtype, copy=False)
    estimator = LogisticRegression(max_iter=1000)
    estimator.fit(standardised, left)
    coef = estimator.coef_[0]
    coefficients = {
        "intercept": float(estimator.intercept_[0]),
        "features": {
            name: {"coef": float(coef[i]), "mean": float(mean[i]), "scale": float(scale[i])}
            for i, name in enumerate(FEATURES)
        },
    }
    return Fitted(coefficients=coefficients, estimator=estimator)


def probabilities(coefficients: dict[str, Any], inputs: np.ndarray) -> np.ndarray:
    """The churn probability of each row of `inputs` (FEATURES order) under stored
    coefficients: what the nightly scoring computes in SQL."""
    features = coefficients["features"]
    coef = np.array([features[name]["coef"] for name in FEATURES], dtype=np.float64)
    mean = np.array([features[name]["mean"] for name in FEATURES], dtype=np.float64)
    scale = np.array([features[name]["scale"] for name in FEATURES], dtype=np.float64)
    z = coefficients["intercept"] + ((np.asarray(inputs, dtype=np.float64) - mean) / scale) @ coef
    return 1.0 / (1.0 + np.exp(-z))


def calibration_table(predicted: np.ndarray, left: np.ndarray) -> list[dict[str, Any]]:
    """Predicted against observed by tenths of the predicted probability (empty
    tenths left out)."""
    bins = np.minimum((predicted * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    table = []
    for b in range(CALIBRATION_BINS):
        rows = bins == b
        customers = int(rows.sum())
        if customers:
            table.append(
                {
                    "low": b / CALIBRATION_BINS,
                    "high": (b + 1) / CALIBRATION_BINS,
                    "predicted": round(float(predicted[rows].mean()), 4),
                    "observed": round(float(left[rows].mean()), 4),
                    "customers": customers,
                }
            )
    return table


def _both_outcomes(left: np.ndarray) -> bool:
    return bool(left.size) and 0 < int(left.sum()) < left.size


def holdout_month(data: TrainingSet) -> int | None:
    """The index of the hold-out month-end: the newest one where some customers
    left and others stayed (a month-end where nobody left measures nothing), with
    both outcomes in the other month-ends too."""
    months = len(data.month_ends)
    rows = np.bincount(data.month, minlength=months)
    left = np.bincount(data.month, weights=data.left, minlength=months)
    for index in range(months - 1, -1, -1):
        rest_rows, rest_left = rows.sum() - rows[index], left.sum() - left[index]
        if 0 < left[index] < rows[index] and 0 < rest_left < rest_rows:
            return index
    return None


def holdout_measures(data: TrainingSet) -> dict[str, Any]:
    """Fit on all but the hold-out month-end (`holdout_month`), measured on it: AUC,
    Brier score and the calibration table. Empty when no month-end can tell."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    index = holdout_month(data)
    if index is None:
        return {}
    train, test = data.where(data.month != index), data.where(data.month == index)
    predicted = probabilities(fit(train.inputs, train.left).coefficients, test.inputs)
    return {
        "auc": round(float(roc_auc_score(test.left, predicted)), 4),
        "brier": round(float(brier_score_loss(test.left, predicted)), 4),
        "holdout": month_end(data.month_ends[index]).isoformat(),
        "holdout_samples": len(test),
        "calibration": calibration_table(predicted, test.left),
    }


def backtest(data: TrainingSet) -> dict[str, Any]:
    """The model as it would have been trained 3 months before the newest known
    outcome (only the outcomes known then) scores the customers as of that date:
    of those it flags (probability ≥ FLAG_AT), the share who left, against the share
    of the others. Shares are 0–1. Empty when that model cannot be trained."""
    as_of = data.month_ends[-1]
    known_then = [m for m in data.month_ends if month_back(m, -HORIZON) <= as_of]
    train, scored = data.of_months(known_then), data.of_months([as_of])
    if not _both_outcomes(train.left) or not len(scored):
        return {}
    predicted = probabilities(fit(train.inputs, train.left).coefficients, scored.inputs)
    flagged = predicted >= FLAG_AT
    flagged_n, others_n = int(flagged.sum()), int((~flagged).sum())
    return {
        "as_of": month_end(as_of).isoformat(),
        "flagged": flagged_n,
        "flagged_left": round(float(scored.left[flagged].mean()), 4) if flagged_n else 0.0,
        "others": others_n,
        "others_left": round(float(scored.left[~flagged].mean()), 4) if others_n else 0.0,
    }


# --------------------------------------------------------------------------- training


def train(*, by: Any = None, unless_trained: bool = False) -> TrainingOutcome:
    """Train a new version on the whole history, or say why there is not enough of
    it (nothing recorded then). `unless_trained`: nothing either when the version in
    use was trained on the same history (a monthly job run again)."""
    started = time.monotonic()
    months = history_months()
    if unless_trained and months:
        current = ChurnModel.objects.filter(
            active=True, as_of=_history_end(months[-1]), months=len(months)
        ).first()
        if current is not None:
            return TrainingOutcome(
                model=None,
                months=len(months),
                message=_(
                    "No model trained: version %(number)s is already trained on the history up to %(as_of)s."
                )
                % {"number": current.number, "as_of": current.as_of.isoformat()},
            )
    if len(months) < MIN_MONTHS:
        return TrainingOutcome(
            model=None,
            months=len(months),
            message=_(
                "No model trained: %(months)s months of monthly AUM, at least %(needed)s needed. "
                "The rules score the customers meanwhile."
            )
            % {"months": len(months), "needed": MIN_MONTHS},
        )
    month_ends = outcome_months(months)
    left_customers = leavers(month_ends)
    if left_customers < MIN_LEFT:
        return TrainingOutcome(
            model=None,
            months=len(months),
            leavers=left_customers,
            message=_(
                "No model trained: %(left)s customers left in the history, at least %(needed)s needed. "
                "The rules score the customers meanwhile."
            )
            % {"left": left_customers, "needed": MIN_LEFT},
        )
    data = training_set(month_ends)
    read_seconds = time.monotonic() - started
    kept = fit(data.inputs, data.left)
    measures = holdout_measures(data)
    calibration = measures.pop("calibration", [])
    tested = backtest(data)
    seconds = time.monotonic() - started
    measures.update(
        {
            "leavers": left_customers,
            "month_ends": len(month_ends),
            "read_seconds": round(read_seconds, 2),
            "iterations": int(np.max(kept.estimator.n_iter_)),
        }
    )
    model = churn_model_record(
        as_of=_history_end(months[-1]),
        months=len(months),
        samples=len(data),
        positives=int(data.left.sum()),
        coefficients=kept.coefficients,
        calibration=calibration,
        backtest=tested,
        metrics=measures,
        seconds=round(seconds, 2),
        by=by,
    )
    logger.info("churn model v%s trained on %s customer-months in %.1f s", model.number, len(data), seconds)
    return TrainingOutcome(
        model=model,
        months=len(months),
        samples=len(data),
        positives=model.positives,
        leavers=left_customers,
        seconds=seconds,
        message=_(
            "Churn model version %(number)s trained on %(samples)s customer-months "
            "(%(positives)s left) over %(months)s months in %(seconds).1f s; now in use."
        )
        % {
            "number": model.number,
            "samples": len(data),
            "positives": model.positives,
            "months": len(months),
            "seconds": seconds,
        },
    )


def _history_end(newest_month: datetime.date) -> datetime.date:
    """The last day the history covers: its newest month's end, or the business date
    when that month is still running."""
    from vip.evaluation import current_business_date

    return min(month_end(newest_month), max(current_business_date(), newest_month))


def churn_model_record(
    *,
    as_of: datetime.date,
    months: int,
    samples: int,
    positives: int,
    coefficients: dict[str, Any],
    calibration: list[dict[str, Any]],
    backtest: dict[str, Any],
    metrics: dict[str, Any],
    seconds: float,
    by: Any = None,
) -> ChurnModel:
    """Record a new version (the previous number + 1) and put it in use: the
    versions in use are locked and retired in the same transaction, so two trainings
    at once cannot both end up in use; every version stays readable."""
    with transaction.atomic():
        list(ChurnModel.objects.select_for_update().filter(active=True).values_list("pk", flat=True))
        previous = ChurnModel.objects.aggregate(n=Max("number"))["n"] or 0
        retired = list(ChurnModel.objects.filter(active=True).values_list("number", flat=True))
        ChurnModel.objects.filter(active=True).update(active=False)
        model = ChurnModel(
            number=previous + 1,
            kind=ModelKind.LOGISTIC,
            as_of=as_of,
            months=months,
            samples=samples,
            positives=positives,
            coefficients=coefficients,
            calibration=calibration,
            backtest=backtest,
            metrics=metrics,
            active=True,
            seconds=seconds,
        )
        # a version may have no calibration or back-test (no month-end could tell):
        # those are empty on purpose, not missing
        model.full_clean(exclude=["calibration", "backtest", "metrics"])
        model.save()
        audit(
            TRAINED_ACTION,
            actor=by,
            target=model,
            details={
                "version": model.number,
                "retired": retired,
                "samples": samples,
                "positives": positives,
                "auc": metrics.get("auc"),
                "brier": metrics.get("brier"),
            },
        )
    return model

"""Benchmark: the churn model the portal trains (a logistic regression over the
standardised features, analysis.training) against a survival model of the same
customer-months (lifelines' CoxPHFitter, when lifelines is installed: it is not a
requirement of the portal) and a second sklearn model (gradient-boosted trees), in
the same run, on the same rows, measured on the same hold-out.

    .venv/bin/python bench/analysis_models.py --synthetic 200000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/analysis_models.py [--cox-sample 300000]

--synthetic N: no database. N customers over 9 month-ends whose outcome is known;
each customer-month's features drawn as a bank's look (most AUM steady, some
falling; matured deposits, outflows, dormancy, complaints...), its departure drawn
from a monthly hazard that grows with a fall of the AUM over 3 months (a step at
-30%, as the rules have it), with dormancy, run-off and complaints: a rule neither
model has the exact form of. The first 8 month-ends train, the 9th is the hold-out.

Without --synthetic: the database of DATABASE_URL (seeded, with customers who left:
bench/analysis.py --prepare): the training set as analysis.training reads it (timed:
features written set-based, binary COPY into numpy), with the months until each
customer left for the survival model; the hold-out is the newest month-end where some
customers left (analysis.training.holdout_month), as in the training.

For each model: the AUC of the 3-month churn probability on the hold-out (for the
Cox model also its concordance, the same figure for a survival model), the Brier
score, and the training seconds. The Cox model is trained on a random sample of at
most --cox-sample rows (lifelines fits in pandas and needs minutes beyond that); the
logistic regression is also fitted on that very sample, so that the comparison is
on equal rows. The Cox fit has an L2 penalty (--cox-penalizer, 0.1 by default): on a
seeded bench database, whose leavers all follow one pattern, a lighter one separates
and its ranking comes out meaningless (AUC 0.06 at 0.001).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HORIZON = 3


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- data


def synthetic(customers: int, month_ends: int = 9, seed: int = 1):
    """(inputs, left, duration, month): customer-months of a made-up bank, in the
    features' order (analysis.features.FEATURES)."""
    rng = np.random.default_rng(seed)
    n = customers * month_ends
    falling = rng.random(n) < 0.12
    change_3m = np.where(falling, rng.uniform(-0.9, -0.05, n), rng.normal(0.01, 0.06, n))
    change_6m = change_3m + rng.normal(0, 0.1, n)
    runoff = np.where(rng.random(n) < 0.08, rng.lognormal(11, 1, n), 0.0)
    outflow = rng.exponential(8000, n) * (1 + 3 * falling)
    dormant = np.minimum(rng.exponential(25, n), 400).round()
    txn_change = rng.normal(0, 0.3, n)
    complaints = rng.poisson(0.08, n)
    requests = rng.poisson(0.4, n)
    manager = (rng.random(n) < 0.04).astype(float)
    inputs = np.column_stack(
        [change_3m, change_6m, runoff, outflow, dormant, txn_change, complaints, requests, manager]
    ).astype(np.float32)
    # the monthly hazard: 0.5% for a steady customer, a step for a fall of 30% or more
    log_hazard = (
        np.log(0.005)
        + 2.2 * (change_3m <= -0.3)
        + 1.0 * np.clip(-change_3m, 0, 1)
        + 0.004 * dormant
        + 0.6 * (runoff > 50_000)
        + 0.5 * np.minimum(complaints, 2)
        + 0.3 * manager
    )
    hazard = np.minimum(np.exp(log_hazard), 0.9)
    months_to_leave = rng.geometric(hazard)
    left = (months_to_leave <= HORIZON).astype(np.int8)
    duration = np.minimum(months_to_leave, HORIZON).astype(np.int8)
    month = np.repeat(np.arange(month_ends, dtype=np.int16), customers)
    return inputs, left, duration, month


def from_database():
    from analysis import training

    started = time.perf_counter()
    months = training.history_months()
    data = training.training_set(training.outcome_months(months), durations=True)
    seconds = time.perf_counter() - started
    say(
        f"training set read: {len(data):,} customer-months over {len(data.month_ends)} month-ends "
        f"({len(months)} months of history), {int(data.left.sum()):,} left, {seconds:.1f} s"
    )
    return data.inputs, data.left, data.duration, data.month, seconds


# --------------------------------------------------------------------------- models


def measures(left: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return float(roc_auc_score(left, predicted)), float(brier_score_loss(left, predicted))


def logistic(train_x, train_y, test_x):
    from analysis.training import fit, probabilities

    started = time.perf_counter()
    fitted = fit(train_x, train_y)
    seconds = time.perf_counter() - started
    return probabilities(fitted.coefficients, test_x), seconds


def boosted_trees(train_x, train_y, test_x):
    from sklearn.ensemble import HistGradientBoostingClassifier

    started = time.perf_counter()
    model = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0)
    model.fit(train_x, train_y)
    seconds = time.perf_counter() - started
    return model.predict_proba(test_x)[:, 1], seconds


def cox(train_x, train_y, train_t, test_x, penalizer: float = 0.1):
    """A Cox proportional-hazards model on the months until leaving (censored at 3);
    the 3-month churn probability is 1 - S(3 | x). Returns also its concordance."""
    import pandas as pd
    from lifelines import CoxPHFitter

    from analysis.features import FEATURES

    mean, scale = train_x.mean(axis=0), train_x.std(axis=0)
    scale[scale == 0] = 1
    frame = pd.DataFrame((train_x - mean) / scale, columns=FEATURES).astype("float64")
    frame["duration"], frame["left"] = train_t.astype(float), train_y.astype(int)
    # a feature that never varies cannot be fitted: left out
    constant = [name for name in FEATURES if frame[name].std() == 0]
    frame = frame.drop(columns=constant)
    started = time.perf_counter()
    model = CoxPHFitter(penalizer=penalizer).fit(frame, duration_col="duration", event_col="left")
    seconds = time.perf_counter() - started
    test = pd.DataFrame((test_x - mean) / scale, columns=FEATURES).astype("float64").drop(columns=constant)
    survival = model.predict_survival_function(test, times=[HORIZON]).to_numpy()[0]
    return 1 - survival, seconds


def concordance(duration, left, predicted) -> float:
    from lifelines.utils import concordance_index

    # a higher risk should leave sooner: concordance of -risk with the durations
    return float(concordance_index(duration, -predicted, left))


# --------------------------------------------------------------------------- run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, metavar="N", help="N customers, no database")
    parser.add_argument("--cox-sample", type=int, default=300_000, help="rows the survival model trains on")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cox-penalizer",
        type=float,
        default=0.1,
        help="L2 penalty of the Cox fit (more when it separates)",
    )
    args = parser.parse_args()
    setup()
    say(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.synthetic:
        inputs, left, duration, month = synthetic(args.synthetic, seed=args.seed)
        say(
            f"synthetic: {args.synthetic:,} customers, {len(left):,} customer-months, {int(left.sum()):,} left"
        )
    else:
        from django.db import connection

        settings = connection.settings_dict
        say(f"database: {connection.vendor} {settings.get('NAME')}")
        inputs, left, duration, month, _read = from_database()
    # the hold-out as the training picks it: the newest month-end where some left
    from analysis.training import TrainingSet, holdout_month

    index = holdout_month(TrainingSet([datetime.date.min] * (int(month.max()) + 1), inputs, left, month))
    if index is None:
        raise SystemExit("no month-end with customers who left and customers who stayed")
    train, test = month != index, month == index
    train_x, train_y, train_t = inputs[train], left[train], duration[train]
    test_x, test_y, test_t = inputs[test], left[test], duration[test]
    say(
        f"train: {train.sum():,} rows ({int(train_y.sum()):,} left); hold-out: {test.sum():,} rows ({int(test_y.sum()):,} left)"
    )

    rows = []
    predicted, seconds = logistic(train_x, train_y, test_x)
    rows.append(("logistic regression, all rows", len(train_y), *measures(test_y, predicted), seconds))
    predicted, seconds = boosted_trees(train_x, train_y, test_x)
    rows.append(("gradient-boosted trees, all rows", len(train_y), *measures(test_y, predicted), seconds))

    rng = np.random.default_rng(args.seed)
    sample = rng.permutation(len(train_y))[: args.cox_sample]
    predicted, seconds = logistic(train_x[sample], train_y[sample], test_x)
    logistic_c = None
    try:
        import lifelines  # noqa: F401
    except ImportError:
        say("lifelines is not installed: no survival model (pip install lifelines, for this bench only)")
        rows.append(("logistic regression, sample", len(sample), *measures(test_y, predicted), seconds))
    else:
        logistic_c = concordance(test_t, test_y, predicted)
        rows.append(("logistic regression, sample", len(sample), *measures(test_y, predicted), seconds))
        cox_predicted, cox_seconds = cox(
            train_x[sample], train_y[sample], train_t[sample], test_x, args.cox_penalizer
        )
        cox_c = concordance(test_t, test_y, cox_predicted)
        rows.append(
            ("Cox proportional hazards, sample", len(sample), *measures(test_y, cox_predicted), cox_seconds)
        )

    say("")
    say(f"{'model':36} {'rows':>10} {'AUC':>7} {'Brier':>8} {'train s':>8}")
    for name, n, auc, brier, secs in rows:
        say(f"{name:36} {n:>10,} {auc:7.4f} {brier:8.5f} {secs:8.1f}")
    if logistic_c is not None:
        say(f"concordance on the hold-out (months until leaving): logistic {logistic_c:.4f}, Cox {cox_c:.4f}")


if __name__ == "__main__":
    main()

"""The URL harness's objects of the customer analysis (models): a retired churn
model version and the one in use, recorded as a training records them."""

from __future__ import annotations

import datetime


def build(world, today) -> None:
    from analysis.features import FEATURES
    from analysis.training import churn_model_record

    coefficients = {
        "intercept": -3.0,
        "features": {
            name: {"coef": 0.1 * (i - 4), "mean": 0.0, "scale": 1.0} for i, name in enumerate(FEATURES)
        },
    }
    for months in (12, 13):
        world.objects["churn_model"] = churn_model_record(
            as_of=datetime.date(2025, 12, 31),
            months=months,
            samples=9000,
            positives=450,
            coefficients=coefficients,
            calibration=[{"low": 0.0, "high": 0.1, "predicted": 0.05, "observed": 0.05, "customers": 9000}],
            backtest={
                "as_of": "2025-09-30",
                "flagged": 10,
                "flagged_left": 0.6,
                "others": 990,
                "others_left": 0.04,
            },
            metrics={"auc": 0.8, "brier": 0.05, "holdout": "2025-09-30"},
            seconds=1.0,
        )

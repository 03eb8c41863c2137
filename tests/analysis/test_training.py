"""The churn model's training (analysis.training) on a synthetic bank whose churn
rule is known: customers whose month-average AUM fell 40% in 3 months leave with
probability 0.7, the others with 0.05.

The history runs over the 12 months of 2025. Customers leave in three blocks (their
AUM falls to 500 for good from month 4, 7 or 10), so that each month-end's outcome
3 months later follows the rule: months 1-3 only the 0.05 of everybody (no AUM
before January: no change is known); months 4-6 the first fallers (40% down from
April) leave with 0.7; months 7-9 the second fallers (40% down from July). Month-end
AUM is drawn apart from the average, so the outflow feature is noise."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command

from accounts.audit import Action
from accounts.models import AuditEvent
from analysis import training
from analysis.features import FEATURES
from analysis.models import ChurnModel
from customers.models import Customer, CustomerMonthlyAum

pytestmark = pytest.mark.django_db

FIRST_MONTH = datetime.date(2025, 1, 1)
LEVEL, FALLEN, GONE = 100_000, 60_000, 500
FALLER_LEAVES, OTHERS_LEAVE = 0.7, 0.05


def month(k: int) -> datetime.date:
    """Month k of the history, 1-based."""
    return datetime.date(2025 + (k - 1) // 12, (k - 1) % 12 + 1, 1)


@dataclass
class Bank:
    months: int
    customers: list[int] = field(default_factory=list)
    group: dict[int, str] = field(default_factory=dict)  # "first", "second" (fallers) or "stable"
    gone_from: dict[int, int] = field(default_factory=dict)  # customer -> month their AUM fell to 500

    def present(self, customer: int, k: int) -> bool:
        return self.gone_from.get(customer, 99) > k

    def left_by(self, customer: int, k: int) -> bool:
        return self.present(customer, k) and not self.present(customer, k + 3)


def _customers(branch, count: int) -> list[int]:
    start = Customer.objects.count()
    Customer.objects.bulk_create(
        Customer(
            customer_no=f"97{start + i:08d}",
            name=f"客户{i}",
            id_type="01",
            id_number_enc="-",
            id_hash=f"h{start + i}",
            id_suffix="0000",
            home_branch=branch,
        )
        for i in range(count)
    )
    return list(Customer.objects.order_by("pk").values_list("pk", flat=True))[start:]


def build_bank(org, *, customers: int = 1000, months: int = 12, seed: int = 7, fallers: bool = True) -> Bank:
    rng = random.Random(seed)
    bank = Bank(months=months, customers=_customers(org["11101"], customers))
    rows = []
    for i, customer in enumerate(bank.customers):
        kind = ("first" if i % 20 < 3 else "second" if i % 20 < 6 else "stable") if fallers else "stable"
        bank.group[customer] = kind
        # the blocks: leaving from month 4 (outcome of months 1-3), 7 (4-6), 10 (7-9)
        for block, falling in ((4, None), (7, "first"), (10, "second")):
            if rng.random() < (FALLER_LEAVES if kind == falling else OTHERS_LEAVE):
                bank.gone_from[customer] = block
                break
        for k in range(1, months + 1):
            level = LEVEL
            if (kind == "first" and k >= 4) or (kind == "second" and k >= 7):
                level = FALLEN
            if not bank.present(customer, k):
                level = GONE
            rows.append(
                CustomerMonthlyAum(
                    customer_id=customer,
                    month=month(k),
                    avg_aum=Decimal(level),
                    end_aum=Decimal(round(50_000 * rng.uniform(0.5, 1.5))),
                    avg_liabilities=Decimal(0),
                    days=28,
                )
            )
    CustomerMonthlyAum.objects.bulk_create(rows, batch_size=2000)
    return bank


def _coef(model: ChurnModel, name: str) -> float:
    return model.coefficients["features"][name]["coef"]


def test_the_model_recovers_the_known_rule(org):
    # given a bank whose customers leave by the rule
    bank = build_bank(org)

    # when the model is trained
    outcome = training.train()

    # then it learnt that a fall of the AUM over 3 months is what announces a departure
    model = outcome.model
    assert outcome.trained and model is not None and model.active and model.number == 1
    assert model.months == 12 and model.as_of == datetime.date(2025, 12, 31)
    population = [(c, k) for c in bank.customers for k in range(1, 10) if bank.present(c, k)]
    assert model.samples == len(population)
    assert model.positives == sum(bank.left_by(c, k) for c, k in population)
    change = _coef(model, "aum_change_3m")
    assert change < -1.0
    others = [abs(_coef(model, name)) for name in FEATURES if name != "aum_change_3m"]
    assert abs(change) > 3 * max(others)
    # a customer 40% down over 3 months against one whose AUM held
    fallen = np.array([[-0.4 if name == "aum_change_3m" else 0.0 for name in FEATURES]])
    held = np.zeros((1, len(FEATURES)))
    outflow = FEATURES.index("outflow")
    fallen[0, outflow] = held[0, outflow] = model.coefficients["features"]["outflow"]["mean"]
    assert training.probabilities(model.coefficients, fallen)[0] == pytest.approx(FALLER_LEAVES, abs=0.08)
    assert training.probabilities(model.coefficients, held)[0] == pytest.approx(OTHERS_LEAVE, abs=0.02)
    # calibrated on the newest month-end (September): predicted against observed
    assert model.metrics["holdout"] == "2025-09-30"
    assert sum(row["customers"] for row in model.calibration) == sum(
        bank.present(c, 9) for c in bank.customers
    )
    for row in model.calibration:
        assert row["low"] <= row["predicted"] < row["high"] or row["high"] == 1.0
        if row["customers"] >= 50:
            assert row["observed"] == pytest.approx(row["predicted"], abs=0.1)
    assert 0.75 < model.metrics["auc"] <= 1.0
    assert 0 < model.metrics["brier"] < 0.15
    # recorded and audited
    event = AuditEvent.objects.get(target_type="analysis.churnmodel", target_id=str(model.pk))
    assert event.action == str(training.TRAINED_ACTION) and event.details["version"] == 1


def test_the_back_test_reports_who_left_of_those_it_would_have_flagged(org):
    bank = build_bank(org)

    model = training.train().model

    # trained on the outcomes known at the end of September (months 1-6), it scores
    # September's customers: the second fallers are flagged, the rest are not
    assert model is not None
    scored = [c for c in bank.customers if bank.present(c, 9)]
    flagged = [c for c in scored if bank.group[c] == "second"]
    others = [c for c in scored if bank.group[c] != "second"]
    assert model.backtest == {
        "as_of": "2025-09-30",
        "flagged": len(flagged),
        "flagged_left": round(sum(bank.left_by(c, 9) for c in flagged) / len(flagged), 4),
        "others": len(others),
        "others_left": round(sum(bank.left_by(c, 9) for c in others) / len(others), 4),
    }
    assert model.backtest["flagged_left"] > 0.5 > 0.1 > model.backtest["others_left"]


def test_the_stored_coefficients_reproduce_predict_proba(org):
    bank = build_bank(org, customers=300)
    data = training.training_set(training.outcome_months(training.history_months()), durations=True)
    assert len(data) > 2000 and data.inputs.dtype == np.float32 and data.left.dtype == np.int8
    # the months until leaving (for the survival model of the comparison): 1 for the
    # month-end just before the customer's AUM fell to 500, 3 for who stayed
    assert data.duration is not None
    expected = [
        bank.gone_from[c] - k if bank.left_by(c, k) else 3
        for k in range(1, 10)
        for c in bank.customers
        if bank.present(c, k)
    ]
    assert sorted(data.duration.tolist()) == sorted(expected)

    fitted = training.fit(data.inputs, data.left)

    features = fitted.coefficients["features"]
    assert list(features) == list(FEATURES)
    mean = np.array([features[name]["mean"] for name in FEATURES])
    scale = np.array([features[name]["scale"] for name in FEATURES])
    expected = fitted.estimator.predict_proba(((data.inputs - mean) / scale).astype(np.float32))[:, 1]
    assert np.allclose(training.probabilities(fitted.coefficients, data.inputs), expected, atol=1e-5)
    # a feature that never varies (no complaints in this bank) keeps a scale of 1
    assert features["complaints"] == {"coef": 0.0, "mean": 0.0, "scale": 1.0}


def test_a_customer_who_left_already_is_not_in_the_population(org):
    # a stable customer, and one whose AUM fell to 3,000 in month 5 (still above the
    # population's 1,000): they left by month 6 as of month 3, and cannot leave again
    stable, gone = _customers(org["11101"], 2)
    CustomerMonthlyAum.objects.bulk_create(
        CustomerMonthlyAum(
            customer_id=customer,
            month=month(k),
            avg_aum=Decimal(3_000 if customer == gone and k >= 5 else LEVEL),
            end_aum=Decimal(LEVEL),
            avg_liabilities=Decimal(0),
            days=28,
        )
        for customer in (stable, gone)
        for k in range(1, 10)
    )

    assert training.leavers([month(3)]) == 1
    as_of_month_3 = training.training_set([month(3)])
    assert len(as_of_month_3) == 2 and int(as_of_month_3.left.sum()) == 1
    # as of month 6 (3,000 against 100,000 three months before) they had gone already
    assert training.leavers([month(6)]) == 0
    as_of_month_6 = training.training_set([month(6)])
    assert len(as_of_month_6) == 1 and int(as_of_month_6.left.sum()) == 0


def test_too_short_a_history_trains_nothing(org):
    build_bank(org, months=8)

    outcome = training.train()

    assert not outcome.trained and outcome.months == 8
    assert "8 months of monthly AUM, at least 9 needed" in outcome.message
    assert not ChurnModel.objects.exists()
    assert not AuditEvent.objects.filter(target_type="analysis.churnmodel").exists()


def test_too_few_customers_who_left_trains_nothing(org):
    bank = build_bank(org, customers=300, fallers=False)  # about 0.05 leave in each of 3 blocks
    left = len(bank.gone_from)
    assert 0 < left < training.MIN_LEFT

    outcome = training.train()

    assert not outcome.trained and outcome.leavers == left
    assert f"{left} customers left in the history, at least 50 needed" in outcome.message
    assert not ChurnModel.objects.exists()


def test_each_training_is_a_new_version_in_use_and_the_old_ones_stay(org):
    build_bank(org, customers=400)
    first = training.train().model
    assert first is not None

    second = training.train().model

    assert second is not None and second.number == first.number + 1
    first.refresh_from_db()
    assert second.active and not first.active
    assert first.coefficients["features"]["aum_change_3m"]["coef"] == pytest.approx(
        second.coefficients["features"]["aum_change_3m"]["coef"]
    )
    assert list(ChurnModel.objects.values_list("number", "active")) == [(2, True), (1, False)]
    events = AuditEvent.objects.filter(target_type="analysis.churnmodel").order_by("pk")
    assert [e.details["version"] for e in events] == [1, 2]
    assert events[1].details["retired"] == [1]
    assert all(e.action == Action.CHURN_MODEL_TRAINED for e in events)


def test_the_command_prints_the_outcome(org, capsys):
    call_command("train_churn_model")
    assert "No model trained: 0 months of monthly AUM, at least 9 needed." in capsys.readouterr().out

    build_bank(org, customers=400)
    call_command("train_churn_model")
    assert "Churn model version 1 trained on" in capsys.readouterr().out
    assert ChurnModel.objects.get().active


def test_the_monthly_task_does_not_train_twice_on_the_same_history(org):
    from analysis.tasks import train_churn_model_task

    build_bank(org, customers=400)

    first = train_churn_model_task.delay().get()
    again = train_churn_model_task.delay().get()

    assert first["version"] == 1 and first["trained"]
    assert again == {"trained": False, "version": 1, "message": again["message"]}
    assert "already trained on the history up to 2025-12-31" in again["message"]
    assert ChurnModel.objects.count() == 1


def test_the_hold_out_is_the_newest_month_end_where_someone_left():
    # given three month-ends, nobody leaving in the newest one
    rng = np.random.default_rng(3)
    month = np.repeat(np.arange(3, dtype=np.int16), 400)
    change = rng.normal(0, 0.2, 1200)
    left = ((rng.random(1200) < np.where(change < -0.2, 0.6, 0.05)) & (month < 2)).astype(np.int8)
    inputs = np.zeros((1200, len(FEATURES)), dtype=np.float32)
    inputs[:, 0] = change
    data = training.TrainingSet(
        [datetime.date(2025, 1, 1), datetime.date(2025, 2, 1), datetime.date(2025, 3, 1)], inputs, left, month
    )

    measures = training.holdout_measures(data)

    # then the model is measured on February, the newest one that can tell
    assert training.holdout_month(data) == 1
    assert measures["holdout"] == "2025-02-28" and measures["holdout_samples"] == 400
    assert sum(row["customers"] for row in measures["calibration"]) == 400
    assert measures["auc"] > 0.7
    # and with nobody leaving anywhere, nothing is measured
    data.left[:] = 0
    assert training.holdout_month(data) is None and training.holdout_measures(data) == {}


def test_a_version_without_calibration_nor_back_test_is_recorded(org):
    model = training.churn_model_record(
        as_of=datetime.date(2025, 12, 31),
        months=12,
        samples=10,
        positives=1,
        coefficients={"intercept": -1.0, "features": {}},
        calibration=[],
        backtest={},
        metrics={},
        seconds=0.1,
    )
    assert model.number == 1 and model.active and model.calibration == [] and model.backtest == {}

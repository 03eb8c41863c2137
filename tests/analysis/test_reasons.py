"""The reasons of a customer's scores as sentences with figures (analysis.reasons),
from stored codes and figures and from a scored row."""

from __future__ import annotations

import datetime

import pytest

from analysis.choices import ChurnSource
from analysis.models import ChurnModel, CustomerAnalysis
from analysis.reasons import churn_reason, churn_source_note, reasons
from analysis.scoring import score_customers
from customers.choices import InteractionKind
from tests.analysis.score_helpers import at, monthly, txns
from tests.customers.factories import CustomerFactory, InteractionFactory

D = datetime.date
AS_OF = D(2026, 11, 20)


def analysis(**stored) -> CustomerAnalysis:
    return CustomerAnalysis(as_of=AS_OF, reasons=stored)


def test_churn_sentences_carry_their_figures():
    row = analysis(
        churn=[
            ["aum_change_3m", {"change": -0.352, "aum": 777600, "before": "1200000.00", "points": 25}],
            ["dormant_days", {"days": 100, "points": 8}],
            ["complaints", {"count": 1, "points": 10}],
        ]
    )
    assert reasons(row)["churn"] == [
        "AUM down 35.2% in 3 months (1,200,000.00 → 777,600.00) (+25 points)",
        "No transaction for 100 days (the last on 2026-08-12) (+8 points)",
        "1 complaint in 12 months (+10 points)",
    ]


def test_model_reasons_have_no_points_and_say_up_or_missing():
    row = analysis(
        churn=[
            ["aum_change_6m", {"change": 0.1234, "aum": 110000, "before": 97800, "weight": 0.4}],
            ["txn_change", {"change": None, "weight": 0.3}],
            ["maturity_runoff", {"amount": 81000, "aum_3m": 100000, "weight": 0.2}],
        ]
    )
    assert reasons(row)["churn"] == [
        "AUM up 12.3% in 6 months (97,800.00 → 110,000.00)",
        "No transactions in the 3 months before to compare with",
        "81,000.00 CNY matured in the last 90 days and was not renewed",
    ]


def test_every_churn_code_has_a_sentence():
    assert churn_reason("outflow", {"amount": "300000"}) == (
        "Largest monthly outflow in the last 3 months: 300,000.00 CNY"
    )
    assert churn_reason("txn_change", {"change": -0.5}) == "Transactions down 50.0% on the 3 months before"
    assert churn_reason("service_requests", {"count": 4}) == "4 service requests in 12 months"
    assert churn_reason("manager_changed", {}) == "A new manager of record in the last 90 days"
    assert churn_reason("dormant_days", {"days": None}) == "No transaction on record"
    assert churn_reason("aum_change_3m", {"change": None, "aum": 5000}) == (
        "No AUM 3 months before to compare with (now 5,000.00)"
    )


def test_loyalty_satisfaction_and_contribution_sentences():
    row = analysis(
        loyalty=[
            ["depth", {"kinds": 3, "points": 18}],
            ["tenure", {"months": 23, "points": 5.75}],
            ["wallet", {"change": -0.6, "aum": 40000, "aum_12m": 100000, "points": 0}],
            ["rfm", {"score": 12, "points": 15}],
        ],
        satisfaction=[
            ["rating", {"average": 4.5, "count": 2, "points": 90}],
            ["complaints", {"count": 2, "points": -30}],
            ["service_requests", {"count": 2, "free": 3, "points": 0}],
        ],
        contribution=[
            ["liability", {"amount": 1234567.891}],
            ["asset", {"amount": -20}],
            ["intermediary", {"amount": 25}],
            ["months", {"from": "2025-12", "to": "2026-11", "published": 10, "provisional": 1}],
        ],
    )
    sentences = reasons(row)
    assert sentences["loyalty"] == [
        "3 kinds of product held: 18 of 30 points",
        "With the bank for 23 months: 5.8 of 30 points",
        "AUM down 60.0% on 12 months ago (100,000.00 → 40,000.00): 0 of 20 points",
        "RFM score 12 of 15: 15 of 20 points",
    ]
    assert sentences["satisfaction"] == [
        "Average rating 4.5 of 5 from 2 rated contacts: 90 points",
        "2 complaints in 12 months: \u221230 points",
        "2 service requests in 12 months (the first 3 cost nothing)",
    ]
    assert sentences["contribution"] == [
        "Liability business: 1,234,567.89 CNY",
        "Asset business: \u221220.00 CNY",
        "Intermediary business: 25.00 CNY",
        "2025-12 to 2026-11: 10 months of published figures, 1 provisional, 1 without figures",
    ]


def test_missing_or_damaged_reasons_give_no_sentences():
    row = CustomerAnalysis(as_of=AS_OF, reasons={"churn": "oops", "loyalty": [["tenure"]]})
    assert reasons(row) == {"churn": [], "loyalty": [], "satisfaction": [], "contribution": []}


@pytest.mark.django_db
def test_the_source_note_names_the_model_version_or_the_rules():
    model = ChurnModel.objects.create(number=3, as_of=D(2026, 10, 31), months=12, samples=10, positives=5)
    assert churn_source_note(CustomerAnalysis(churn_source=ChurnSource.MODEL, model=model)) == (
        "Scored by the trained model v3 (history up to 2026-10-31)"
    )
    assert churn_source_note(CustomerAnalysis(churn_source=ChurnSource.RULES)) == (
        "Scored by the rules: not enough history for a trained model yet"
    )
    assert churn_source_note(CustomerAnalysis(churn_source=ChurnSource.MODEL)) == (
        "Scored by a trained model since removed"
    )


@pytest.mark.django_db
def test_a_scored_row_reads_as_sentences(org):
    c = CustomerFactory(home_branch=org["11101"], name="王小明")
    monthly(c, D(2026, 8, 1), "1200000")
    monthly(c, D(2026, 9, 1), "1100000")
    monthly(c, D(2026, 10, 1), "1000000")
    monthly(c, D(2026, 11, 1), "777600")
    txns(c, D(2026, 11, 18), 3)
    InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, 10, 2)))
    score_customers(AS_OF)
    row = CustomerAnalysis.objects.select_related("model").get(customer=c)
    sentences = reasons(row)
    assert sentences["churn"] == [
        "AUM down 35.2% in 3 months (1,200,000.00 → 777,600.00) (+25 points)",
        "1 complaint in 12 months (+10 points)",
    ]
    assert sentences["satisfaction"] == [
        "No rated contact in 12 months: 80 points to start from",
        "1 complaint in 12 months: \u221215 points",
    ]
    assert sentences["contribution"][-1] == (
        "2025-12 to 2026-11: 0 months of published figures, 0 provisional, 12 without figures"
    )
    # codes and figures only: nothing of the person
    assert "王小明" not in str(row.reasons) and c.customer_no not in str(row.reasons)
    assert churn_source_note(row).startswith("Scored by the rules")

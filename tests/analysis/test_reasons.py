"""The reasons of a customer's scores as sentences with figures (analysis.reasons),
ranked from the parts a row keeps, on rows built by hand and on a scored row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analysis.choices import ChurnSource
from analysis.models import ChurnModel, CustomerAnalysis
from analysis.reasons import churn_reason, churn_source_note, ranked, reasons, top_churn_reason
from analysis.scoring import score_customers
from customers.choices import InteractionKind
from tests.analysis.score_helpers import at, monthly, txns
from tests.customers.factories import CustomerFactory, InteractionFactory

D = datetime.date
AS_OF = D(2026, 11, 20)


def analysis(**parts) -> CustomerAnalysis:
    """A row as the nightly scoring leaves it: the parts the reasons are read from."""
    return CustomerAnalysis(as_of=AS_OF, **parts)


def test_churn_sentences_carry_their_figures():
    row = analysis(
        churn_source=ChurnSource.RULES,
        aum=Decimal("777600"),
        aum_3m=Decimal("1200000"),
        aum_change_3m=Decimal("-0.352"),
        push_aum_change_3m=25,
        dormant_days=100,
        push_dormant_days=8,
        complaints=1,
        push_complaints=10,
        manager_changed=True,
        push_manager_changed=5,  # the fourth: not shown
    )
    assert reasons(row)["churn"] == [
        "AUM down 35.2% in 3 months (1,200,000.00 → 777,600.00) (+25 points)",
        "1 complaint in 12 months (+10 points)",
        "No transaction for 100 days (the last on 2026-08-12) (+8 points)",
    ]
    assert top_churn_reason(row) == reasons(row)["churn"][0]


def test_model_reasons_have_no_points_and_say_up_or_missing():
    row = analysis(
        churn_source=ChurnSource.MODEL,
        aum=Decimal("110000"),
        aum_6m=Decimal("97800"),
        aum_change_6m=Decimal("0.1234"),
        push_aum_change_6m=0.4,
        txn_change=None,
        push_txn_change=0.3,
        maturity_runoff=Decimal("81000"),
        push_maturity_runoff=0.2,
        complaints=0,
        push_complaints=-0.5,  # pulls the probability down: never a reason to leave
    )
    assert reasons(row)["churn"] == [
        "AUM up 12.3% in 6 months (97,800.00 → 110,000.00)",
        "No transactions in the 3 months before to compare with",
        "81,000.00 CNY matured in the last 90 days and was not renewed",
    ]
    assert ranked(row)["churn"][0] == (
        "aum_change_6m",
        {
            "change": Decimal("0.1234"),
            "aum": Decimal("110000"),
            "before": Decimal("97800"),
            "weight": 0.4,
        },
    )


def test_only_pushes_above_zero_count_and_ties_keep_the_feature_order():
    row = analysis(
        churn_source=ChurnSource.RULES, push_outflow=15, push_maturity_runoff=15, push_txn_change=0
    )
    assert [code for code, _f in ranked(row)["churn"]] == ["maturity_runoff", "outflow"]
    assert reasons(analysis(churn_source=ChurnSource.RULES))["churn"] == []
    assert top_churn_reason(analysis(churn_source=ChurnSource.RULES)) == ""


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
        product_depth=3,
        loyalty_depth=18,
        tenure_months=23,
        loyalty_tenure=Decimal("5.75"),
        wallet_trend=Decimal("-0.6"),
        aum=Decimal("40000"),
        aum_12m=Decimal("100000"),
        loyalty_wallet=0,  # gave nothing: not a reason
        rfm_score=12,
        loyalty_rfm=15,
        rating_count=2,
        rating_average=Decimal("4.5"),
        satisfaction_base=90,
        complaints=2,
        satisfaction_complaints=-30,
        service_requests=2,
        satisfaction_requests=0,
        contribution_liability=Decimal("1234567.89"),
        contribution_asset=Decimal("-20"),
        contribution_intermediary=Decimal("25"),
        months_published=10,
        months_provisional=1,
    )
    sentences = reasons(row)
    assert sentences["loyalty"] == [
        "3 kinds of product held: 18 of 30 points",
        "RFM score 12 of 15: 15 of 20 points",
        "With the bank for 23 months: 5.8 of 30 points",
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


def test_the_share_of_wallet_reason_says_how_far_aum_moved():
    row = analysis(
        wallet_trend=Decimal("-0.3"), aum=Decimal("70000"), aum_12m=Decimal("100000"), loyalty_wallet=4
    )
    assert reasons(row)["loyalty"] == [
        "AUM down 30.0% on 12 months ago (100,000.00 → 70,000.00): 4 of 20 points"
    ]
    unrated = reasons(analysis(satisfaction_base=80))["satisfaction"]
    assert unrated == ["No rated contact in 12 months: 80 points to start from"]


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
    assert "王小明" not in str(ranked(row)) and c.customer_no not in str(ranked(row))
    assert churn_source_note(row).startswith("Scored by the rules")

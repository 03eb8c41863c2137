"""The nightly row of every customer (docs/analysis.md): the rules' and a model's
churn probability, loyalty, satisfaction, the 12-month contribution from the
figures in force, value at risk, the reasons, a re-run, and the command."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analysis.choices import ChurnSource
from analysis.models import ChurnModel, CustomerAnalysis
from analysis.reasons import ranked
from analysis.scoring import score_customers
from care.models import JournalEntry
from customers.choices import AccountCategory, AccountStatus, BatchStatus, InteractionKind
from customers.models import AccountBalance, BatchLoad
from marketing.models import MarketingProfile
from performance.choices import PeriodStatus, VersionStatus
from performance.models import CustomerResult, Period, ResultVersion
from tests.analysis.score_helpers import at, monthly, txns
from tests.customers.factories import (
    AccountFactory,
    CustomerAssignmentFactory,
    CustomerFactory,
    InteractionFactory,
)

D = datetime.date
AS_OF = D(2026, 11, 20)
pytestmark = pytest.mark.django_db


def row(customer) -> CustomerAnalysis:
    return CustomerAnalysis.objects.get(customer=customer)


def codes(section: list) -> list[str]:
    return [code for code, _figures in section]


@pytest.fixture
def branch(org):
    return org["11101"]


def falling(customer) -> None:
    """AUM down 35% in 3 months and 48% in 6; month-end falls of 100,000 at most
    (below 30% of the 800,000 of 3 months before: no outflow points)."""
    monthly(customer, D(2026, 5, 1), "1000000")
    monthly(customer, D(2026, 8, 1), "800000")
    monthly(customer, D(2026, 9, 1), "700000")
    monthly(customer, D(2026, 10, 1), "600000")
    monthly(customer, D(2026, 11, 1), "520000")


# --------------------------------------------------------------------------- rules


def test_rules_add_the_points_of_each_feature(branch):
    c = CustomerFactory(home_branch=branch)
    falling(c)  # 3 months −35%: 25; 6 months −48%: 5
    txns(c, D(2026, 8, 12), 4)  # 100 days ago: 8; none since: transactions halved, 10
    InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, 10, 2)))  # 10
    assert score_customers(AS_OF) == 1
    r = row(c)
    assert r.churn_source == ChurnSource.RULES and r.model is None
    assert r.aum == Decimal("520000.00")
    assert r.aum_change_3m == Decimal("-0.3500")
    assert r.aum_change_6m == Decimal("-0.4800")
    assert r.outflow == Decimal("100000.00")
    assert r.dormant_days == 100
    assert r.txn_change == Decimal("-1.0000")
    assert r.complaints == 1
    # 58 points: 0.02 + 0.9 × 0.58
    assert r.churn_probability == Decimal("0.5420")
    churn = ranked(r)["churn"]
    # the strongest three; equal points in the order of the features
    assert codes(churn) == ["aum_change_3m", "txn_change", "complaints"]
    assert churn[0][1]["points"] == 25
    assert Decimal(str(churn[0][1]["change"])) == Decimal("-0.35")
    assert Decimal(str(churn[0][1]["before"])) == Decimal("800000")


def test_rules_probability_is_capped(branch, make_user):
    c = CustomerFactory(home_branch=branch)
    monthly(c, D(2026, 5, 1), "1000000")  # 6 months −60%: 15
    monthly(c, D(2026, 8, 1), "800000")  # 3 months −50%: 25
    monthly(c, D(2026, 9, 1), "500000")  # a month-end fall of 300,000, 37.5%: 15
    monthly(c, D(2026, 10, 1), "450000")
    monthly(c, D(2026, 11, 1), "400000")
    deposit = AccountFactory(
        customer=c,
        category=AccountCategory.DEP_TIME,
        status=AccountStatus.CLOSED,
        maturity_date=D(2026, 10, 1),
    )
    AccountBalance.objects.create(  # matured, not renewed, 60,000: 15
        business_date=D(2026, 10, 1), account=deposit, balance=Decimal("60000"), cny_balance=Decimal("60000")
    )
    txns(c, D(2026, 5, 1), 3)  # 203 days without a transaction: 15
    for day in (D(2026, 9, 1), D(2026, 10, 1)):  # two complaints: 15
        InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(day))
    m1, m2 = make_user("client_manager"), make_user("client_manager")  # a new manager: 5
    CustomerAssignmentFactory(customer=c, manager=m1, start_date=D(2024, 1, 1), end_date=D(2026, 10, 31))
    CustomerAssignmentFactory(customer=c, manager=m2, start_date=D(2026, 11, 1))
    score_customers(AS_OF)
    r = row(c)
    assert r.maturity_runoff == Decimal("60000.00")
    assert r.manager_changed is True
    assert r.churn_probability == Decimal("0.9500")  # 0.02 + 0.9 × 1.15 capped
    assert codes(ranked(r)["churn"]) == ["aum_change_3m", "aum_change_6m", "maturity_runoff"]


def test_a_quiet_customer_has_the_base_probability_and_no_churn_reasons(branch):
    c = CustomerFactory(home_branch=branch)
    for month in (8, 9, 10, 11):
        monthly(c, D(2026, month, 1), "100000")
    txns(c, D(2026, 11, 19), 5)
    score_customers(AS_OF)
    r = row(c)
    assert r.churn_probability == Decimal("0.0200")
    assert ranked(r)["churn"] == []


# --------------------------------------------------------------------------- model


def _model(number: int = 1, **fields) -> ChurnModel:
    values = {
        "as_of": D(2026, 10, 31),
        "months": 12,
        "samples": 1000,
        "positives": 80,
        "coefficients": {
            "intercept": -2.0,
            "features": {
                "aum_change_3m": {"coef": -1.5, "mean": -0.05, "scale": 0.2},
                "dormant_days": {"coef": 0.8, "mean": 30.0, "scale": 40.0},
                "complaints": {"coef": 0.5, "mean": 0.1, "scale": 0.3},
                "outflow": {"coef": 0.3, "mean": 10000.0, "scale": 50000.0},
                "manager_changed": {"coef": 0.7, "mean": 0.05, "scale": 0.2},
            },
        },
    }
    values.update(fields)
    return ChurnModel.objects.create(number=number, **values)


def _by_hand(model: ChurnModel, inputs: dict[str, float]) -> tuple[float, dict[str, float]]:
    pushes = {
        name: term["coef"] * (inputs[name] - term["mean"]) / term["scale"]
        for name, term in model.coefficients["features"].items()
    }
    linear = model.coefficients["intercept"] + sum(pushes.values())
    return 1 / (1 + math.exp(-linear)), pushes


def test_the_newest_model_in_use_scores_as_its_coefficients_say(branch):
    model = _model(1)
    _model(2, active=False)  # newer, but not in use
    c = CustomerFactory(home_branch=branch)
    monthly(c, D(2026, 8, 1), "1000000")
    monthly(c, D(2026, 11, 1), "650000")
    txns(c, D(2026, 8, 12), 4)
    InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, 10, 2)))
    quiet = CustomerFactory(home_branch=branch)  # every input missing: imputed
    score_customers(AS_OF)

    r = row(c)
    assert r.churn_source == ChurnSource.MODEL and r.model == model
    # outflow: month-ends 1,000,000 (August) then none in September: a fall of 1,000,000
    expected, pushes = _by_hand(
        model,
        {
            "aum_change_3m": -0.35,
            "dormant_days": 100,
            "complaints": 1,
            "outflow": 1000000,
            "manager_changed": 0,
        },
    )
    assert r.churn_probability == Decimal(str(round(expected, 4)))
    churn = ranked(r)["churn"]
    strongest = sorted((p for p in pushes.items() if p[1] > 0), key=lambda p: -p[1])[:3]
    assert codes(churn) == [name for name, _push in strongest]
    for (_code, figures), (_name, push) in zip(churn, strongest, strict=True):
        assert figures["weight"] == pytest.approx(push, abs=1e-4)

    imputed, _pushes = _by_hand(
        model, {"aum_change_3m": 0, "dormant_days": 0, "complaints": 0, "outflow": 0, "manager_changed": 0}
    )
    assert row(quiet).churn_probability == Decimal(str(round(imputed, 4)))
    assert ranked(row(quiet))["churn"] == []  # nothing pushed it up


def test_a_model_that_cannot_be_applied_leaves_the_rules_to_score(branch):
    _model(1, coefficients={"features": {"aum_change_3m": {"coef": 1.0}}})  # no intercept, no mean
    c = CustomerFactory(home_branch=branch)
    score_customers(AS_OF)
    assert row(c).churn_source == ChurnSource.RULES
    assert row(c).model is None


# --------------------------------------------------------------------------- loyalty


def test_loyalty_adds_tenure_depth_wallet_trend_and_rfm(branch):
    c = CustomerFactory(home_branch=branch)
    AccountFactory(customer=c, category=AccountCategory.DEP_CUR, open_date=D(2021, 11, 20))  # 60 months: 15
    AccountFactory(customer=c, category=AccountCategory.DEP_CUR, open_date=D(2023, 1, 1))
    AccountFactory(customer=c, category=AccountCategory.DEP_TIME, open_date=D(2023, 1, 1))
    AccountFactory(customer=c, category=AccountCategory.FUND, open_date=D(2024, 1, 1))
    AccountFactory(
        customer=c, category=AccountCategory.WEALTH, status=AccountStatus.CLOSED, open_date=D(2024, 1, 1)
    )
    # 3 kinds open: 18
    monthly(c, D(2025, 11, 1), "100000")
    monthly(c, D(2026, 11, 1), "120000")  # +20% on 12 months ago: 20 × 0.7 = 14
    MarketingProfile.objects.create(customer=c, as_of=AS_OF, rfm_score=12)  # 20 × 9 / 12 = 15
    score_customers(AS_OF)
    r = row(c)
    assert (r.tenure_months, r.product_depth, r.wallet_trend, r.rfm_score) == (60, 3, Decimal("0.2000"), 12)
    assert r.loyalty == 62
    loyalty = ranked(r)["loyalty"]
    assert codes(loyalty) == ["depth", "tenure", "rfm"]  # wallet's 14 is the fourth
    assert loyalty[0][1] == {"kinds": 3, "points": 18}


def test_loyalty_without_accounts_counts_from_the_record_and_clamps_the_trend(branch):
    c = CustomerFactory(home_branch=branch, created_at=at(D(2024, 11, 25)))  # 23 whole months: 5.75
    monthly(c, D(2025, 11, 1), "100000")
    monthly(c, D(2026, 11, 1), "40000")  # −60%: 0 points
    fresh = CustomerFactory(home_branch=branch, created_at=at(D(2026, 11, 1)))
    monthly(fresh, D(2026, 11, 1), "40000")  # no AUM 12 months ago: 10
    score_customers(AS_OF)
    r = row(c)
    assert (r.tenure_months, r.product_depth, r.wallet_trend) == (23, 0, Decimal("-0.6000"))
    assert r.loyalty == 6
    assert codes(ranked(r)["loyalty"]) == ["tenure"]
    f = row(fresh)
    assert f.wallet_trend is None
    assert f.loyalty == 10
    assert codes(ranked(f)["loyalty"]) == ["wallet"]


# --------------------------------------------------------------------------- satisfaction


def _rated(customer, manager, day: datetime.date, rating: int | None) -> None:
    JournalEntry.objects.create(
        manager=manager, customer=customer, visited_at=at(day), purpose="keep_in_touch", satisfaction=rating
    )


def test_satisfaction_from_ratings_complaints_and_service_requests(branch, make_user):
    manager = make_user("client_manager")
    c = CustomerFactory(home_branch=branch)
    _rated(c, manager, D(2026, 10, 1), 4)
    _rated(c, manager, D(2026, 6, 1), 5)  # average 4.5: 90
    _rated(c, manager, D(2025, 11, 1), 1)  # more than 12 months ago
    _rated(c, manager, D(2026, 9, 1), None)  # not rated
    for day in (D(2026, 3, 1), D(2026, 4, 1)):  # two complaints: −30
        InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(day))
    for month in range(1, 6):  # five service requests, two beyond three: −10
        InteractionFactory(
            customer=c, kind=InteractionKind.SERVICE_REQUEST, occurred_at=at(D(2026, month, 5))
        )
    unrated = CustomerFactory(home_branch=branch)
    score_customers(AS_OF)
    r = row(c)
    assert r.satisfaction == 50
    reasons = ranked(r)["satisfaction"]
    assert codes(reasons) == ["rating", "complaints", "service_requests"]
    assert reasons[0][1]["count"] == 2 and Decimal(str(reasons[0][1]["average"])) == Decimal("4.5")
    assert reasons[1][1]["points"] == -30 and reasons[2][1]["points"] == -10
    assert row(unrated).satisfaction == 80
    assert codes(ranked(row(unrated))["satisfaction"]) == ["unrated"]


def test_satisfaction_stays_within_zero_and_a_hundred(branch, make_user):
    manager = make_user("client_manager")
    c = CustomerFactory(home_branch=branch)
    _rated(c, manager, D(2026, 10, 1), 1)  # 20
    for month in range(1, 5):  # four complaints: at most −45
        InteractionFactory(customer=c, kind=InteractionKind.COMPLAINT, occurred_at=at(D(2026, month, 5)))
    top = CustomerFactory(home_branch=branch)
    _rated(top, manager, D(2026, 10, 1), 5)
    score_customers(AS_OF)
    assert row(c).satisfaction == 0
    assert ranked(row(c))["satisfaction"][1][1]["points"] == -45
    assert row(top).satisfaction == 100


# --------------------------------------------------------------------------- contribution


def _period(code: str, status: str) -> Period:
    year, month = (int(part) for part in code.split("-"))
    start = D(year, month, 1)
    end = (D(year + month // 12, month % 12 + 1, 1)) - datetime.timedelta(days=1)
    return Period.objects.create(code=code, kind="month", start=start, end=end, status=status)


def _figures(period, number, status, rows) -> None:
    version = ResultVersion.objects.create(period=period, number=number, status=status)
    for customer, manager, liability, asset, intermediary in rows:
        CustomerResult.objects.create(
            version=version,
            customer=customer,
            manager=manager,
            liability=Decimal(liability),
            asset=Decimal(asset),
            intermediary=Decimal(intermediary),
        )


def test_contribution_sums_the_months_in_force_by_business_line(branch, make_user):
    m1 = make_user("client_manager")
    c = CustomerFactory(home_branch=branch)
    loss = CustomerFactory(home_branch=branch)
    november = _period("2026-11", PeriodStatus.OPEN)  # provisional figures count
    _figures(november, 0, VersionStatus.PROVISIONAL, [(c, m1, "100", "10", "5"), (c, None, "50", "0", "0")])
    _figures(
        _period("2026-06", PeriodStatus.OPEN), 0, VersionStatus.PROVISIONAL, [(loss, m1, "0", "-500", "0")]
    )
    october = _period("2026-10", PeriodStatus.CLOSED)  # the published version counts
    _figures(october, 0, VersionStatus.PROVISIONAL, [(c, m1, "7777", "0", "0")])
    _figures(october, 1, VersionStatus.SUPERSEDED, [(c, m1, "999", "0", "0")])
    _figures(october, 2, VersionStatus.PUBLISHED, [(c, m1, "200", "-30", "20")])
    _figures(october, 3, VersionStatus.PENDING, [(c, m1, "5000", "0", "0")])
    _figures(
        _period("2025-11", PeriodStatus.CLOSED), 1, VersionStatus.PUBLISHED, [(c, m1, "100000", "0", "0")]
    )
    score_customers(AS_OF)
    r = row(c)
    assert r.contribution_liability == Decimal("350.00")
    assert r.contribution_asset == Decimal("-20.00")
    assert r.contribution_intermediary == Decimal("25.00")
    assert r.contribution == Decimal("355.00")
    assert r.churn_probability == Decimal("0.0200")
    assert r.value_at_risk == Decimal("7.10")  # 0.02 × 355
    months = dict(ranked(r)["contribution"])["months"]
    assert months == {"from": "2025-12", "to": "2026-11", "published": 1, "provisional": 2}
    assert row(loss).contribution == Decimal("-500.00")
    assert row(loss).value_at_risk == 0  # a loss puts nothing at risk


# --------------------------------------------------------------------------- the run


def test_a_re_run_gives_the_same_rows_keeps_next_products_and_drops_merged_customers(branch):
    c = CustomerFactory(home_branch=branch)
    falling(c)
    other = CustomerFactory(home_branch=branch)
    assert score_customers(AS_OF) == 2
    fields = [f.attname for f in CustomerAnalysis._meta.concrete_fields if f.attname != "next_products"]
    first = list(CustomerAnalysis.objects.order_by("pk").values_list(*fields))
    CustomerAnalysis.objects.filter(customer=c).update(next_products=[{"product": 1, "share": "0.3800"}])
    assert score_customers(AS_OF) == 2
    assert list(CustomerAnalysis.objects.order_by("pk").values_list(*fields)) == first
    assert row(c).next_products == [{"product": 1, "share": "0.3800"}]
    other.merged_into = c
    other.save()
    assert score_customers(AS_OF) == 1
    assert not CustomerAnalysis.objects.filter(customer=other).exists()


def test_the_command_scores_as_of_the_date_given_or_the_business_date(branch):
    c = CustomerFactory(home_branch=branch)
    out = StringIO()
    call_command("analyse_customers", "--date", "2026-11-20", stdout=out)
    assert out.getvalue().startswith("1 customers scored as of 2026-11-20 in ")
    assert row(c).as_of == AS_OF
    BatchLoad.objects.create(
        business_date=D(2026, 11, 27), status=BatchStatus.LOADED, source="/in/20261127", started_via="test"
    )
    out = StringIO()
    call_command("analyse_customers", stdout=out)
    assert "as of 2026-11-27" in out.getvalue()
    assert row(c).as_of == D(2026, 11, 27)


def test_the_command_refuses_a_bad_date(branch):
    CustomerFactory(home_branch=branch)
    with pytest.raises(CommandError, match="not a date"):
        call_command("analyse_customers", "--date", "2026-13-01", stdout=StringIO())
    assert not CustomerAnalysis.objects.exists()

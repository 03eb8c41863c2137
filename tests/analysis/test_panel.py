"""The customer analysis on the customer's 360 view (analysis.panels): the scores
with their reasons and the next best products, as of the night they were computed;
an empty state before the first analysis; only for users who read the analysis, of
customers they may see; two queries at most."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from analysis.choices import ChurnSource
from analysis.models import ChurnModel
from analysis.panels import customer_panel
from analysis.reasons import reasons
from analysis.selectors import customer_analysis
from customers.choices import AccountCategory
from customers.models import Customer
from marketing.models import Product
from tests.analysis.save_helpers import analysed
from tests.customers.conftest import log_in, new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

# the 360 view's bound without the panel (tests/customers/test_detail_360.py)
PAGE_BOUND = 23
PANEL_QUERIES = 2

# the parts the reasons are read from: four churn features pushed it up (the fourth
# is not shown), two loyalty parts gave points
CHURN = {
    "aum_change_3m": Decimal("-0.35"),
    "aum": Decimal("120000"),
    "aum_3m": Decimal("184615.38"),
    "push_aum_change_3m": 25,
    "dormant_days": 130,
    "push_dormant_days": 8,
    "complaints": 2,
    "push_complaints": 15,
    "manager_changed": True,
    "push_manager_changed": 5,
}
LOYALTY = {"tenure_months": 84, "loyalty_tenure": 21, "product_depth": 3, "loyalty_depth": 18}


@pytest.fixture
def customer(demo_users, new_customer):  # noqa: F811
    return new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum="500000")


@pytest.fixture
def wealth():
    return Product.objects.create(
        code="WM0001", name="稳健理财A", category=AccountCategory.WEALTH, risk_rating="R2"
    )


def _row(customer, wealth):
    return analysed(
        customer,
        churn_probability="0.4000",
        contribution="30000",
        **CHURN,
        **LOYALTY,
        next_products=[
            {"product": wealth.pk, "share": "0.3800", "held": "DEP_TIME", "band": 3, "customers": 120}
        ],
    )


def _page(client, customer) -> str:
    response = client.get(f"/customers/{customer.customer_no}/")
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str) -> str:
    """The analysis panel: from its card to the accounts card that follows it."""
    assert 'data-testid="analysis-panel"' in html, "no analysis panel on the page"
    return html.split('data-testid="analysis-panel"', 1)[1].split(">Accounts</h2>", 1)[0]


def test_the_panel_shows_the_scores_their_reasons_and_the_next_products(
    client, customer, wealth, demo_password
):
    row = _row(customer, wealth)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    assert "As of 2026-11-30" in panel
    # contribution by business line
    assert "30,000.00" in panel and "25,000.00" in panel and "2,000.00" in panel and "3,000.00" in panel
    # churn: the probability, who scored it, the value at risk
    assert "40.0%" in panel
    assert "Scored by the rules: not enough history for a trained model yet" in panel
    assert "12,000.00" in panel
    # loyalty and satisfaction
    assert ">62<" in panel and ">75<" in panel
    # each score's top three reasons as sentences, never a fourth, never the codes alone
    assert escape("No transaction for 130 days (the last on 2026-07-23) (+8 points)") in panel
    assert escape("With the bank for 84 months: 21 of 30 points") in panel
    sentences = reasons(row)
    for sentence in sentences["churn"][:3] + sentences["loyalty"]:
        assert escape(sentence) in panel
    assert len(sentences["churn"]) == 3
    assert "A new manager of record" not in panel  # the fourth, +5 points
    assert "aum_change_3m" not in panel and "manager_changed" not in panel
    # the next best product by name, with its reason
    assert "稳健理财A" in panel and "WM0001" in panel
    assert "38%" in panel


def test_a_customer_not_analysed_yet_shows_the_empty_state(client, customer, demo_password):
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    assert 'data-testid="analysis-empty"' in panel
    assert "Not analysed yet" in panel


def test_no_products_to_recommend_is_said(client, customer, demo_password):
    analysed(customer, next_products=[])
    log_in(client, "demo_cm1", demo_password)

    assert "No product to recommend." in _panel(_page(client, customer))


def test_a_user_who_may_not_read_the_analysis_sees_no_panel(client, customer, wealth, demo_password):
    # the system administrator sees customers, not their analysis
    _row(customer, wealth)
    log_in(client, "demo_admin", demo_password)

    html = _page(client, customer)

    assert 'data-testid="analysis-panel"' not in html
    assert "12,000.00" not in html


def test_a_branch_head_sees_the_panel_of_their_subtree_only(
    client,
    demo_users,
    new_customer,  # noqa: F811
    wealth,
    demo_password,
):
    ours = new_customer(branch="11101", manager=demo_users["demo_cm1"])
    theirs = new_customer(branch="12101", manager=demo_users["demo_cm3"])
    analysed(ours)
    analysed(theirs)
    log_in(client, "demo_bh", demo_password)

    assert "12,000.00" in _panel(_page(client, ours))
    assert client.get(f"/customers/{theirs.customer_no}/").status_code == 404
    # and the analysis itself is read through the scope
    assert customer_analysis(user=demo_users["demo_bh"], customer=theirs) is None


def test_a_manager_cannot_read_a_colleagues_customer_analysis(client, demo_users, customer, demo_password):
    analysed(customer)
    log_in(client, "demo_cm2", demo_password)

    assert client.get(f"/customers/{customer.customer_no}/").status_code == 404
    assert customer_analysis(user=demo_users["demo_cm2"], customer=customer) is None
    # the provider, asked all the same, shows nothing of the row
    section = customer_panel(customer, demo_users["demo_cm2"])
    assert section is not None and section.context["analysis"] is None


def test_the_panel_runs_two_queries_at_most(demo_users, customer, wealth):
    _row(customer, wealth)
    user = demo_users["demo_cm1"]
    # as on the 360 view: permissions, roles and the scope already read for the page
    user.has_perm("analysis.view_customeranalysis")
    assert Customer.objects.visible_to(user).filter(pk=customer.pk).exists()

    with CaptureQueriesContext(connection) as queries:
        section = customer_panel(customer, user)
        html = str(section.context["analysis"].products)  # everything read by now
    assert len(queries) <= PANEL_QUERIES, [q["sql"] for q in queries]
    assert "稳健理财A" in html


def test_the_page_with_the_panel_stays_bounded(
    client, customer, wealth, demo_password, django_assert_max_num_queries
):
    _row(customer, wealth)
    log_in(client, "demo_cm1", demo_password)
    client.get(f"/customers/{customer.customer_no}/")  # warm the session

    with django_assert_max_num_queries(PAGE_BOUND + PANEL_QUERIES):
        html = _page(client, customer)
    assert 'data-testid="analysis-panel"' in html


def test_the_panel_figures_are_the_rows(customer, wealth, demo_users):
    row = _row(customer, wealth)
    section = customer_panel(customer, demo_users["demo_cm1"])
    assert section is not None
    panel = section.context["analysis"]
    assert panel.row.pk == row.pk
    assert panel.churn_percent == Decimal("40.0000")
    assert [p.code for p in panel.products] == ["WM0001"]
    assert panel.products[0].share == Decimal("0.3800")
    assert all(len(sentences) <= 3 for sentences in panel.reasons.values())


def test_a_row_the_model_scored_names_the_models_version(client, customer, demo_password):
    model = ChurnModel.objects.create(
        number=3, as_of=datetime.date(2026, 10, 31), months=24, samples=1000, positives=60
    )
    analysed(customer, churn_source=ChurnSource.MODEL, model=model)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    assert "Scored by the trained model v3 (history up to 2026-10-31)" in panel

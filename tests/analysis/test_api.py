"""The customer analysis in the 360 summary of the customer API
(`GET /api/v1/customers/<no>/`, docs/api.md): an "analysis" section with the scores,
the churn source, the value at risk, the reasons as sentences and the next products,
for callers who read the analysis; null before the customer's first analysis; left
out for a caller who may not read it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analysis.reasons import reasons
from customers.choices import AccountCategory
from marketing.models import Product
from tests.analysis.save_helpers import analysed
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

# the 360 summary's bound without the section (tests/customers/test_api.py)
DETAIL_BOUND = 15
SECTION_QUERIES = 2

CHURN = {
    "aum_change_3m": Decimal("-0.35"),
    "push_aum_change_3m": 25,
    "dormant_days": 130,
    "push_dormant_days": 8,
}


@pytest.fixture
def customer(demo_users, new_customer):  # noqa: F811
    return new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum="500000")


@pytest.fixture
def wealth():
    return Product.objects.create(
        code="WM0001", name="稳健理财A", category=AccountCategory.WEALTH, risk_rating="R2"
    )


def _detail(client, customer):
    response = client.get(f"/api/v1/customers/{customer.customer_no}/")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_the_summary_holds_the_analysis(api, demo_users, customer, wealth):
    row = analysed(
        customer,
        **CHURN,
        next_products=[
            {"product": wealth.pk, "share": "0.3800", "held": "DEP_TIME", "band": 3, "customers": 120}
        ],
    )

    section = _detail(api(demo_users["demo_cm1"]), customer)["analysis"]

    assert section["as_of"] == "2026-11-30"
    assert section["contribution"] == "30000.00"
    assert section["contribution_liability"] == "25000.00"
    assert section["loyalty"] == 62
    assert section["churn_probability"] == "0.4000"
    assert section["churn_source"] == "rules"
    assert section["satisfaction"] == 75
    assert section["value_at_risk"] == "12000.00"
    assert section["reasons"]["churn"] == [str(s) for s in reasons(row)["churn"][:3]]
    assert set(section["reasons"]) == {"contribution", "loyalty", "churn", "satisfaction"}
    [product] = section["next_products"]
    assert product["code"] == "WM0001" and product["name"] == "稳健理财A"
    assert product["share"] == "0.3800"
    assert "38%" in product["reason"]


def test_a_customer_not_analysed_yet_has_a_null_section(api, demo_users, customer):
    data = _detail(api(demo_users["demo_cm1"]), customer)
    assert "analysis" in data and data["analysis"] is None


def test_a_caller_who_may_not_read_the_analysis_gets_no_section(api, demo_users, customer):
    analysed(customer)
    # the system administrator reads customers, not their analysis
    data = _detail(api(demo_users["demo_admin"]), customer)
    assert "analysis" not in data
    assert "12000.00" not in str(data)


def test_a_customer_outside_the_callers_scope_is_not_found(api, demo_users, customer):
    analysed(customer)
    response = api(demo_users["demo_cm2"]).get(f"/api/v1/customers/{customer.customer_no}/")
    assert response.status_code == 404


def test_the_section_adds_two_queries_at_most(
    api, demo_users, customer, wealth, django_assert_max_num_queries
):
    analysed(
        customer,
        next_products=[
            {"product": wealth.pk, "share": "0.3800", "held": "DEP_TIME", "band": 3, "customers": 120}
        ],
    )
    client = api(demo_users["demo_cm1"])
    _detail(client, customer)  # the token and permissions read once

    with django_assert_max_num_queries(DETAIL_BOUND + SECTION_QUERIES):
        data = _detail(client, customer)
    assert data["analysis"]["next_products"][0]["code"] == "WM0001"


def test_the_schema_describes_the_section(api, demo_users):
    response = api(demo_users["demo_cm1"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()["components"]["schemas"]
    detail = schema["CustomerDetail"]["properties"]
    assert "analysis" in detail
    assert "CustomerAnalysis" in schema
    assert "value_at_risk" in schema["CustomerAnalysis"]["properties"]

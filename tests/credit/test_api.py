"""The customer's loans and cards in the 360 summary of the customer API
(`GET /api/v1/customers/<no>/`, docs/credit.md): a "credit" section with each
account's masked number, category, balance, status and month-end trend, and the
customer's totals; an empty list for a customer without loans or cards; for the
callers who see the customer's accounts, of customers in their scope."""

from __future__ import annotations

import pytest

from credit.panels import api_section
from customers import panels
from customers.masking import mask_account_no
from tests.credit.credit_helpers import (
    AS_OF,
    CARD_NO,
    CLOSED_LOAN_NO,
    FULL_NUMBERS,
    MONTH_ENDS,
    MORTGAGE_NO,
    book_of_credit,
)

pytestmark = pytest.mark.django_db

# the 360 summary's bound with the sections registered before this one
# (tests/customers/test_api.py), and what the credit section adds to it
DETAIL_BOUND = 15
SECTION_QUERIES = 2


@pytest.fixture
def customer(demo_users, new_customer):
    return new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum_date=AS_OF)


def _detail(client, customer):
    response = client.get(f"/api/v1/customers/{customer.customer_no}/")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_the_summary_holds_the_loans_and_cards(api, demo_users, customer, add_account):
    book_of_credit(customer, add_account)

    section = _detail(api(demo_users["demo_cm1"]), customer)["credit"]

    assert section["as_of"] == "2026-12-04"
    assert section["outstanding"] == "862345.67"
    assert section["overdue_amount"] == "15600.00"
    assert (section["worst_risk_class"], section["worst_risk_class_label"]) == (5, "Loss")
    mortgage, card, closed_loan = section["accounts"]
    assert [mortgage["account_no"], card["account_no"], closed_loan["account_no"]] == [
        mask_account_no(MORTGAGE_NO),
        mask_account_no(CARD_NO),
        mask_account_no(CLOSED_LOAN_NO),
    ]
    assert mortgage["category"] == "LOAN_MORTGAGE" and mortgage["category_label"] == "Mortgage loan"
    assert mortgage["balance"] == "850000.00" and not mortgage["closed"]
    assert (mortgage["overdue_days"], mortgage["overdue_amount"]) == (95, "12600.00")
    assert (mortgage["risk_class"], mortgage["risk_class_label"]) == (3, "Substandard")
    assert mortgage["since"] == "2026-10-05"
    assert [m["month_end"] for m in mortgage["trend"]] == [day.isoformat() for day in MONTH_ENDS]
    assert [(m["overdue_days"], m["risk_class_label"]) for m in mortgage["trend"]] == [
        (0, "Normal"),  # carried over from 15 March
        (0, "Normal"),
        (35, "Special mention"),
        (35, "Special mention"),
        (95, "Substandard"),
        (95, "Substandard"),
    ]
    # never reported: current, no date
    assert (card["overdue_days"], card["risk_class"], card["since"]) == (0, 1, None)
    # closed, still past due since May: listed, its status carried over every month end
    assert closed_loan["closed"] and closed_loan["since"] == "2026-05-20"
    assert {(m["overdue_days"], m["risk_class"]) for m in closed_loan["trend"]} == {(200, 5)}


def test_no_full_account_number_reaches_the_api(api, demo_users, customer, add_account):
    book_of_credit(customer, add_account)
    for username in ("demo_cm1", "demo_bh", "demo_bm", "demo_audit"):
        response = api(demo_users[username]).get(f"/api/v1/customers/{customer.customer_no}/")
        assert response.status_code == 200, username
        body = response.content.decode()
        assert mask_account_no(MORTGAGE_NO) in body
        for number in FULL_NUMBERS:
            assert number not in body, (username, number)


def test_a_customer_without_loans_or_cards_has_an_empty_section(api, demo_users, customer, add_account):
    add_account(customer)  # a current deposit only

    section = _detail(api(demo_users["demo_cm1"]), customer)["credit"]

    assert section["accounts"] == []
    assert section["outstanding"] == "0.00" and section["overdue_amount"] == "0.00"
    assert section["worst_risk_class_label"] == "Normal"


def test_a_customer_outside_the_callers_scope_is_not_found(api, demo_users, customer, add_account):
    book_of_credit(customer, add_account)

    response = api(demo_users["demo_cm2"]).get(f"/api/v1/customers/{customer.customer_no}/")

    assert response.status_code == 404
    assert "12600" not in response.content.decode()
    # the section, asked all the same, reads nothing outside the scope
    assert api_section(customer, demo_users["demo_cm2"])["accounts"] == []


def test_a_caller_who_may_not_see_customers_gets_no_section(api, demo_users, customer, add_account):
    book_of_credit(customer, add_account)

    response = api(demo_users["demo_pm"]).get(f"/api/v1/customers/{customer.customer_no}/")

    assert response.status_code == 403
    assert "credit" not in panels.api_section_data(customer, demo_users["demo_pm"])
    assert "credit" in panels.api_section_data(customer, demo_users["demo_cm1"])


def test_the_section_adds_two_queries_at_most(
    api, demo_users, customer, add_account, django_assert_max_num_queries
):
    book_of_credit(customer, add_account)
    client = api(demo_users["demo_cm1"])
    _detail(client, customer)  # the token and permissions read once

    with django_assert_max_num_queries(DETAIL_BOUND + SECTION_QUERIES):
        data = _detail(client, customer)
    assert len(data["credit"]["accounts"]) == 3


def test_the_schema_describes_the_section(api, demo_users):
    response = api(demo_users["demo_cm1"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()["components"]["schemas"]
    assert "credit" in schema["CustomerDetail"]["properties"]
    credit = schema["CustomerCredit"]["properties"]
    assert {"as_of", "outstanding", "overdue_amount", "worst_risk_class", "accounts"} <= set(credit)
    account = schema["CreditAccount"]["properties"]
    assert "masked" in account["account_no"]["description"]
    assert "non-performing" in account["risk_class"]["description"]
    assert "trend" in account

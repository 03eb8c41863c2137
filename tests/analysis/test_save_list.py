"""The save list (/analysis/save-list/): a manager's customers of record by value at
risk, names masked, tiers, reasons and products by name; the filters and their
errors; a branch head's team and the managers they may pick; refused roles;
paging; a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.html import escape

from customers.choices import AccountCategory
from marketing.models import Product
from tests.analysis.save_helpers import analysed
from tests.customers.conftest import log_in, new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

URL = "/analysis/save-list/"
# What every page of the portal reads and writes for the request: the session, the
# user, their permissions and roles, the session saved (in its savepoint).
REQUEST = 8
# The page's own: the scope (a manager's branch and shares; a head's subtree), the
# level names, the count, the page's rows, the page's products; a head's managers.


@pytest.fixture
def book(demo_users, new_customer):  # noqa: F811
    """cm1's three customers (the most at risk a platinum one), cm2's and cm3's one each."""
    cm1, cm2, cm3 = demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["demo_cm3"]
    customers = {
        "big": new_customer(branch="11101", manager=cm1, name="王大海", tier="platinum"),
        "mid": new_customer(branch="11101", manager=cm1, name="欧阳明月", tier="gold"),
        "small": new_customer(branch="11101", manager=cm1, name="张小山"),
        "cm2": new_customer(branch="11102", manager=cm2, name="李同事"),
        "cm3": new_customer(branch="12101", manager=cm3, name="陈远方"),
    }
    analysed(customers["big"], churn_probability="0.7000", contribution="100000",
             aum_change_3m=Decimal("-0.4"), aum=Decimal("60000"), aum_3m=Decimal("100000"), push_aum_change_3m=25,
             dormant_days=95, push_dormant_days=8)  # fmt: skip
    analysed(customers["mid"], churn_probability="0.3000", contribution="50000")
    analysed(customers["small"], churn_probability="0.1000", contribution="20000")
    analysed(customers["cm2"], churn_probability="0.5000", contribution="40000")
    analysed(customers["cm3"], churn_probability="0.5000", contribution="60000")
    return customers


def _get(client, **query):
    return client.get(URL, query)


def _numbers(response) -> list[str]:
    """The customer numbers of the table, in order."""
    html = response.content.decode()
    rows = html.split('data-testid="save-list-row"')[1:]
    return [row.split("/customers/", 1)[1].split("/", 1)[0] for row in rows]


def test_a_manager_sees_their_customers_most_at_risk_first(client, book, demo_password):
    log_in(client, "demo_cm1", demo_password)

    response = _get(client)

    assert response.status_code == 200
    assert _numbers(response) == [book[k].customer_no for k in ("big", "mid", "small")]
    html = response.content.decode()
    assert "My save list" in html
    assert "Analysis as of 2026-11-30" in html


def test_names_are_masked_and_labels_not_codes(client, book, demo_password):
    log_in(client, "demo_cm1", demo_password)

    html = _get(client).content.decode()

    assert "王*" in html and "欧阳*" in html
    assert "王大海" not in html and "欧阳明月" not in html and "张小山" not in html
    # tiers by their level's name, no tier said in words
    assert "白金级" in html and "金级" in html and "No tier" in html
    assert ">platinum<" not in html
    # churn probability, value at risk and contribution of the first row
    assert "70.0%" in html and "70,000.00" in html and "100,000.00" in html
    # the top churn reason as a sentence
    assert escape("AUM down 40.0% in 3 months (100,000.00 → 60,000.00) (+25 points)") in html
    assert "No transaction for 95 days" not in html  # the top reason only


def test_the_next_best_product_is_shown_by_name(client, book, demo_password):
    wealth = Product.objects.create(code="WM0001", name="稳健理财A", category=AccountCategory.WEALTH)
    row = book["big"].analysis
    row.next_products = [
        {"product": wealth.pk, "share": "0.3800", "held": "DEP_TIME", "band": 3, "customers": 99}
    ]
    row.save()
    log_in(client, "demo_cm1", demo_password)

    html = _get(client).content.decode()

    assert "稳健理财A" in html and "WM0001" not in html


def test_filters_narrow_the_list(client, book, demo_password):
    log_in(client, "demo_cm1", demo_password)

    assert _numbers(_get(client, min_probability="30")) == [book["big"].customer_no, book["mid"].customer_no]
    assert _numbers(_get(client, tier="gold")) == [book["mid"].customer_no]
    assert _numbers(_get(client, tier="none")) == [book["small"].customer_no]
    assert _numbers(_get(client, q=book["small"].customer_no)) == [book["small"].customer_no]
    # a colleague's customer is not found by number either
    response = _get(client, q=book["cm2"].customer_no)
    assert response.status_code == 200 and _numbers(response) == []
    assert "No customer matches these filters." in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"min_probability": "150"}, "min_probability", "less than or equal to 100"),
        (
            {"min_probability": "abc"},
            "min_probability",
            "Enter the probability as a percentage from 0 to 100.",
        ),
        ({"tier": "diamond"}, "tier", "There is no such tier: choose one from the list."),
        ({"q": "12-34"}, "q", "A customer number has letters and digits only."),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, book, demo_password, query, field, message):
    log_in(client, "demo_cm1", demo_password)

    response = _get(client, **query)

    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html and message in html
    assert 'data-testid="save-list-row"' not in html


def test_a_manager_cannot_open_a_colleagues_list(client, book, demo_users, demo_password):
    log_in(client, "demo_cm1", demo_password)

    response = _get(client, manager=demo_users["demo_cm2"].employee_no)

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a client manager whose customers you may see" in html
    assert book["cm2"].customer_no not in html


def test_a_branch_head_sees_their_teams_lists_and_picks_a_manager(client, book, demo_users, demo_password):
    log_in(client, "demo_bh", demo_password)

    team = _get(client)
    assert team.status_code == 200
    # cm1's and cm2's customers (the subtree of 11100), not cm3's in Shanghai
    assert _numbers(team) == [book[k].customer_no for k in ("big", "cm2", "mid", "small")]
    html = team.content.decode()
    assert "Save list of my team" in html
    assert "王经理" in html and "李经理" in html  # the manager of record column, by name

    picked = _get(client, manager=demo_users["demo_cm2"].employee_no)
    assert picked.status_code == 200
    assert _numbers(picked) == [book["cm2"].customer_no]
    assert "Save list of 李经理" in picked.content.decode()


def test_a_branch_head_cannot_pick_a_manager_outside_their_subtree(client, book, demo_users, demo_password):
    log_in(client, "demo_bh", demo_password)

    response = _get(client, manager=demo_users["demo_cm3"].employee_no)

    assert response.status_code == 400
    assert book["cm3"].customer_no not in response.content.decode()


def test_head_office_sees_every_team(client, book, demo_users, demo_password):
    log_in(client, "demo_bm", demo_password)

    assert len(_numbers(_get(client))) == 5
    assert _numbers(_get(client, manager=demo_users["demo_cm3"].employee_no)) == [book["cm3"].customer_no]


@pytest.mark.parametrize("username", ["demo_admin", "demo_pm"])
def test_roles_that_do_not_read_the_analysis_are_refused(client, book, demo_password, username):
    log_in(client, username, demo_password)
    assert _get(client).status_code == 403


def test_an_empty_list_says_so(client, demo_users, demo_password):
    log_in(client, "demo_cm1", demo_password)

    response = _get(client)

    assert response.status_code == 200
    assert "No customers of record analysed yet" in response.content.decode()


def test_pages_and_a_bounded_number_of_queries(
    client,
    demo_users,
    new_customer,  # noqa: F811
    demo_password,
    django_assert_max_num_queries,
):
    cm1 = demo_users["demo_cm1"]
    wealth = Product.objects.create(code="WM0001", name="稳健理财A", category=AccountCategory.WEALTH)
    for n in range(30):
        customer = new_customer(branch="11101", manager=cm1, tier="gold" if n % 2 else "")
        analysed(
            customer,
            contribution=str(10000 + n * 100),
            next_products=[
                {"product": wealth.pk, "share": "0.3", "held": "DEP_TIME", "band": 1, "customers": 40}
            ],
        )
    log_in(client, "demo_cm1", demo_password)
    _get(client)  # the session read once

    with django_assert_max_num_queries(REQUEST + 6):
        first = _get(client)
    assert len(_numbers(first)) == 25
    assert "Items 1–25 of 30" in first.content.decode()
    second = _get(client, page="2")
    assert len(_numbers(second)) == 5
    # the order goes on across pages: the least at risk last
    values = [Decimal("0.4") * (10000 + n * 100) for n in range(30)]
    assert min(values) == Decimal("4000.0")
    assert "4,000.00" in second.content.decode()

    # a branch head's team page, with the manager filter's choices, stays bounded too
    client.logout()
    log_in(client, "demo_bh", demo_password)
    _get(client)
    with django_assert_max_num_queries(REQUEST + 7):
        assert _get(client).status_code == 200

"""Next best products (analysis.recommend): the co-holding groups and shares on a
known book, what a customer is offered and why, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analysis.models import CoHolding, CustomerAnalysis
from analysis.recommend import AUM_BANDS, band_index, product_reasons, recommend_products
from customers.choices import AccountCategory, AccountStatus
from customers.models import CustomerMonthlyAum
from marketing.choices import RiskRating
from marketing.models import Product
from tests.customers.factories import AccountFactory, CustomerFactory

AS_OF = datetime.date(2026, 6, 15)
MONTH = datetime.date(2026, 6, 1)
VALID = datetime.date(2027, 6, 30)
SINCE = datetime.date(2020, 1, 1)


def _product(code, name, category, rating="", **fields):
    return Product.objects.create(
        code=code, name=name, category=category, risk_rating=rating, sale_start=SINCE, **fields
    )


@pytest.fixture
def catalogue(db):
    return {
        "deposit": _product("TD-12M", "One-year deposit", AccountCategory.DEP_TIME),
        "wealth": _product("WM-A", "Wealth A", AccountCategory.WEALTH, RiskRating.R3),
        "fund": _product("FD-X", "Fund X", AccountCategory.FUND, RiskRating.R5),
        "card": _product("CC-GOLD", "Gold card", AccountCategory.CREDIT_CARD),
        # on sale, held by nobody: a share of 0, never offered
        "unheld": _product("FD-Y", "Fund Y", AccountCategory.FUND, RiskRating.R1),
        # held by many but not on sale: no share, never offered
        "retired": _product(
            "WM-OLD", "Old wealth", AccountCategory.WEALTH, RiskRating.R1, sale_end=datetime.date(2026, 1, 31)
        ),
        "withdrawn": _product(
            "INS-X", "Withdrawn cover", AccountCategory.INSURANCE, RiskRating.R2, is_active=False
        ),
    }


def _customer(org, aum, *, risk_level="C5", risk_expiry=VALID, analysed=True, **fields):
    customer = CustomerFactory(
        home_branch=org["11101"], risk_level=risk_level, risk_expiry=risk_expiry, **fields
    )
    CustomerMonthlyAum.objects.create(
        customer=customer, month=MONTH, avg_aum=aum, end_aum=aum, avg_liabilities=0, days=15
    )
    if analysed:
        CustomerAnalysis.objects.create(customer=customer, as_of=AS_OF, aum=aum)
    return customer


def _account(customer, category, code, status=AccountStatus.OPEN):
    AccountFactory(customer=customer, category=category, product_code=code, status=status)


@pytest.fixture
def book(org, catalogue):
    """40 customers with a time deposit and AUM 500k–1m (band 3); 30 of them (10..39)
    also with a current deposit. Wealth A: 0..15 (16/40 = 40% of the time-deposit
    group, 6/30 = 20% of the current-deposit one); Fund X: 16..25 (25%, 33.33%); the
    gold card: 26..33 (20%, 26.67%); the retired product: 0..19; the withdrawn one:
    30..39. The other categories' groups stay under 30 customers. A second group of
    29 customers with a time deposit and AUM 3m–6m makes no rule."""
    members = []
    for n in range(40):
        aum = {10: Decimal("500000.00"), 11: Decimal("999999.99")}.get(n, Decimal("600000.00"))
        fields = {}
        if n == 35:
            fields = {"risk_level": "C2"}
        elif n == 36:
            fields = {"risk_expiry": AS_OF - datetime.timedelta(days=1)}
        elif n == 37:
            fields = {f"consent_{c}": False for c in ("call", "sms", "wechat", "email", "visit")}
        elif n == 38:
            fields = {"consent_call": False, "consent_sms": False}
        elif n == 39:
            fields = {"risk_level": "C4"}
        customer = _customer(org, aum, **fields)
        _account(customer, AccountCategory.DEP_TIME, "TD-12M")
        if n >= 10:
            _account(customer, AccountCategory.DEP_CUR, "DC-DEBIT")
        if n < 16:
            _account(customer, AccountCategory.WEALTH, "WM-A")
        if 16 <= n < 26:
            _account(customer, AccountCategory.FUND, "FD-X")
        if 26 <= n < 34:
            _account(customer, AccountCategory.CREDIT_CARD, "CC-GOLD")
        if n < 20:
            _account(customer, AccountCategory.WEALTH, "WM-OLD")
        if n >= 30:
            _account(customer, AccountCategory.INSURANCE, "INS-X")
        members.append(customer)
    # a closed account neither places a customer in a group nor counts as holding
    _account(members[34], AccountCategory.WEALTH, "WM-A", status=AccountStatus.CLOSED)
    rich = []
    for n in range(29):
        customer = _customer(org, Decimal("4000000"), analysed=n < 25)
        _account(customer, AccountCategory.DEP_TIME, "TD-12M")
        if n < 15:
            _account(customer, AccountCategory.WEALTH, "WM-A")
        rich.append(customer)
    return {"members": members, "rich": rich}


def _next(customer) -> list[dict]:
    return CustomerAnalysis.objects.get(customer=customer).next_products


def _offered(customer) -> list[tuple[str, str]]:
    products = dict(Product.objects.values_list("pk", "code"))
    return [(products[item["product"]], item["share"]) for item in _next(customer)]


def _shares() -> dict[tuple[str, int, str], tuple[int, int, Decimal]]:
    return {
        (c.held, c.aum_band, c.product.code): (c.customers, c.holders, c.share)
        for c in CoHolding.objects.select_related("product")
    }


def test_groups_and_shares(book):
    counts = recommend_products(AS_OF)

    shares = _shares()
    # two groups of at least 30 customers, each × the five products on sale
    assert counts["groups"] == 2
    assert counts["coholdings"] == 10 == len(shares)
    assert shares[(AccountCategory.DEP_TIME, 3, "TD-12M")] == (40, 40, Decimal("1.0000"))
    assert shares[(AccountCategory.DEP_TIME, 3, "WM-A")] == (40, 16, Decimal("0.4000"))
    assert shares[(AccountCategory.DEP_TIME, 3, "FD-X")] == (40, 10, Decimal("0.2500"))
    assert shares[(AccountCategory.DEP_TIME, 3, "CC-GOLD")] == (40, 8, Decimal("0.2000"))
    assert shares[(AccountCategory.DEP_TIME, 3, "FD-Y")] == (40, 0, Decimal("0.0000"))
    assert shares[(AccountCategory.DEP_CUR, 3, "WM-A")] == (30, 6, Decimal("0.2000"))
    assert shares[(AccountCategory.DEP_CUR, 3, "FD-X")] == (30, 10, Decimal("0.3333"))
    assert shares[(AccountCategory.DEP_CUR, 3, "CC-GOLD")] == (30, 8, Decimal("0.2667"))
    assert CoHolding.objects.filter(as_of=AS_OF).count() == 10
    # products off sale or withdrawn have no share
    assert not CoHolding.objects.filter(product__code__in=["WM-OLD", "INS-X"]).exists()


def test_groups_under_thirty_customers_make_no_rule(book):
    recommend_products(AS_OF)

    # 29 customers with a time deposit and AUM 3m–6m, half of them holding Wealth A
    assert not CoHolding.objects.filter(aum_band=5).exists()
    assert not CoHolding.objects.filter(held=AccountCategory.WEALTH).exists()  # 20 holders only
    for customer in book["rich"][:25]:
        assert _next(customer) == []


def test_best_three_by_highest_share_among_the_customers_groups(book):
    recommend_products(AS_OF)

    # in both groups: each product scored by the group where its share is highest
    assert _next(book["members"][34]) == [
        {"product": Product.objects.get(code="WM-A").pk, "share": "0.4000", "held": "DEP_TIME", "band": 3,
         "customers": 40},
        {"product": Product.objects.get(code="FD-X").pk, "share": "0.3333", "held": "DEP_CUR", "band": 3,
         "customers": 30},
        {"product": Product.objects.get(code="CC-GOLD").pk, "share": "0.2667", "held": "DEP_CUR", "band": 3,
         "customers": 30},
    ]  # fmt: skip
    # in the time-deposit group only
    assert _offered(book["members"][5]) == [("FD-X", "0.2500"), ("CC-GOLD", "0.2000")]
    # the band's edges: 500,000.00 and 999,999.99 are both 500k–1m
    assert _offered(book["members"][10])[0] == ("FD-X", "0.3333")
    assert _offered(book["members"][11])[0] == ("FD-X", "0.3333")


def test_a_held_product_is_never_recommended(book):
    recommend_products(AS_OF)

    for n, customer in enumerate(book["members"]):
        codes = [code for code, _share in _offered(customer)]
        assert "TD-12M" not in codes  # everyone holds it
        if n < 16:
            assert "WM-A" not in codes
        if 16 <= n < 26:
            assert "FD-X" not in codes
        if 26 <= n < 34:
            assert "CC-GOLD" not in codes
        # never one off sale, withdrawn, or that nobody in their groups holds
        assert not {"WM-OLD", "INS-X", "FD-Y"} & set(codes)


def test_unsuitable_rated_products_are_left_out_and_unrated_ones_kept(book):
    recommend_products(AS_OF)

    members = book["members"]
    # C2 covers neither Wealth A (R3) nor Fund X (R5); the card needs no assessment
    assert _offered(members[35]) == [("CC-GOLD", "0.2667")]
    # an assessment that expired the day before blocks every rated product
    assert _offered(members[36]) == [("CC-GOLD", "0.2667")]
    # C4 covers R3, not R5
    assert _offered(members[39]) == [("WM-A", "0.4000"), ("CC-GOLD", "0.2667")]


def test_no_products_for_a_customer_who_opted_out_of_every_channel(book):
    members = book["members"]
    CustomerAnalysis.objects.filter(customer=members[37]).update(
        next_products=[{"product": 1, "share": "0.9000", "held": "DEP_TIME", "band": 3, "customers": 40}]
    )

    counts = recommend_products(AS_OF)

    # yesterday's list is cleared, not left behind
    assert _next(members[37]) == []
    # opting out of some channels only does not stop recommendations
    assert [code for code, _share in _offered(members[38])] == ["WM-A", "FD-X", "CC-GOLD"]
    # every member but the opted-out one has something; the 25 analysed rich customers nothing
    assert counts["customers"] == 39


def test_only_analysed_customers_get_a_list(book):
    recommend_products(AS_OF)

    assert CustomerAnalysis.objects.count() == 40 + 25
    assert not CustomerAnalysis.objects.filter(customer__in=book["rich"][25:]).exists()


def test_a_rerun_gives_the_same_rows(book):
    first = recommend_products(AS_OF)
    shares = _shares()
    lists = dict(CustomerAnalysis.objects.values_list("customer_id", "next_products"))

    second = recommend_products(AS_OF)

    assert second == first
    assert _shares() == shares
    assert dict(CustomerAnalysis.objects.values_list("customer_id", "next_products")) == lists


def test_a_new_day_follows_the_data(book):
    recommend_products(AS_OF)
    # Fund X is taken off sale
    Product.objects.filter(code="FD-X").update(sale_end=AS_OF)

    recommend_products(AS_OF + datetime.timedelta(days=1))

    assert not CoHolding.objects.filter(product__code="FD-X").exists()
    assert set(CoHolding.objects.values_list("as_of", flat=True)) == {AS_OF + datetime.timedelta(days=1)}
    assert [code for code, _share in _offered(book["members"][34])] == ["WM-A", "CC-GOLD"]


def test_band_index_matches_the_bands():
    assert len(AUM_BANDS) == 7
    assert band_index(Decimal("0")) == 0
    assert band_index(Decimal("49999.99")) == 0
    assert band_index(Decimal("50000")) == 1
    assert band_index(Decimal("999999.99")) == 3
    assert band_index(Decimal("1000000")) == 4
    assert band_index(Decimal("6000000")) == 6
    assert band_index(Decimal("90000000")) == 6


def test_reasons_in_words_with_one_query(book, django_assert_num_queries):
    recommend_products(AS_OF)
    items = _next(book["members"][34])

    with django_assert_num_queries(1):
        reasons = product_reasons(items)

    assert [r["sentence"] for r in reasons] == [
        "Of customers who hold Time deposit and have AUM 500k–1m, 40% hold Wealth A.",
        "Of customers who hold Current deposit and have AUM 500k–1m, 33% hold Fund X.",
        "Of customers who hold Current deposit and have AUM 500k–1m, 27% hold Gold card.",
    ]
    assert [r["product"].code for r in reasons] == ["WM-A", "FD-X", "CC-GOLD"]
    assert reasons[1]["share"] == Decimal("0.3333")
    assert reasons[1]["customers"] == 30
    # no internal codes in the words
    for reason in reasons:
        assert "DEP_" not in reason["sentence"] and "WM-A" not in reason["sentence"]


def test_reasons_leave_out_a_product_that_is_gone(catalogue, django_assert_num_queries):
    wealth, fund = catalogue["wealth"], catalogue["fund"]
    items = [
        {"product": fund.pk, "share": "0.0040", "held": "WEALTH", "band": 6, "customers": 250},
        {"product": wealth.pk + 1000, "share": "0.3000", "held": "FUND", "band": 0, "customers": 31},
    ]

    with django_assert_num_queries(1):
        reasons = product_reasons(items)

    assert [r["sentence"] for r in reasons] == [
        "Of customers who hold Wealth management and have AUM 6m+, 0.4% hold Fund X."
    ]
    with django_assert_num_queries(0):
        assert product_reasons([]) == []

"""Segment rules on a known data set: each rule returns the right customers, and
every rule (and random combinations of them) agrees with a slow reference
evaluation in Python over the rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.scope import data_scope
from customers.choices import AccountCategory
from customers.models import Account, Customer, CustomerMonthlyAum, TransactionSummary
from marketing.models import MarketingProfile
from marketing.rfm import month_back, profile_refresh
from marketing.segments import birthday_keys, clean_rules, segment_customers, years_before

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 15)


# --- the slow reference: plain Python over every row --------------------------------------


def reference(rules: dict, *, today: datetime.date = TODAY) -> set[int]:
    rules = clean_rules(rules)
    accounts: dict[int, list[Account]] = {}
    for account in Account.objects.filter(status="O"):
        accounts.setdefault(account.customer_id, []).append(account)
    profiles = {p.customer_id: p for p in MarketingProfile.objects.all()}
    branches = {c.pk: c.home_branch.path for c in Customer.objects.select_related("home_branch")}
    from accounts.models import Branch, User

    roots = [b.path for b in Branch.objects.filter(code__in=rules.get("branches", []))]
    manager_ids = set(
        User.objects.filter(employee_no__in=rules.get("managers", [])).values_list("pk", flat=True)
    )
    found = set()
    for c in Customer.objects.all():
        if c.merged_into_id or c.status == "C":
            continue
        held = accounts.get(c.pk, [])
        p = profiles.get(c.pk)
        age = None
        if c.birth_date:
            age = (
                today.year
                - c.birth_date.year
                - ((today.month, today.day) < (c.birth_date.month, c.birth_date.day))
            )
        checks = []
        if "aum_min" in rules:
            checks.append(c.aum >= Decimal(rules["aum_min"]))
        if "aum_max" in rules:
            checks.append(c.aum <= Decimal(rules["aum_max"]))
        if "tiers" in rules:
            checks.append(c.tier in rules["tiers"])
        if "age_min" in rules:
            checks.append(age is not None and age >= rules["age_min"])
        if "age_max" in rules:
            checks.append(age is not None and age <= rules["age_max"])
        if "gender" in rules:
            checks.append(c.gender == rules["gender"])
        if "branches" in rules:
            checks.append(any(branches[c.pk].startswith(r) for r in roots))
        if "managers" in rules:
            checks.append(c.primary_manager_id in manager_ids)

        def holds(categories, products, held=held):
            return any(a.category in categories or a.product_code in products for a in held)

        if "holds_categories" in rules or "holds_products" in rules:
            checks.append(holds(rules.get("holds_categories", []), rules.get("holds_products", [])))
        if "lacks_categories" in rules or "lacks_products" in rules:
            checks.append(not holds(rules.get("lacks_categories", []), rules.get("lacks_products", [])))
        if "maturing_within_days" in rules:
            until = today + datetime.timedelta(days=rules["maturing_within_days"])
            checks.append(any(a.maturity_date and today <= a.maturity_date <= until for a in held))
        if "birthday_within_days" in rules:
            days = [today + datetime.timedelta(days=i) for i in range(rules["birthday_within_days"] + 1)]
            checks.append(c.birth_date is not None and any(_same_birthday(c.birth_date, d) for d in days))
        if "dormant_days" in rules:
            since = today - datetime.timedelta(days=rules["dormant_days"])
            checks.append(p is not None and (p.last_txn_date is None or p.last_txn_date <= since))
        for rule, field in (
            ("r_min", "recency_score"),
            ("f_min", "frequency_score"),
            ("m_min", "monetary_score"),
            ("rfm_min", "rfm_score"),
        ):
            if rule in rules:
                value = getattr(p, field) if p else None
                checks.append(value is not None and value >= rules[rule])
        if "trend_direction" in rules:
            if p is None:
                checks.append(False)
            else:
                before = getattr(
                    p, {1: "aum_1m", 3: "aum_3m", 6: "aum_6m", 12: "aum_12m"}[rules["trend_months"]]
                )
                factor = Decimal(rules.get("trend_pct", 0)) / 100
                if rules["trend_direction"] == "up":
                    checks.append(p.aum_now > before and p.aum_now >= before * (1 + factor))
                else:
                    checks.append(p.aum_now < before and p.aum_now <= before * (1 - factor))
        if all(checks):
            found.add(c.pk)
    return found


def _same_birthday(born: datetime.date, day: datetime.date) -> bool:
    if (born.month, born.day) == (day.month, day.day):
        return True
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    return born.month == 2 and born.day == 29 and not leap and (day.month, day.day) == (2, 28)


# --- the known data set ---------------------------------------------------------------------


@pytest.fixture
def book(users, make_customer, add_account):
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    c = {}
    c["rich_old"] = make_customer(
        manager=cm1, aum=Decimal("2000000"), birth_date=datetime.date(1950, 6, 20), gender="M", tier="gold"
    )
    c["rich_young"] = make_customer(
        manager=cm2,
        branch="11102",
        aum=Decimal("800000"),
        birth_date=datetime.date(1996, 6, 15),
        gender="F",
        tier="platinum",
    )
    c["middle"] = make_customer(
        manager=cm1, aum=Decimal("150000"), birth_date=datetime.date(1980, 12, 31), gender="F", tier="growth"
    )
    c["poor"] = make_customer(
        branch="12101", aum=Decimal("2000"), birth_date=datetime.date(2000, 2, 29), gender="M"
    )
    c["shanghai"] = make_customer(
        manager=users["demo_cm3"],
        branch="12101",
        aum=Decimal("500000"),
        birth_date=datetime.date(1975, 7, 1),
        gender="F",
        tier="gold",
    )
    c["no_birth"] = make_customer(aum=Decimal("50000"), id_type="02", birth_date=None, gender="")
    c["closed"] = make_customer(aum=Decimal("9000000"), status="C")
    c["dormant"] = make_customer(
        manager=cm1, aum=Decimal("300000"), birth_date=datetime.date(1966, 6, 16), gender="M", status="D"
    )

    add_account(
        c["rich_old"],
        category=AccountCategory.WEALTH,
        product_code="WM-2026A",
        maturity_date=TODAY + datetime.timedelta(days=10),
    )
    add_account(
        c["rich_old"],
        category=AccountCategory.DEP_TIME,
        product_code="TD-12M",
        maturity_date=TODAY + datetime.timedelta(days=200),
    )
    add_account(c["rich_young"], category=AccountCategory.FUND, product_code="FD-519732")
    add_account(
        c["middle"],
        category=AccountCategory.DEP_TIME,
        product_code="TD-03M",
        maturity_date=TODAY + datetime.timedelta(days=30),
    )
    add_account(
        c["middle"],
        category=AccountCategory.WEALTH,
        product_code="WM-CASH",
        status="C",
        maturity_date=TODAY + datetime.timedelta(days=5),
    )
    add_account(c["shanghai"], category=AccountCategory.DEP_CUR, product_code="DC-SALARY")
    add_account(
        c["dormant"],
        category=AccountCategory.DEP_TIME,
        product_code="TD-12M",
        maturity_date=TODAY - datetime.timedelta(days=1),
    )

    # transactions: recency / frequency / monetary
    def txn(customer, days_ago, count, amount):
        TransactionSummary.objects.create(
            business_date=TODAY - datetime.timedelta(days=days_ago),
            customer=customer,
            channel="MOBILE",
            txn_count=count,
            txn_amount=Decimal(amount),
        )

    txn(c["rich_old"], 1, 40, "90000")
    txn(c["rich_young"], 2, 80, "20000")
    txn(c["middle"], 30, 5, "3000")
    txn(c["poor"], 100, 2, "100")
    txn(c["shanghai"], 1, 10, "50000")
    txn(c["dormant"], 400, 3, "800")  # outside the RFM window: no scores, dormant
    # month-average AUM for the trend
    month = TODAY.replace(day=1)

    def aum(customer, months_ago, value):
        CustomerMonthlyAum.objects.create(
            customer=customer,
            month=month_back(month, months_ago),
            avg_aum=Decimal(value),
            end_aum=Decimal(value),
            avg_liabilities=0,
            days=30,
        )

    aum(c["rich_old"], 0, "2000000")
    aum(c["rich_old"], 3, "1000000")  # +100%
    aum(c["rich_young"], 0, "800000")
    aum(c["rich_young"], 3, "790000")  # +1.3%
    aum(c["middle"], 0, "150000")
    aum(c["middle"], 3, "300000")  # -50%
    aum(c["shanghai"], 0, "500000")  # new money: up from 0
    aum(c["dormant"], 0, "300000")
    aum(c["dormant"], 12, "600000")  # -50% over a year
    profile_refresh(TODAY)
    return c


def ids(*customers):
    return {c.pk for c in customers}


def evaluate(rules, user):
    return set(segment_customers(rules, user=user, today=TODAY).values_list("pk", flat=True))


KNOWN = [
    ({}, ["rich_old", "rich_young", "middle", "poor", "shanghai", "no_birth", "dormant"]),
    ({"aum_min": "150000", "aum_max": "800000"}, ["rich_young", "middle", "shanghai", "dormant"]),
    ({"tiers": ["gold", "platinum"]}, ["rich_old", "rich_young", "shanghai"]),
    (
        {"age_min": 30, "age_max": 59},
        ["rich_young", "middle", "shanghai", "dormant"],
    ),  # 30 today, 60 tomorrow
    ({"age_max": 30}, ["rich_young", "poor"]),  # 30 on their birthday today
    ({"gender": "F"}, ["rich_young", "middle", "shanghai"]),
    ({"branches": ["11100"]}, ["rich_old", "rich_young", "middle", "no_birth", "dormant"]),
    ({"branches": ["11102", "12000"]}, ["rich_young", "poor", "shanghai"]),
    ({"managers": ["E1101"]}, ["rich_old", "middle", "dormant"]),
    ({"holds_categories": ["WEALTH", "FUND"]}, ["rich_old", "rich_young"]),
    ({"holds_products": ["DC-SALARY", "TD-03M"]}, ["middle", "shanghai"]),
    ({"lacks_categories": ["DEP_TIME"]}, ["rich_young", "poor", "shanghai", "no_birth"]),
    ({"holds_categories": ["DEP_TIME"], "lacks_products": ["WM-2026A"]}, ["middle", "dormant"]),
    ({"maturing_within_days": 30}, ["rich_old", "middle"]),
    ({"maturing_within_days": 9}, []),
    ({"birthday_within_days": 5}, ["rich_old", "rich_young", "dormant"]),
    ({"birthday_within_days": 0}, ["rich_young"]),
    ({"dormant_days": 90}, ["poor", "no_birth", "dormant"]),
    ({"dormant_days": 365}, ["no_birth", "dormant"]),
    ({"r_min": 4}, ["rich_old", "shanghai"]),
    ({"f_min": 5}, ["rich_young"]),
    ({"m_min": 4, "r_min": 5}, ["rich_old", "shanghai"]),
    ({"rfm_min": 11}, ["rich_old", "rich_young", "shanghai"]),  # 14, 11 (3+5+3), 12
    ({"rfm_min": 12}, ["rich_old", "shanghai"]),
    ({"trend_direction": "up", "trend_months": 3, "trend_pct": 50}, ["rich_old", "shanghai", "dormant"]),
    (
        {"trend_direction": "up", "trend_months": 3, "trend_pct": 0},
        ["rich_old", "rich_young", "shanghai", "dormant"],
    ),
    ({"trend_direction": "up", "trend_months": 3, "trend_pct": 2}, ["rich_old", "shanghai", "dormant"]),
    ({"trend_direction": "down", "trend_months": 3, "trend_pct": 20}, ["middle"]),
    ({"trend_direction": "down", "trend_months": 12, "trend_pct": 40}, ["dormant"]),
]


@pytest.mark.parametrize("rules,expected", KNOWN, ids=[str(sorted(r)) or "none" for r, _ in KNOWN])
def test_each_rule_returns_the_right_customers(book, users, rules, expected):
    assert evaluate(rules, users["demo_bm"]) == ids(*(book[k] for k in expected))
    assert reference(rules) == ids(*(book[k] for k in expected))


def test_the_segment_is_evaluated_within_the_users_scope(book, users):
    rules = {"aum_min": "1000"}
    assert evaluate(rules, users["demo_cm1"]) == ids(book["rich_old"], book["middle"], book["dormant"])
    assert evaluate(rules, users["demo_bh"]) == ids(
        book["rich_old"], book["rich_young"], book["middle"], book["no_birth"], book["dormant"]
    )
    assert evaluate(rules, users["demo_cm3"]) == ids(book["shanghai"])


def test_counting_a_segment_is_one_sql_statement(book, users):
    rules = {
        "aum_min": "1000", "tiers": ["gold"], "holds_categories": ["WEALTH"], "lacks_products": ["X"],
        "maturing_within_days": 30, "birthday_within_days": 30, "dormant_days": 1, "r_min": 1,
        "trend_direction": "up",
    }  # fmt: skip
    user = users["demo_bm"]
    data_scope(user)  # the user's roles are read once per request, before
    with CaptureQueriesContext(connection) as queries:
        segment_customers(rules, user=user, today=TODAY).count()
    assert len(queries) == 1, [q["sql"] for q in queries]
    # branch codes and employee numbers: one small lookup each, then constants
    with CaptureQueriesContext(connection) as queries:
        segment_customers(
            {**rules, "branches": ["11000"], "managers": ["E1101"]}, user=user, today=TODAY
        ).count()
    lookups = [q["sql"] for q in queries][:-1]
    assert len(lookups) == 2 and "accounts_branch" in lookups[0] and "accounts_user" in lookups[1]
    assert "customers_customer" in queries[-1]["sql"]


def test_rfm_quintiles_and_ties(book):
    profiles = {p.customer_id: p for p in MarketingProfile.objects.all()}
    assert len(profiles) == 8  # every customer that is not merged, closed ones too
    # two customers last transacted yesterday: the same (top) recency score
    assert profiles[book["rich_old"].pk].recency_score == profiles[book["shanghai"].pk].recency_score == 5
    assert profiles[book["rich_young"].pk].frequency_score == 5
    assert profiles[book["poor"].pk].monetary_score == 1
    assert profiles[book["dormant"].pk].recency_score is None  # nothing in the window
    assert profiles[book["dormant"].pk].last_txn_date == TODAY - datetime.timedelta(days=400)
    assert profiles[book["no_birth"].pk].last_txn_date is None
    assert profiles[book["middle"].pk].aum_3m == Decimal("300000")
    # a re-run gives the same rows
    before = sorted(
        MarketingProfile.objects.values_list(
            "customer_id", "recency_score", "frequency_score", "monetary_score"
        )
    )
    profile_refresh(TODAY)
    after = sorted(
        MarketingProfile.objects.values_list(
            "customer_id", "recency_score", "frequency_score", "monetary_score"
        )
    )
    assert before == after


def test_birthday_keys_wrap_the_year_and_keep_29_february():
    assert birthday_keys(datetime.date(2026, 12, 30), 3) == [101, 102, 1230, 1231]
    assert 229 in birthday_keys(datetime.date(2027, 2, 27), 1)
    assert 229 not in birthday_keys(datetime.date(2028, 2, 27), 1)
    assert years_before(datetime.date(2028, 2, 29), 1) == datetime.date(2027, 2, 28)


RULE_VALUES = {
    "aum_min": st.sampled_from(["0", "2000", "150000", "600000"]),
    "aum_max": st.sampled_from(["50000", "500000", "3000000"]),
    "tiers": st.lists(st.sampled_from(["gold", "platinum", "growth", "core"]), min_size=1, max_size=2),
    "age_min": st.integers(0, 80),
    "age_max": st.integers(20, 90),
    "gender": st.sampled_from(["M", "F"]),
    "branches": st.lists(
        st.sampled_from(["10000", "11000", "11100", "11102", "12000", "12101"]), min_size=1, max_size=2
    ),
    "managers": st.lists(st.sampled_from(["E1101", "E1102", "E1201", "E0000"]), min_size=1, max_size=2),
    "holds_categories": st.lists(
        st.sampled_from(["WEALTH", "FUND", "DEP_TIME", "DEP_CUR"]), min_size=1, max_size=2
    ),
    "lacks_products": st.lists(st.sampled_from(["WM-2026A", "TD-12M", "DC-SALARY"]), min_size=1, max_size=2),
    "maturing_within_days": st.integers(0, 400),
    "birthday_within_days": st.integers(0, 365),
    "dormant_days": st.integers(0, 500),
    "r_min": st.integers(1, 5),
    "rfm_min": st.integers(3, 15),
    "trend_direction": st.sampled_from(["up", "down"]),
    "trend_months": st.sampled_from([1, 3, 6, 12]),
    "trend_pct": st.integers(0, 120),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rules=st.dictionaries(st.sampled_from(sorted(RULE_VALUES)), st.none(), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: RULE_VALUES[k] for k in keys})
    )
)
def test_random_combinations_agree_with_the_reference(book, users, rules):
    assert evaluate(rules, users["demo_bm"]) == reference(rules)

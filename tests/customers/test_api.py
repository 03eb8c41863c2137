"""The customer REST API (/api/v1/customers/): authentication, permission, data
scope (404 outside it), search, filters, masking, household, query counts, schema."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from customers.choices import AccountCategory, AccountStatus, ContactType, CustomerStatus, HouseholdRole
from customers.idnumbers import make_resident_id
from customers.masking import mask_account_no, mask_contact, mask_id_number, mask_mobile
from customers.models import ContactPoint, Customer, CustomerUserObjectPermission
from customers.selectors import household_aum
from customers.services import assignment_set_primary
from tests.customers.factories import (
    AccountFactory,
    ContactPointFactory,
    CustomerFactory,
    HouseholdFactory,
    InteractionFactory,
    OtherAssetFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers/"
MISSING_NO = "900000000000"  # no customer has this number


def detail_url(customer_no: str) -> str:
    return f"{LIST}{customer_no}/"


def customer_managed_by(manager, branch, **fields) -> Customer:
    customer = CustomerFactory(home_branch=branch, **fields)
    assignment_set_primary(customer=customer, manager=manager, by=None, reason="test")
    customer.refresh_from_db()
    return customer


@dataclass
class World:
    cm1_a: Customer  # 11101, demo_cm1
    cm1_b: Customer  # 11101, demo_cm1
    cm2: Customer  # 11102, demo_cm2
    unassigned: Customer  # 11100, nobody
    cm3: Customer  # 12101 (branch 12000), demo_cm3
    chaoyang: Customer  # 11201 (sub-branch 11200), cm_11201

    def numbers(self, *customers: Customer) -> set[str]:
        return {c.customer_no for c in customers}


@pytest.fixture
def world(org, demo_users) -> World:
    u = demo_users
    return World(
        cm1_a=customer_managed_by(u["demo_cm1"], org["11101"], name="欧阳锋华", aum=Decimal("1000000.50")),
        cm1_b=customer_managed_by(u["demo_cm1"], org["11101"], name="王小明", aum=Decimal("20000")),
        cm2=customer_managed_by(u["demo_cm2"], org["11102"], name="李四", aum=Decimal("300")),
        unassigned=CustomerFactory(home_branch=org["11100"], name="赵六", aum=Decimal("5")),
        cm3=customer_managed_by(u["demo_cm3"], org["12101"], name="陈七", aum=Decimal("7000")),
        chaoyang=customer_managed_by(u["cm_11201"], org["11201"], name="周八", aum=Decimal("80")),
    )


def result_numbers(response) -> set[str]:
    return {r["customer_no"] for r in response.json()["results"]}


# --- authentication and permission ------------------------------------------------


def test_token_authentication(api, world, demo_users):
    response = api(demo_users["demo_bm"]).get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 6


def test_session_authentication(client, world, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_bm", "password": demo_password})
    assert client.get(LIST).status_code == 200
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 200


@pytest.mark.parametrize("url", [LIST, detail_url(MISSING_NO)])
def test_anonymous_gets_401_not_a_redirect(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get(LIST).status_code == 401


def test_user_without_view_customer_gets_403(api, world, demo_users):
    client = api(demo_users["demo_pm"])  # parameter manager: head office, no customer rights
    assert client.get(LIST).status_code == 403
    # 403 whether or not the customer exists: no existence oracle.
    assert client.get(detail_url(world.cm1_a.customer_no)).status_code == 403
    assert client.get(detail_url(MISSING_NO)).status_code == 403


def test_responses_are_not_cached(api, world, demo_users):
    client = api(demo_users["demo_bm"])
    for url in (LIST, detail_url(world.cm1_a.customer_no), detail_url(MISSING_NO)):
        assert "no-store" in client.get(url)["Cache-Control"]


# --- search -----------------------------------------------------------------------


@pytest.fixture
def searchable(org, world):
    """One customer reachable by every kind of text, among decoys."""
    target = world.cm1_a
    ContactPointFactory(customer=target, type=ContactType.MOBILE, value="13655501234")
    AccountFactory(customer=target, account_no="6222021234567890123")
    decoy = CustomerFactory(home_branch=org["11101"], name="欧阳修")
    AccountFactory(customer=decoy, account_no="6222021234567890124")
    return target


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(lambda c: "阳锋", id="name-substring"),
        pytest.param(lambda c: c.customer_no, id="customer-number"),
        pytest.param(lambda c: c.mobile, id="mobile"),
        pytest.param(lambda c: f"+86 {c.mobile[:3]} {c.mobile[3:7]} {c.mobile[7:]}", id="mobile-formatted"),
        pytest.param(lambda c: "13655501234", id="second-mobile-contact"),
        pytest.param(lambda c: c.id_number, id="id-number"),
        pytest.param(lambda c: "6222021234567890123", id="account-number"),
    ],
)
def test_search_finds_the_customer(api, demo_users, searchable, text):
    response = api(demo_users["demo_bm"]).get(LIST, {"q": text(searchable)})
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert result_numbers(response) == {searchable.customer_no}


def test_search_finds_an_18_digit_account_number(api, demo_users, world):
    AccountFactory(customer=world.cm1_a, account_no="622202123456789012")
    response = api(demo_users["demo_bm"]).get(LIST, {"q": "622202123456789012"})
    assert result_numbers(response) == {world.cm1_a.customer_no}


def test_search_result_shape(api, demo_users, world):
    world.cm1_a.tier = "GOLD"
    world.cm1_a.save(update_fields=["tier"])
    response = api(demo_users["demo_bm"]).get(LIST, {"q": world.cm1_a.customer_no})
    assert response.json()["results"] == [
        {
            "customer_no": world.cm1_a.customer_no,
            "name": "欧阳锋华",
            "id_type": "01",
            "id_number": mask_id_number(world.cm1_a.id_number),
            "mobile": mask_mobile(world.cm1_a.mobile),
            "branch": "11101",
            "tier": "GOLD",
            "manager": "E1101",
            "aum": "1000000.50",
        }
    ]
    unassigned = api(demo_users["demo_bm"]).get(LIST, {"q": world.unassigned.customer_no}).json()
    assert unassigned["results"][0]["tier"] is None
    assert unassigned["results"][0]["manager"] is None
    assert unassigned["results"][0]["aum"] == "5.00"


def test_results_are_ordered_by_aum_descending(api, demo_users, world):
    results = api(demo_users["demo_bm"]).get(LIST).json()["results"]
    aums = [Decimal(r["aum"]) for r in results]
    assert aums == sorted(aums, reverse=True)


def test_filters(api, demo_users, world, org):
    world.cm2.tier = "GOLD"
    world.cm2.status = CustomerStatus.DORMANT
    world.cm2.save(update_fields=["tier", "status"])
    client = api(demo_users["demo_bm"])

    def found(**params) -> set[str]:
        response = client.get(LIST, params)
        assert response.status_code == 200, response.content
        return result_numbers(response)

    assert found(branch="11100") == world.numbers(world.cm1_a, world.cm1_b, world.cm2, world.unassigned)
    assert found(branch="11102") == world.numbers(world.cm2)
    unknown = client.get(LIST, {"branch": "99999"})
    assert unknown.status_code == 400 and unknown.json() == {"branch": ["No branch has the code 99999."]}
    assert found(tier="GOLD") == world.numbers(world.cm2)
    assert found(status="D") == world.numbers(world.cm2)
    assert found(manager="E1101") == world.numbers(world.cm1_a, world.cm1_b)
    assert found(aum_min="300", aum_max="20000") == world.numbers(world.cm1_b, world.cm2, world.cm3)
    assert found(aum_min="", aum_max="") == found()  # empty means no filter
    assert found(q="欧阳", branch="11101", manager="E1101") == world.numbers(world.cm1_a)


def test_filters_never_widen_the_scope(api, demo_users, world):
    client = api(demo_users["demo_cm1"])
    assert result_numbers(client.get(LIST, {"branch": "12000"})) == set()
    assert result_numbers(client.get(LIST, {"manager": "E1102"})) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"aum_min": "abc"}, "aum_min"),
        ({"aum_max": "NaN"}, "aum_max"),
        ({"aum_min": "-1"}, "aum_min"),
        ({"aum_min": "1.234"}, "aum_min"),
        ({"aum_min": "500", "aum_max": "100"}, "aum_max"),
        ({"q": "x" * 101}, "q"),
        ({"status": "Z"}, "status"),
        ({"branch": "1" * 21}, "branch"),
    ],
)
def test_bad_search_input_is_400(api, demo_users, world, params, field):
    response = api(demo_users["demo_bm"]).get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field] and all(isinstance(m, str) and m for m in body[field])


def test_bad_input_message_is_clear(api, demo_users, world):
    body = api(demo_users["demo_bm"]).get(LIST, {"aum_min": "500", "aum_max": "100"}).json()
    assert body == {"aum_max": ["The lower AUM bound is above the upper one."]}
    body = api(demo_users["demo_bm"]).get(LIST, {"q": "x" * 101}).json()
    assert "100" in body["q"][0]


def test_query_of_100_characters_is_accepted(api, demo_users, world):
    assert api(demo_users["demo_bm"]).get(LIST, {"q": "x" * 100}).status_code == 200


# --- data scope -------------------------------------------------------------------


def test_client_manager_sees_only_their_customers(api, demo_users, world):
    client = api(demo_users["demo_cm1"])
    body = client.get(LIST).json()
    assert body["count"] == 2
    assert result_numbers(client.get(LIST)) == world.numbers(world.cm1_a, world.cm1_b)
    assert client.get(detail_url(world.cm1_a.customer_no)).status_code == 200
    # Searching for another manager's customer finds nothing.
    assert client.get(LIST, {"q": world.cm2.customer_no}).json()["count"] == 0


def test_outside_the_scope_is_the_same_404_as_a_missing_customer(api, demo_users, world):
    client = api(demo_users["demo_cm1"])
    other = client.get(detail_url(world.cm2.customer_no))
    missing = client.get(detail_url(MISSING_NO))
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    assert other["Content-Type"] == missing["Content-Type"]


def test_branch_head_sees_their_subtree(api, demo_users, world):
    client = api(demo_users["demo_bh"])
    body = client.get(LIST).json()
    assert body["count"] == 4
    assert result_numbers(client.get(LIST)) == world.numbers(
        world.cm1_a, world.cm1_b, world.cm2, world.unassigned
    )
    assert client.get(detail_url(world.unassigned.customer_no)).status_code == 200
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 404  # branch 12000
    assert client.get(detail_url(world.chaoyang.customer_no)).status_code == 404  # sibling sub-branch
    assert client.get(LIST, {"branch": "12000"}).json()["count"] == 0


@pytest.mark.parametrize("username", ["demo_bm", "demo_admin", "demo_audit"])
def test_head_office_roles_see_everyone(api, demo_users, world, username):
    assert api(demo_users[username]).get(LIST).json()["count"] == 6


def test_grant_shares_a_customer_until_it_expires(api, demo_users, world):
    cm1 = demo_users["demo_cm1"]
    client = api(cm1)
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 404

    assign_perm("customers.view_customer", cm1, world.cm3)
    grant = CustomerUserObjectPermission.objects.get(user=cm1, content_object=world.cm3)
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 200
    assert world.cm3.customer_no in result_numbers(client.get(LIST))
    assert client.get(LIST).json()["count"] == 3

    grant.expires_at = timezone.now() + datetime.timedelta(days=1)
    grant.save(update_fields=["expires_at"])
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 200

    grant.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    grant.save(update_fields=["expires_at"])
    assert client.get(detail_url(world.cm3.customer_no)).status_code == 404
    assert world.cm3.customer_no not in result_numbers(client.get(LIST))
    assert client.get(LIST).json()["count"] == 2


def test_reassignment_moves_the_customer(api, demo_users, world):
    assignment_set_primary(customer=world.cm1_b, manager=demo_users["demo_cm2"], by=None, reason="test")
    assert result_numbers(api(demo_users["demo_cm1"]).get(LIST)) == world.numbers(world.cm1_a)
    assert api(demo_users["demo_cm2"]).get(detail_url(world.cm1_b.customer_no)).status_code == 200


# --- the 360 summary --------------------------------------------------------------


@pytest.fixture
def rich(org, world):
    """cm1_a with contacts of every type, accounts (one closed), a household."""
    customer = world.cm1_a
    Customer.objects.filter(pk=customer.pk).update(
        risk_level="C3",
        risk_expiry=datetime.date(2027, 6, 30),
        month_avg_aum=Decimal("987654.32"),
        liabilities=Decimal("12345.60"),
        vip_status="",
        tier="",
    )
    contacts = [
        ContactPointFactory(customer=customer, type=t, is_primary=(t == ContactType.MOBILE))
        for t in ContactType.values
    ]
    accounts = [
        AccountFactory(customer=customer, account_no="6222021234567890123", balance=Decimal("5000.5")),
        AccountFactory(
            customer=customer,
            account_no="6228480012345678",
            category=AccountCategory.DEP_TIME,
            maturity_date=datetime.date(2026, 12, 31),
            balance=Decimal("200000"),
        ),
        AccountFactory(
            customer=customer,
            account_no="4392250012345678",
            category=AccountCategory.CREDIT_CARD,
            currency="USD",
            balance=Decimal("-300.25"),
        ),
    ]
    closed = AccountFactory(customer=customer, account_no="6222029999999999999", status=AccountStatus.CLOSED)
    customer.refresh_from_db()
    return customer, contacts, accounts, closed


def test_detail_shape(api, demo_users, rich):
    customer, contacts, accounts, closed = rich
    response = api(demo_users["demo_cm1"]).get(detail_url(customer.customer_no))
    assert response.status_code == 200
    body = response.json()
    assert body["customer_no"] == customer.customer_no
    assert body["name"] == "欧阳锋华"
    assert body["id_type"] == "01"
    assert body["id_number"] == mask_id_number(customer.id_number)
    assert body["mobile"] == mask_mobile(customer.mobile)
    assert body["branch"] == "11101"
    assert body["manager"] == "E1101"
    assert body["tier"] is None and body["vip_status"] is None
    assert body["gender"] == customer.gender and body["gender"] in ("M", "F")
    assert body["birth_date"] == customer.birth_date.isoformat()
    assert body["status"] == "A"
    assert body["risk_level"] == "C3"
    assert body["risk_expiry"] == "2027-06-30"
    assert body["aum"] == "1000000.50"
    assert body["month_avg_aum"] == "987654.32"
    assert body["liabilities"] == "12345.60"
    assert body["household"] is None

    assert sorted(body["contacts"], key=lambda c: c["type"]) == sorted(
        (
            {"type": c.type, "value": mask_contact(c.type, c.value), "is_primary": c.is_primary}
            for c in contacts
        ),
        key=lambda c: c["type"],
    )
    by_category = {a["category"]: a for a in body["accounts"]}
    assert len(body["accounts"]) == 3  # the closed account is left out
    assert by_category["DEP_CUR"] == {
        "account_no": "622202*********0123",
        "category": "DEP_CUR",
        "currency": "CNY",
        "balance": "5000.50",
        "status": "O",
        "maturity_date": None,
    }
    assert by_category["DEP_TIME"]["maturity_date"] == "2026-12-31"
    assert by_category["DEP_TIME"]["balance"] == "200000.00"
    assert by_category["CREDIT_CARD"]["currency"] == "USD"
    assert by_category["CREDIT_CARD"]["balance"] == "-300.25"
    assert closed.account_no[-4:] not in {a["account_no"][-4:] for a in body["accounts"]}


def test_no_clear_personal_number_anywhere(api, demo_users, rich, world):
    """Every ID number, mobile, account number and contact value in the database is
    absent from the list and the 360 responses (only masks appear)."""
    customer, *_ = rich
    clear = set()
    for c in Customer.objects.all():
        clear |= {c.id_number, c.mobile}
        clear |= {a.account_no for a in c.accounts.all()}
    clear |= {contact.value for contact in ContactPoint.objects.all()}
    clear.discard("")
    assert len(clear) > 15
    client = api(demo_users["demo_bm"])
    responses = [client.get(LIST), client.get(LIST, {"q": customer.id_number})]
    responses += [client.get(detail_url(c.customer_no)) for c in Customer.objects.all()]
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        leaked = [value for value in clear if value in text]
        assert leaked == [], response.request["PATH_INFO"]
    body = client.get(detail_url(customer.customer_no)).json()
    assert body["id_number"] == customer.id_number[:3] + "*" * 11 + customer.id_number[-4:]
    assert body["mobile"] == customer.mobile[:3] + "****" + customer.mobile[-4:]
    assert {a["account_no"] for a in body["accounts"]} == {
        mask_account_no(n) for n in ("6222021234567890123", "6228480012345678", "4392250012345678")
    }
    values = {c["type"]: c["value"] for c in body["contacts"]}
    assert values["EMAIL"].endswith("***@example.com")
    assert values["ADDRESS"] == "北京市海淀区****"
    assert values["HOME"].startswith("****")


def test_household_members_and_aum(api, demo_users, world):
    household = HouseholdFactory()
    members = [
        (world.cm1_a, HouseholdRole.HEAD),
        (world.cm1_b, HouseholdRole.SPOUSE),
        (world.unassigned, HouseholdRole.CHILD),
    ]
    for member, role in members:
        Customer.objects.filter(pk=member.pk).update(household=household, household_role=role)
    body = api(demo_users["demo_bm"]).get(detail_url(world.cm1_b.customer_no)).json()
    assert sorted(body["household"]["members"]) == sorted(m.customer_no for m, _role in members)
    total = world.cm1_a.aum + world.cm1_b.aum + world.unassigned.aum
    assert body["household"]["aum"] == f"{total:.2f}" == "1020005.50"
    assert Decimal(body["household"]["aum"]) == household_aum(household.pk)
    # A customer outside any household.
    assert api(demo_users["demo_bm"]).get(detail_url(world.cm2.customer_no)).json()["household"] is None


def test_resident_id_of_the_factory_is_valid(org):
    customer = CustomerFactory(home_branch=org["11101"])
    expected = make_resident_id(
        region_code=customer.id_number[:6],
        birth_date=customer.birth_date,
        sequence=int(customer.id_number[14:17]),
    )
    assert customer.id_number == expected


# --- query counts -----------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_detail_query_count_is_bounded(api, demo_users, org, world, django_assert_max_num_queries):
    household = HouseholdFactory()
    small = world.cm1_b
    big = world.cm1_a
    Customer.objects.filter(pk__in=[small.pk, big.pk]).update(household=household)
    AccountFactory(customer=small)
    ContactPointFactory(customer=small)
    AccountFactory.create_batch(30, customer=big)
    ContactPointFactory.create_batch(10, customer=big)
    InteractionFactory.create_batch(50, customer=big, manager=demo_users["demo_cm1"])
    OtherAssetFactory.create_batch(3, customer=big)
    client = api(demo_users["demo_cm1"])

    # 13, and 2 at most for each section other areas register (analysis, credit)
    with django_assert_max_num_queries(17):
        response = client.get(detail_url(big.customer_no))
    assert response.status_code == 200
    assert len(response.json()["accounts"]) == 30
    assert len(response.json()["contacts"]) == 10
    # The number of rows does not change the number of queries.
    assert _count_queries(client, detail_url(big.customer_no)) == _count_queries(
        client, detail_url(small.customer_no)
    )


def test_list_query_count_is_bounded(api, demo_users, org, django_assert_max_num_queries):
    managers = [demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["cm_11201"]]
    for i in range(60):
        customer_managed_by(managers[i % 3], org[("11101", "11102", "11201")[i % 3]], aum=Decimal(i))
    client = api(demo_users["demo_bm"])

    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    body = response.json()
    assert body["count"] == 60
    assert len(body["results"]) == 50
    assert body["previous"] is None and "cursor=" in body["next"] and not body["count_capped"]
    assert {r["manager"] for r in body["results"]} == {"E1101", "E1102", "E911201"}

    with django_assert_max_num_queries(10):
        page2 = client.get(body["next"]).json()
    assert len(page2["results"]) == 10 and page2["next"] is None and page2["count"] == 60
    assert {r["customer_no"] for r in body["results"]}.isdisjoint(r["customer_no"] for r in page2["results"])

    with django_assert_max_num_queries(10):
        assert client.get(LIST, {"branch": "11100", "aum_min": "10"}).json()["count"] == 33


def test_the_count_stops_at_the_cap_and_says_so(api, demo_users, org, monkeypatch):
    monkeypatch.setattr("customers.search.paging.COUNT_CAP", 40)
    for i in range(60):
        customer_managed_by(demo_users["demo_cm1"], org["11101"], aum=Decimal(i))
    body = api(demo_users["demo_bm"]).get(LIST).json()
    assert body["count"] == 40 and body["count_capped"] is True and len(body["results"]) == 50


def test_a_page_number_or_a_forged_cursor_is_refused(api, demo_users, world):
    client = api(demo_users["demo_bm"])
    for params in ({"page": 99}, {"page": 0}, {"cursor": "bm90IGEgY3Vyc29y"}):
        response = client.get(LIST, params)
        assert response.status_code == 400, params
        assert set(response.json()) <= {"page", "cursor"}, params


# --- schema -----------------------------------------------------------------------


def test_schema_documents_the_api(api, demo_users):
    response = api(demo_users["demo_cm1"]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/customers/", "/api/v1/customers/{customer_no}/"} <= set(schema["paths"])
    search = schema["paths"]["/api/v1/customers/"]["get"]
    params = {p["name"] for p in search["parameters"]}
    assert {"q", "cursor", "branch", "tier", "status", "manager", "aum_min", "aum_max"} <= params
    detail = schema["components"]["schemas"]["CustomerDetail"]["properties"]
    assert {"contacts", "accounts", "household", "vip_status", "id_number"} <= set(detail)


def test_schema_needs_authentication(db):
    assert APIClient().get("/api/schema/").status_code in (401, 403)

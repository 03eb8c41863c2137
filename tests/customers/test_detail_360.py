"""The customer 360 view finished: the links to the customer's VIP page and its
assignment, transfer and share forms (by role), product names in the accounts
table, one reveal dialog, and the forms that record relationships, the household
and assets held elsewhere."""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from accounts.audit import Action
from accounts.models import AuditEvent
from customers.choices import HouseholdRole
from customers.models import ContactPoint, Customer, Household, OtherAsset, Relationship
from marketing.models import Product
from tests.customers.conftest import log_in as _log_in

pytestmark = pytest.mark.django_db

# The 360 view's bound (tests/customers/test_views.py: 22, 1 for the payroll panel
# and 2 at most for each section other areas register, customers.panels.sections:
# the analysis and credit); what the links, dialog and record forms add (nothing)
# is pinned relatively.
BOUND = 27


@pytest.fixture
def book(demo_users, new_customer):
    return {
        "cm1": new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum="500000"),
        "cm2": new_customer(branch="11102", manager=demo_users["demo_cm2"], name="李小红", aum="80000"),
        "cm3": new_customer(branch="12101", manager=demo_users["demo_cm3"], name="陈大文", aum="10000"),
        "pool": new_customer(branch="11101", name="赵池塘", aum="20000"),
    }


def log_in(client, username: str, password: str):
    client.logout()  # the login page does not switch an authenticated user
    return _log_in(client, username, password)


def _page(client, customer: Customer) -> str:
    response = client.get(f"/customers/{customer.customer_no}/")
    assert response.status_code == 200
    return response.content.decode()


def _actions(html: str) -> dict[str, str]:
    """The action links of the page's header: {text: href}."""
    found = re.findall(r'<a class="[^"]*" href="([^"]*)" data-testid="customer-action">([^<]*)</a>', html)
    return {text: href for href, text in found}


def _writes(action=Action.CUSTOMER_UPDATED):
    return AuditEvent.objects.filter(action=action)


# --- links to the VIP area ---------------------------------------------------------------


class TestVipLinks:
    def test_a_client_manager_gets_the_vip_page_transfer_and_share_of_their_customer(
        self, client, book, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        no = book["cm1"].customer_no
        actions = _actions(_page(client, book["cm1"]))
        assert actions["Tier, VIP status and managers"] == f"/vip/customers/{no}/"
        assert actions["Request a transfer"] == f"/vip/customers/{no}/#transfer"
        assert actions["Share for a time"] == f"/vip/customers/{no}/#share"
        assert "Assign to a manager" not in actions  # a manager assigns nobody from the pool
        # each link lands on the form it names
        vip_page = client.get(f"/vip/customers/{no}/").content.decode()
        assert 'id="transfer"' in vip_page and 'id="share"' in vip_page

    def test_a_branch_head_assigns_a_customer_of_the_pool(self, client, book, demo_password):
        log_in(client, "demo_bh", demo_password)
        no = book["pool"].customer_no
        actions = _actions(_page(client, book["pool"]))
        assert actions["Assign to a manager"] == f"/vip/customers/{no}/#assign"
        assert "Request a transfer" not in actions  # nobody to transfer from
        assert 'id="assign"' in client.get(f"/vip/customers/{no}/").content.decode()
        # a managed customer: a transfer, not an assignment
        managed = _actions(_page(client, book["cm1"]))
        assert "Request a transfer" in managed and "Assign to a manager" not in managed
        assert "Share for a time" in managed

    def test_the_auditor_only_reads_the_vip_page(self, client, book, demo_password):
        log_in(client, "demo_audit", demo_password)
        actions = _actions(_page(client, book["cm1"]))
        # and the customer's credit-report authorizations and queries (credit)
        assert list(actions) == ["Tier, VIP status and managers", "Credit-report queries"]

    def test_a_manager_the_customer_is_shared_with_may_not_share_them_on(
        self, client, book, demo_users, demo_password
    ):
        assign_perm("customers.view_customer", demo_users["demo_cm2"], book["cm1"])
        log_in(client, "demo_cm2", demo_password)
        actions = _actions(_page(client, book["cm1"]))
        assert "Share for a time" not in actions  # the VIP page would not offer it either
        assert (
            "Share for a time"
            not in client.get(f"/vip/customers/{book['cm1'].customer_no}/").content.decode()
        )
        assert "Tier, VIP status and managers" in actions


# --- product names ------------------------------------------------------------------------


def test_the_accounts_table_names_products_in_a_fixed_number_of_queries(
    client, book, add_account, demo_password, django_assert_max_num_queries
):
    target = book["cm1"]
    Product.objects.create(code="TD-03M", name="三个月整存整取", category="DEP_TIME")
    add_account(target, category="DEP_TIME", product_code="TD-03M")
    log_in(client, "demo_cm1", demo_password)

    def page_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            html = _page(client, target)
        return len(ctx.captured_queries), html

    one, html = page_queries()
    products = re.findall(r'<td data-testid="product">([^<]*)</td>', html)
    assert products == ["三个月整存整取"]
    # given ten more accounts of ten more named products
    for n in range(10):
        Product.objects.create(code=f"WM-{n:03d}", name=f"稳健理财{n}号", category="WEALTH", risk_rating="R2")
        add_account(target, category="WEALTH", product_code=f"WM-{n:03d}", cny_balance=f"{1000 + n}")
    eleven, html = page_queries()
    products = re.findall(r'<td data-testid="product">([^<]*)</td>', html)
    assert sorted(products) == sorted(["三个月整存整取", *[f"稳健理财{n}号" for n in range(10)]])
    assert "TD-03M" not in html and "WM-003" not in html
    assert eleven == one  # no query per row
    with django_assert_max_num_queries(BOUND):
        _page(client, target)


# --- one reveal dialog --------------------------------------------------------------------


class TestRevealDialog:
    def test_one_control_opens_one_dialog_listing_every_masked_value(
        self, client, book, add_account, demo_password
    ):
        target = book["cm1"]
        ContactPoint.objects.create(customer=target, type="EMAIL", value="wxm@example.com")
        accounts = [add_account(target), add_account(target, category="FUND")]
        log_in(client, "demo_cm1", demo_password)
        html = _page(client, target)
        assert html.count('data-testid="reveal-open"') == 1
        assert html.count('data-testid="reveal-dialog"') == 1
        assert html.count('name="reason"') == 1  # no reason box beside each value
        assert 'data-bs-target="#reveal-dialog"' in html
        choices = re.findall(r'name="reveal" value="([^"]+)"', html)
        contacts = [
            f"contact:{pk}"
            for pk in target.contacts.order_by("type", "-is_primary", "pk").values_list("pk", flat=True)
        ]
        assert choices == [
            "id_number",
            *contacts,
            *[f"account:{a.pk}" for a in sorted(accounts, key=lambda a: a.category)],
        ]
        # every value stays masked on the page
        assert target.id_number not in html and "wxm@example.com" not in html
        for account in accounts:
            assert account.account_no not in html

    def test_a_role_that_may_not_reveal_gets_no_control(self, client, book, demo_password):
        log_in(client, "demo_audit", demo_password)
        html = _page(client, book["cm1"])
        assert 'data-testid="reveal-open"' not in html and 'data-testid="reveal-dialog"' not in html
        assert 'name="reason"' not in html

    def test_the_chosen_values_are_revealed_in_place_each_audited(
        self, client, book, add_account, demo_users, demo_password
    ):
        target = book["cm1"]
        mobile = ContactPoint.objects.get(customer=target, type="MOBILE")
        account = add_account(target)
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{target.customer_no}/reveal/",
            {
                "reveal": ["id_number", f"contact:{mobile.pk}", f"account:{account.pk}"],
                "reason": "客户来电核实",
            },
            HTTP_HX_REQUEST="true",
            REMOTE_ADDR="10.3.3.4",
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        html = response.content.decode()
        assert "3 values revealed on the page" in html
        for target_id, value in (
            ("pii-id_number-0", target.id_number),
            (f"pii-contact-{mobile.pk}", mobile.value),
            (f"pii-account-{account.pk}", account.account_no),
        ):
            assert re.search(
                rf'<span id="{target_id}" hx-swap-oob="innerHTML"><span class="revealed" '
                rf'data-testid="revealed-value">{re.escape(value)}</span></span>',
                html,
            ), target_id
        events = AuditEvent.objects.filter(action=Action.PII_REVEALED).order_by("pk")
        assert [e.details for e in events] == [
            {"field": "id_number", "reason": "客户来电核实"},
            {"field": f"contact:MOBILE:{mobile.pk}", "reason": "客户来电核实"},
            {"field": f"account:{account.pk}", "reason": "客户来电核实"},
        ]
        assert all(e.actor == demo_users["demo_cm1"] and e.ip == "10.3.3.4" for e in events)
        assert all(target.id_number not in str(e.details) for e in events)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"reveal": ["id_number"], "reason": "no"}, "at least 4 characters"),
            ({"reveal": ["id_number"]}, "at least 4 characters"),
            ({"reason": "customer on the phone"}, "Choose at least one value to reveal."),
            ({"reveal": ["password"], "reason": "customer on the phone"}, "This field cannot be revealed."),
        ],
    )
    def test_bad_input_reveals_nothing_and_says_why(self, client, book, demo_password, data, message):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(f"/customers/{book['cm1'].customer_no}/reveal/", data, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html and 'data-testid="reveal-error"' in html
        assert book["cm1"].id_number not in html
        assert not AuditEvent.objects.filter(action=Action.PII_REVEALED).exists()

    def test_one_value_of_someone_else_reveals_none(self, client, book, demo_password):
        other = ContactPoint.objects.get(customer=book["cm2"], type="MOBILE")
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{book['cm1'].customer_no}/reveal/",
            {"reveal": ["id_number", f"contact:{other.pk}"], "reason": "trying my luck"},
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert other.value not in html and book["cm1"].id_number not in html
        assert not AuditEvent.objects.filter(action=Action.PII_REVEALED).exists()

    def test_a_foreign_customer_is_404_and_a_role_without_the_permission_403(
        self, client, book, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        foreign = client.post(
            f"/customers/{book['cm3'].customer_no}/reveal/", {"reveal": ["id_number"], "reason": "curious"}
        )
        assert foreign.status_code == 404
        log_in(client, "demo_audit", demo_password)
        refused = client.post(
            f"/customers/{book['cm1'].customer_no}/reveal/", {"reveal": ["id_number"], "reason": "curious"}
        )
        assert refused.status_code == 403
        assert not AuditEvent.objects.filter(action=Action.PII_REVEALED).exists()


# --- records: relationships, household, other assets -------------------------------------


def _post(client, customer: Customer, path: str, data=None):
    return client.post(f"/customers/{customer.customer_no}/{path}", data or {})


class TestRelationships:
    def test_record_change_and_remove_a_relationship(self, client, book, demo_users, demo_password):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        assert client.get(f"/customers/{target.customer_no}/relationships/new/").status_code == 200
        response = _post(
            client, target, "relationships/new/", {"relation_type": "parent", "related_name": "王父"}
        )
        assert response.status_code == 302 and response["Location"] == f"/customers/{target.customer_no}/"
        relationship = Relationship.objects.get(customer=target)
        assert (relationship.relation_type, relationship.related_name) == ("parent", "王父")
        event = _writes().get()
        assert event.actor == demo_users["demo_cm1"] and event.target_id == str(target.pk)
        assert event.details == {"relationship_added": relationship.pk, "kind": "parent"}
        page = client.get(f"/customers/{target.customer_no}/")
        assert "Parent recorded for 王小明." in [str(m) for m in page.context["messages"]]
        assert "王父" in page.content.decode()

        edit = f"relationships/{relationship.pk}/"
        assert client.get(f"/customers/{target.customer_no}/{edit}").status_code == 200
        changed = _post(
            client, target, edit, {"relation_type": "parent", "related_name": "王父", "note": "退休教师"}
        )
        assert changed.status_code == 302
        relationship.refresh_from_db()
        assert relationship.note == "退休教师"
        assert _writes().latest("pk").details == {"relationship_changed": relationship.pk, "fields": ["note"]}

        removed = _post(client, target, f"relationships/{relationship.pk}/remove/")
        assert removed.status_code == 302 and not Relationship.objects.exists()
        assert _writes().latest("pk").details == {"relationship_removed": relationship.pk, "kind": "parent"}
        assert _writes().count() == 3

    def test_a_relative_who_is_a_customer_is_linked_by_number(self, client, book, demo_password):
        target = book["cm1"]
        log_in(client, "demo_bh", demo_password)
        response = _post(
            client,
            target,
            "relationships/new/",
            {"relation_type": "spouse", "related_customer_no": book["cm2"].customer_no},
        )
        assert response.status_code == 302
        assert Relationship.objects.get(customer=target).related_customer == book["cm2"]
        html = _page(client, target)
        assert f'href="/customers/{book["cm2"].customer_no}/"' in html

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"relation_type": "parent"}, "Give the customer number of the relative, or the name"),
            ({"relation_type": "cousin", "related_name": "x"}, "Select a valid choice."),
            (
                {"relation_type": "parent", "related_customer_no": "000000000001"},
                "No customer with this number in your scope.",
            ),
        ],
    )
    def test_bad_input_is_400_with_the_reason(self, client, book, demo_password, data, message):
        log_in(client, "demo_cm1", demo_password)
        response = _post(client, book["cm1"], "relationships/new/", data)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Relationship.objects.exists() and not _writes().exists()

    def test_a_customer_outside_the_scope_cannot_be_named_nor_shown(self, client, book, demo_password):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        # cm3's customer is in another branch: typed, it reads as unknown
        response = _post(
            client,
            target,
            "relationships/new/",
            {"relation_type": "sibling", "related_customer_no": book["cm3"].customer_no},
        )
        assert (
            response.status_code == 400
            and "No customer with this number in your scope." in response.content.decode()
        )
        # linked by someone who could see them: the edit form neither shows nor drops the link
        relationship = Relationship.objects.create(
            customer=target, relation_type="sibling", related_customer=book["cm3"]
        )
        form = client.get(f"/customers/{target.customer_no}/relationships/{relationship.pk}/")
        assert form.status_code == 200 and book["cm3"].customer_no not in form.content.decode()
        saved = _post(
            client,
            target,
            f"relationships/{relationship.pk}/",
            {"relation_type": "sibling", "note": "住上海"},
        )
        assert saved.status_code == 302
        relationship.refresh_from_db()
        assert relationship.related_customer == book["cm3"] and relationship.note == "住上海"

    def test_another_customers_relationship_and_a_foreign_customer_are_404(self, client, book, demo_password):
        theirs = Relationship.objects.create(
            customer=book["cm2"], relation_type="parent", related_name="李父"
        )
        log_in(client, "demo_cm1", demo_password)
        mine = book["cm1"].customer_no
        assert client.get(f"/customers/{mine}/relationships/{theirs.pk}/").status_code == 404
        assert _post(client, book["cm1"], f"relationships/{theirs.pk}/remove/").status_code == 404
        assert _post(client, book["cm2"], f"relationships/{theirs.pk}/remove/").status_code == 404
        assert (
            _post(
                client, book["cm2"], "relationships/new/", {"relation_type": "parent", "related_name": "x"}
            ).status_code
            == 404
        )
        assert Relationship.objects.count() == 1 and not _writes().exists()

    def test_a_role_that_may_not_change_customers_is_403(self, client, book, demo_password):
        log_in(client, "demo_audit", demo_password)
        assert client.get(f"/customers/{book['cm1'].customer_no}/relationships/new/").status_code == 403
        response = _post(
            client, book["cm1"], "relationships/new/", {"relation_type": "parent", "related_name": "x"}
        )
        assert response.status_code == 403 and not Relationship.objects.exists()

    def test_the_360_view_offers_the_forms_only_to_who_may_use_them(self, client, book, demo_password):
        Relationship.objects.create(customer=book["cm1"], relation_type="parent", related_name="王父")
        log_in(client, "demo_cm1", demo_password)
        html = _page(client, book["cm1"])
        for testid in ("relationship-add", "relationship-edit", "household-add", "asset-add"):
            assert f'data-testid="{testid}"' in html, testid
        log_in(client, "demo_audit", demo_password)
        html = _page(client, book["cm1"])
        for testid in ("relationship-add", "relationship-edit", "household-add", "asset-add"):
            assert f'data-testid="{testid}"' not in html, testid


class TestHousehold:
    def test_start_a_household_then_a_relative_joins_it(
        self, client, book, new_customer, demo_users, demo_password
    ):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        assert client.get(f"/customers/{target.customer_no}/household/").status_code == 200
        started = _post(client, target, "household/", {"role": "head", "name": "王家"})
        assert started.status_code == 302
        target.refresh_from_db()
        assert target.household.name == "王家" and target.household_role == HouseholdRole.HEAD
        assert _writes().get().details == {"household": target.household_id, "role": "head"}

        spouse = new_customer(manager=demo_users["demo_cm1"], name="王太太")
        joined = _post(
            client, spouse, "household/", {"role": "spouse", "household_of_no": target.customer_no}
        )
        assert joined.status_code == 302
        spouse.refresh_from_db()
        assert spouse.household_id == target.household_id
        html = _page(client, target)
        assert "王太太" in html and 'data-testid="household-edit"' in html

    def test_change_the_place_and_the_name_then_leave(self, client, book, demo_password):
        target = book["cm1"]
        household = Household.objects.create(name="王家")
        Customer.objects.filter(pk=target.pk).update(household=household, household_role="head")
        log_in(client, "demo_cm1", demo_password)
        form = client.get(f"/customers/{target.customer_no}/household/")
        assert form.status_code == 200 and 'value="王家"' in form.content.decode()
        changed = _post(client, target, "household/", {"role": "spouse", "name": "王氏之家"})
        assert changed.status_code == 302
        household.refresh_from_db()
        target.refresh_from_db()
        assert household.name == "王氏之家" and target.household_role == "spouse"
        assert _writes().get().details == {"household": household.pk, "fields": ["name", "household_role"]}
        left = _post(client, target, "household/leave/")
        assert left.status_code == 302
        target.refresh_from_db()
        assert target.household_id is None
        assert not Household.objects.filter(pk=household.pk).exists()  # no one left in it
        assert _writes().latest("pk").details == {"household_left": household.pk}

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"role": "boss"}, "Select a valid choice."),
            ({"role": "child", "household_of_no": "OTHER"}, "This customer is in no household yet"),
            ({"role": "child", "household_of_no": "FOREIGN"}, "No customer with this number in your scope."),
        ],
    )
    def test_bad_input_is_400_with_the_reason(self, client, book, demo_password, data, message):
        numbers = {"OTHER": book["pool"].customer_no, "FOREIGN": book["cm3"].customer_no}
        if data.get("household_of_no") in numbers:
            data = {**data, "household_of_no": numbers[data["household_of_no"]]}
        log_in(client, "demo_bh", demo_password)
        response = _post(client, book["cm1"], "household/", data)
        assert response.status_code == 400 and message in response.content.decode()
        assert not Household.objects.exists() and not _writes().exists()

    def test_foreign_customer_404_and_wrong_role_403(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        assert _post(client, book["cm2"], "household/", {"role": "head"}).status_code == 404
        assert _post(client, book["cm2"], "household/leave/").status_code == 404
        log_in(client, "demo_audit", demo_password)
        assert _post(client, book["cm1"], "household/", {"role": "head"}).status_code == 403
        assert not Household.objects.exists() and not _writes().exists()


class TestOtherAssets:
    def test_record_change_and_remove_an_asset(self, client, book, demo_users, demo_password):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        assert client.get(f"/customers/{target.customer_no}/assets/new/").status_code == 200
        data = {
            "kind": "property",
            "description": "海淀区三居室",
            "estimated_value": "8500000",
            "valued_on": "2026-01-15",
        }
        assert _post(client, target, "assets/new/", data).status_code == 302
        asset = OtherAsset.objects.get(customer=target)
        assert asset.estimated_value == Decimal("8500000.00")
        event = _writes().get()
        assert event.actor == demo_users["demo_cm1"]
        assert event.details == {"other_asset_added": asset.pk, "kind": "property"}
        assert "8,500,000.00" in _page(client, target)

        form = client.get(f"/customers/{target.customer_no}/assets/{asset.pk}/")
        assert form.status_code == 200 and "海淀区三居室" in form.content.decode()
        changed = _post(client, target, f"assets/{asset.pk}/", {**data, "estimated_value": "9000000"})
        assert changed.status_code == 302
        asset.refresh_from_db()
        assert asset.estimated_value == Decimal("9000000")
        assert _writes().latest("pk").details == {
            "other_asset_changed": asset.pk,
            "fields": ["estimated_value"],
        }
        # nothing changed: nothing written
        assert (
            _post(client, target, f"assets/{asset.pk}/", {**data, "estimated_value": "9000000"}).status_code
            == 302
        )
        assert _writes().count() == 2

        assert _post(client, target, f"assets/{asset.pk}/remove/").status_code == 302
        assert not OtherAsset.objects.exists()
        assert _writes().latest("pk").details == {"other_asset_removed": asset.pk, "kind": "property"}

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"kind": "vehicle", "description": "汉", "estimated_value": "-5"}, "greater than or equal to 0"),
            ({"kind": "vehicle", "description": "汉", "estimated_value": "lots"}, "Enter a number."),
            ({"kind": "vehicle", "description": "", "estimated_value": "1"}, "This field is required."),
            ({"kind": "yacht", "description": "船", "estimated_value": "1"}, "Select a valid choice."),
            (
                {"kind": "vehicle", "description": "汉", "estimated_value": "1", "valued_on": "2999-01-01"},
                "A valuation cannot be dated in the future.",
            ),
        ],
    )
    def test_bad_input_is_400_with_the_reason(self, client, book, demo_password, data, message):
        log_in(client, "demo_cm1", demo_password)
        response = _post(client, book["cm1"], "assets/new/", data)
        assert response.status_code == 400 and message in response.content.decode()
        assert not OtherAsset.objects.exists() and not _writes().exists()

    def test_foreign_404_and_wrong_role_403(self, client, book, demo_password):
        theirs = OtherAsset.objects.create(
            customer=book["cm2"], kind="vehicle", description="car", estimated_value=Decimal("1")
        )
        log_in(client, "demo_cm1", demo_password)
        assert client.get(f"/customers/{book['cm1'].customer_no}/assets/{theirs.pk}/").status_code == 404
        assert _post(client, book["cm1"], f"assets/{theirs.pk}/remove/").status_code == 404
        assert _post(client, book["cm2"], f"assets/{theirs.pk}/remove/").status_code == 404
        log_in(client, "demo_audit", demo_password)
        assert client.get(f"/customers/{book['cm2'].customer_no}/assets/new/").status_code == 403
        assert OtherAsset.objects.count() == 1 and not _writes().exists()


def _queries(client, customer: Customer) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        html = _page(client, customer)
    return len(ctx.captured_queries), html


def test_the_finished_360_view_keeps_its_query_bound(
    client, book, add_account, new_customer, demo_users, demo_password, django_assert_max_num_queries
):
    """Links, dialog and record forms read nothing more: a customer with accounts,
    contacts, relationships, assets and a household costs what a bare one does (plus
    the household members' query)."""
    bare = new_customer(manager=demo_users["demo_cm1"], name="空白")
    target = book["cm1"]
    household = Household.objects.create(name="王家")
    for n in range(5):
        add_account(target, category="DEP_TIME")
        ContactPoint.objects.create(customer=target, type="EMAIL", value=f"w{n}@example.com")
        Relationship.objects.create(customer=target, relation_type="child", related_name=f"孩子{n}")
        OtherAsset.objects.create(
            customer=target, kind="vehicle", description=f"car {n}", estimated_value=Decimal("1")
        )
        new_customer(manager=demo_users["demo_cm1"], name=f"家人{n}", household=household)
    Customer.objects.filter(pk=target.pk).update(household=household)
    for username in ("demo_cm1", "demo_bh"):
        log_in(client, username, demo_password)
        base, _html = _queries(client, bare)
        full, html = _queries(client, target)
        assert full == base + 1, username  # the household members
        assert html.count('data-testid="relationship-edit"') == 5
        assert html.count('name="reveal"') == 1 + 6 + 5  # ID number, contacts, accounts
        assert len(_actions(html)) >= 3  # the VIP page, transfer, share
        with django_assert_max_num_queries(BOUND):
            _page(client, target)


# --- sections other areas register ---------------------------------------------------------

PROBE = "customers/_probe_section.html"


@pytest.fixture
def probe_section(settings, monkeypatch):
    """A section registered like the analysis and credit ones, whose template shows
    what it is given: a form with its CSRF token, the user, its own variable and
    whether it sees the page's own context."""
    from customers import panels

    template = (
        '<form method="post" data-testid="probe-form">{% csrf_token %}</form>'
        '<span data-testid="probe-user">{{ user.username }}</span>'
        '<span data-testid="probe-note">{{ note }}</span>'
        '<span data-testid="probe-page">{{ view|default:"isolated" }}</span>'
    )
    engine = copy.deepcopy(settings.TEMPLATES)
    engine[0]["APP_DIRS"] = False
    engine[0]["OPTIONS"]["loaders"] = [
        ("django.template.loaders.locmem.Loader", {PROBE: template}),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    settings.TEMPLATES = engine
    sections = {
        **panels._sections,
        "probe": lambda customer, user: panels.Section("probe", PROBE, {"note": "x"}),
    }
    monkeypatch.setattr(panels, "_sections", sections)


def test_a_section_renders_with_the_request_context_and_nothing_else_of_the_page(
    client, book, demo_password, probe_section
):
    """A section's form carries a CSRF token and the section names the user; it does
    not see the 360 page's own variables (as when rendered on its own)."""
    log_in(client, "demo_cm1", demo_password)
    html = _page(client, book["cm1"])
    section = re.search(r'<div class="col-12" data-testid="section-probe">(.*?)</div>', html, re.S)
    assert section is not None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', section.group(1))
    assert token is not None and len(token.group(1)) == 64
    assert '<span data-testid="probe-user">demo_cm1</span>' in section.group(1)
    assert '<span data-testid="probe-note">x</span>' in section.group(1)
    assert '<span data-testid="probe-page">isolated</span>' in section.group(1)

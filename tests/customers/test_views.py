import datetime
from decimal import Decimal

import pytest
from guardian.shortcuts import assign_perm

from accounts.audit import Action
from accounts.models import AuditEvent
from customers.choices import ContactType, HouseholdRole
from customers.models import ContactPoint, CustomerUserObjectPermission, Household, Interaction, OtherAsset
from tests.customers.conftest import log_in, search_settings_statements

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(demo_users, new_customer):
    """Customers of three managers in two branches."""
    return {
        "cm1": new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum="500000"),
        "cm2": new_customer(branch="11102", manager=demo_users["demo_cm2"], name="王大明", aum="80000"),
        "cm3": new_customer(branch="12101", manager=demo_users["demo_cm3"], name="王明远", aum="10000"),
    }


def _names(response):
    return {c.name for c in response.context["customers"]}


class TestScopeOnPages:
    def test_client_manager_sees_only_their_customers_in_list_and_counts(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.get("/customers/", {"q": "王"})
        assert _names(response) == {"王小明"}
        assert response.context["page"].count == 1

    def test_another_managers_customer_is_404_not_403(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        for url in (f"/customers/{book['cm2'].customer_no}/", f"/customers/{book['cm2'].customer_no}/edit/"):
            assert client.get(url).status_code == 404
        assert client.get("/customers/999999999999/").status_code == 404
        reveal = client.post(
            f"/customers/{book['cm2'].customer_no}/reveal/", {"field": "id_number", "reason": "checking"}
        )
        assert reveal.status_code == 404
        log = client.post(
            f"/customers/{book['cm2'].customer_no}/interactions/", {"kind": "call", "subject": "x"}
        )
        assert log.status_code == 404
        assert not Interaction.objects.exists()

    def test_searching_another_managers_customer_by_exact_number_finds_nothing(
        self, client, book, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        for q in (book["cm2"].customer_no, book["cm2"].mobile, book["cm2"].id_number):
            # (a full identifier in ?q= is redirected to its session key first)
            response = client.get("/customers/", {"q": q}, follow=True)
            assert _names(response) == set(), q
            assert b'data-testid="no-results"' in response.content

    def test_branch_head_sees_the_subtree(self, client, book, demo_password):
        log_in(client, "demo_bh", demo_password)
        assert _names(client.get("/customers/", {"q": "王"})) == {"王小明", "王大明"}
        assert client.get(f"/customers/{book['cm3'].customer_no}/").status_code == 404

    def test_head_office_sees_everyone(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        assert _names(client.get("/customers/", {"q": "王"})) == {"王小明", "王大明", "王明远"}

    def test_a_grant_shares_a_customer_until_it_expires(self, client, book, demo_users, demo_password):
        assign_perm("customers.view_customer", demo_users["demo_cm1"], book["cm3"])
        log_in(client, "demo_cm1", demo_password)
        assert client.get(f"/customers/{book['cm3'].customer_no}/").status_code == 200
        CustomerUserObjectPermission.objects.update(
            expires_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        )
        assert client.get(f"/customers/{book['cm3'].customer_no}/").status_code == 404

    def test_roles_without_customer_access_are_refused(self, client, book, demo_password):
        log_in(client, "demo_pm", demo_password)
        assert client.get("/customers/").status_code == 403
        assert client.get(f"/customers/{book['cm1'].customer_no}/").status_code == 403


class TestSearchKinds:
    def test_each_kind_finds_the_customer(self, client, book, add_account, demo_password):
        target = book["cm1"]
        account = add_account(target, account_no="6222020012345678901")
        log_in(client, "demo_bm", demo_password)
        for q in (target.customer_no, account.account_no, target.id_number, target.mobile, "小明"):
            # (a full identifier in ?q= is redirected to its session key first)
            assert _names(client.get("/customers/", {"q": q}, follow=True)) == {"王小明"}, q

    def test_filters_combine_with_the_text(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        assert _names(client.get("/customers/", {"q": "王", "branch": "11000"})) == {"王小明", "王大明"}
        assert _names(client.get("/customers/", {"q": "王", "aum_min": "50000", "aum_max": "100000"})) == {
            "王大明"
        }
        assert _names(client.get("/customers/", {"manager": "E1201"})) == {"王明远"}

    def test_bad_filter_input_says_what_is_wrong(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.get("/customers/", {"aum_min": "lots"})
        assert b'data-testid="search-error"' in response.content
        response = client.get("/customers/", {"aum_min": "100", "aum_max": "5"})
        assert "The lower AUM bound is above the upper one." in response.content.decode()

    def test_results_are_paginated(
        self, client, demo_users, new_customer, demo_password, django_assert_max_num_queries
    ):
        for i in range(30):
            new_customer(manager=demo_users["demo_cm1"], name=f"李{i}")
        log_in(client, "demo_cm1", demo_password)
        # (+2 on PostgreSQL: the search sets its planner settings and resets them;
        # +2: the filters' lists, the branches and managers in one read, the tier levels)
        with django_assert_max_num_queries(14 + search_settings_statements()):
            first = client.get("/customers/", {"q": "李"})
        assert len(first.context["customers"]) == 25 and first.context["page"].count == 30
        cursor = first.context["page"].next_cursor
        second = client.get("/customers/", {"q": "李", "cursor": cursor})
        assert len(second.context["customers"]) == 5 and not second.context["page"].next_cursor
        assert not {c.pk for c in first.context["customers"]} & {c.pk for c in second.context["customers"]}

    def test_htmx_request_gets_the_table_only(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.get("/customers/", {"q": "王"}, HTTP_HX_REQUEST="true")
        assert b"<html" not in response.content and b'data-testid="customer-table"' in response.content


class TestMasking:
    def test_list_and_360_never_show_clear_identifiers(self, client, book, add_account, demo_password):
        target = book["cm1"]
        account = add_account(target, account_no="6222020012345678901")
        ContactPoint.objects.create(customer=target, type=ContactType.EMAIL, value="wangxm@example.com")
        ContactPoint.objects.create(
            customer=target, type=ContactType.ADDRESS, value="北京市海淀区中关村大街27号"
        )
        log_in(client, "demo_cm1", demo_password)
        for url in ("/customers/", f"/customers/{target.customer_no}/"):
            html = client.get(url).content.decode()
            for clear in (
                target.id_number,
                target.mobile,
                account.account_no,
                "wangxm@example.com",
                "中关村大街27号",
            ):
                assert clear not in html, (url, clear)
        detail = client.get(f"/customers/{target.customer_no}/")
        assert target.id_number[:3] + "*" in detail.content.decode()
        assert "no-store" in detail["Cache-Control"]


class TestReveal:
    def test_reveal_is_audited_before_the_value_is_shown(self, client, book, demo_password, demo_users):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{target.customer_no}/reveal/",
            {"field": "id_number", "reason": "customer on the phone"},
            REMOTE_ADDR="10.3.3.3",
        )
        assert response.status_code == 200
        assert target.id_number in response.content.decode()
        assert "no-store" in response["Cache-Control"]
        event = AuditEvent.objects.get(action=Action.PII_REVEALED)
        assert event.actor == demo_users["demo_cm1"] and event.target_id == str(target.pk)
        assert event.details == {"field": "id_number", "reason": "customer on the phone"}
        assert event.ip == "10.3.3.3"
        assert target.id_number not in str(event.details)

    def test_reveal_needs_a_reason(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{book['cm1'].customer_no}/reveal/", {"field": "id_number", "reason": ""}
        )
        assert response.status_code == 400
        assert book["cm1"].id_number not in response.content.decode()
        assert not AuditEvent.objects.filter(action=Action.PII_REVEALED).exists()

    def test_a_contact_of_another_customer_cannot_be_revealed_through_this_one(
        self, client, book, demo_password
    ):
        other_contact = ContactPoint.objects.get(customer=book["cm2"], type="MOBILE")
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{book['cm1'].customer_no}/reveal/",
            {"field": "contact", "item": other_contact.pk, "reason": "trying my luck"},
        )
        assert response.status_code == 400
        assert other_contact.value not in response.content.decode()

    def test_roles_without_the_reveal_permission_are_refused(self, client, book, demo_password):
        log_in(client, "demo_audit", demo_password)
        response = client.post(
            f"/customers/{book['cm1'].customer_no}/reveal/", {"field": "id_number", "reason": "curious"}
        )
        assert response.status_code == 403

    def test_many_reveals_in_a_day_raise_a_suspicious_operation_alert(
        self, client, book, demo_password, settings
    ):
        settings.PII_REVEAL_DAILY_LIMIT = 3
        log_in(client, "demo_cm1", demo_password)
        for _ in range(5):
            client.post(
                f"/customers/{book['cm1'].customer_no}/reveal/", {"field": "mobile", "reason": "call back"}
            )
        alerts = AuditEvent.objects.filter(action=Action.SUSPICIOUS_ACTIVITY)
        assert alerts.count() == 1 and alerts.get().details["count"] == 4


class Test360:
    def test_query_count_does_not_grow_with_the_customer(
        self,
        client,
        book,
        add_account,
        demo_users,
        demo_password,
        django_assert_max_num_queries,
        new_customer,
    ):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)

        def queries_for_page():
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(f"/customers/{target.customer_no}/").status_code == 200
            return len(ctx.captured_queries)

        small = queries_for_page()
        # given the customer now holds much more
        household = Household.objects.create(name="王家")
        for i in range(40):
            add_account(target, category=["DEP_CUR", "DEP_TIME", "FUND", "LOAN_CONSUMER"][i % 4])
            Interaction.objects.create(
                customer=target, kind="call", subject=f"call {i}", manager=demo_users["demo_cm1"]
            )
            OtherAsset.objects.create(
                customer=target, kind="property", description=f"flat {i}", estimated_value=Decimal("1")
            )
            ContactPoint.objects.create(customer=target, type="EMAIL", value=f"w{i}@example.com")
        for i in range(5):
            member = new_customer(manager=demo_users["demo_cm1"], name=f"家人{i}")
            member.household = household
            member.save()
        target.household = household
        target.save()
        big = queries_for_page()
        # the household members query appears once, and the credit panel's read of
        # the loans' statuses once there is a loan (tests/credit/test_panel.py)
        assert big == small + 2
        # 6 for session, user, permissions and roles, 3 for renewing the idle session,
        # 1 for the user's grants (data scope), 9 for the 360 itself, 1 each for the
        # reminders, campaigns and service subscriptions panels (the actions panel reads
        # nothing), 1 for the payroll panel (customers.templatetags.payroll), 2 at most
        # for each section other areas register (customers.panels.sections: the
        # customer analysis reads its row, and the products it recommends if any; the
        # credit panel the loans and cards, and their statuses if any)
        with django_assert_max_num_queries(27):
            client.get(f"/customers/{target.customer_no}/")

    def test_household_aum_is_the_members_combined(self, client, demo_users, new_customer, demo_password):
        household = Household.objects.create(name="李家")
        head = new_customer(
            manager=demo_users["demo_cm1"],
            name="李父",
            aum="300000.50",
            household=household,
            household_role=HouseholdRole.HEAD,
        )
        new_customer(
            manager=demo_users["demo_cm2"],
            name="李母",
            aum="200000.25",
            household=household,
            household_role=HouseholdRole.SPOUSE,
        )
        log_in(client, "demo_cm1", demo_password)
        response = client.get(f"/customers/{head.customer_no}/")
        assert response.context["view"].household_aum == Decimal("500000.75")
        assert "500,000.75" in response.content.decode()

    def test_the_page_shows_header_groups_trend_and_timeline(self, client, book, add_account, demo_password):
        target = book["cm1"]
        add_account(target, category="DEP_TIME", cny_balance="200000")
        add_account(target, category="LOAN_MORTGAGE", cny_balance="900000")
        log_in(client, "demo_cm1", demo_password)
        response = client.get(f"/customers/{target.customer_no}/")
        view = response.context["view"]
        assert [g.category for g in view.account_groups] == ["DEP_TIME", "LOAN_MORTGAGE"]
        assert len(view.aum_trend) == 13
        assert b'id="aum-data"' in response.content and b"chart.umd.min.js" in response.content
        assert "王小明" in response.content.decode()

    def test_logging_a_contact_from_the_360_view(self, client, book, demo_password, demo_users):
        target = book["cm1"]
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{target.customer_no}/interactions/",
            {"kind": "call", "subject": "理财到期提醒"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200 and "理财到期提醒" in response.content.decode()
        interaction = Interaction.objects.get(customer=target)
        assert interaction.manager == demo_users["demo_cm1"]
        bad = client.post(
            f"/customers/{target.customer_no}/interactions/",
            {"kind": "telepathy", "subject": ""},
            HTTP_HX_REQUEST="true",
        )
        assert bad.status_code == 400 and Interaction.objects.count() == 1


def test_household_members_outside_the_scope_show_no_name_or_balance(
    client, demo_users, new_customer, demo_password
):
    household = Household.objects.create(name="周家")
    mine = new_customer(manager=demo_users["demo_cm1"], name="周大", aum="100", household=household)
    theirs = new_customer(manager=demo_users["demo_cm3"], name="周小华", aum="98765.43", household=household)
    also_mine = new_customer(manager=demo_users["demo_cm1"], name="周二", aum="1000", household=household)
    log_in(client, "demo_cm1", demo_password)
    html = client.get(f"/customers/{mine.customer_no}/").content.decode()
    assert f'href="/customers/{also_mine.customer_no}/"' in html and "周二" in html
    assert "周小华" not in html and "98,765.43" not in html and theirs.customer_no not in html
    assert "周*" in html
    assert "99,865.43" in html  # the household AUM still counts every member

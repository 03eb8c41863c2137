"""Employers and their payroll customers (代发工资): the unified social credit code and
its check character, registering and editing an employer, linking a customer and
ending the link, the data scope of an employer's list of customers, who may do
what, the audit trail, bounded queries, the 360 view's panel, the indicator of new
payroll customers and the demo's employers."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from importlib import import_module

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent
from customers import employers
from customers.employer_choices import EmployerAction, Industry
from customers.models import Employer, PayrollLink
from customers.services import assignment_set_primary
from customers.uscc import ALPHABET, check_character, make_uscc, validate_uscc
from marketing.indicators import actuals
from marketing.models import Indicator
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

# Codes of real organisations, as printed on their business licences.
REAL_CODES = ("91350100M000100Y43", "91440300708461136T")
GOOD = make_uscc("91110108MA01C7K2X")


def wrong_check(code: str) -> str:
    """The code with another check character."""
    return code[:-1] + ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]


def text(response) -> str:
    return response.content.decode()


def switch(client, username: str, password: str) -> None:
    client.logout()
    log_in(client, username, password)


@pytest.fixture
def employer(demo_users) -> Employer:
    return employers.employer_create(
        user=demo_users["demo_bm"],
        name="中关村智造科技有限公司",
        uscc=GOOD,
        industry=Industry.IT,
        contact_person="刘人事",
        contact_phone="010-62810001",
    )


@pytest.fixture
def book(demo_users, new_customer, employer) -> dict:
    """demo_cm1's customer (11101) and demo_cm3's (Shanghai, 12101), both paid by
    the employer; a customer of demo_cm1 not linked yet."""
    own = new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王代发")
    foreign = new_customer(branch="12101", manager=demo_users["demo_cm3"], name="陈代发")
    unlinked = new_customer(branch="11101", manager=demo_users["demo_cm1"], name="李未代发")
    bm = demo_users["demo_bm"]
    since = timezone.localdate() - datetime.timedelta(days=60)
    links = {
        "own": employers.payroll_link(user=bm, employer=employer, customer=own, since=since),
        "foreign": employers.payroll_link(user=bm, employer=employer, customer=foreign, since=since),
    }
    return {"own": own, "foreign": foreign, "unlinked": unlinked, "links": links}


# --- the code -----------------------------------------------------------------------------


class TestUnifiedSocialCreditCode:
    @pytest.mark.parametrize("code", [*REAL_CODES, GOOD, make_uscc("12110108400512346")])
    def test_valid_codes_pass(self, code):
        assert validate_uscc(code) == code

    def test_typed_in_lower_case_with_spaces_it_is_stored_in_capitals(self):
        typed = " " + REAL_CODES[0][:9].lower() + " " + REAL_CODES[0][9:].lower()
        assert validate_uscc(typed) == REAL_CODES[0]

    @pytest.mark.parametrize("code", REAL_CODES)
    def test_a_wrong_check_character_is_refused_with_a_clear_message(self, code):
        with pytest.raises(ValidationError, match="check character") as refused:
            validate_uscc(wrong_check(code))
        assert refused.value.code == "check"

    def test_two_characters_swapped_are_caught(self):
        code = REAL_CODES[1]
        swapped = code[:9] + code[10] + code[9] + code[11:]
        assert swapped != code
        with pytest.raises(ValidationError, match="check character"):
            validate_uscc(swapped)

    @pytest.mark.parametrize(
        ("code", "message"),
        [
            (REAL_CODES[0][:17], "has 18 characters; this one has 17"),
            (REAL_CODES[0] + "1", "has 18 characters; this one has 19"),
            ("91350100I000100Y43", "other than I, O, Z, S and V; this one has I"),
            ("9135010OM000100Y43", "this one has O"),
            ("91A50100M000100Y43", "region's six digits"),
        ],
    )
    def test_other_mistakes_are_named(self, code, message):
        with pytest.raises(ValidationError, match=re.escape(message)):
            validate_uscc(code)

    def test_the_check_character_is_the_one_the_standard_computes(self):
        # GB 32100-2015: weights 3**i mod 31, check = 31 - sum mod 31 (31 reads 0)
        assert check_character("91350100M000100Y4") == "3"
        assert check_character("91440300708461136") == "T"


# --- employers ----------------------------------------------------------------------------


class TestRegisterAnEmployer:
    def data(self, **overrides) -> dict:
        return {
            "name": "国贸商业管理有限公司",
            "uscc": make_uscc("91110105MA00B3H1N"),
            "industry": "L",
            "contact_person": "陈经理",
            "contact_phone": "010-65050002",
            **overrides,
        }

    def test_a_business_manager_registers_one_and_the_trail_records_it(
        self, client, demo_users, demo_password
    ):
        log_in(client, "demo_bm", demo_password)
        response = client.post("/customers/employers/new/", self.data(), follow=True)
        employer = Employer.objects.get()
        assert response.redirect_chain[-1][0] == f"/customers/employers/{employer.pk}/"
        page = text(response)
        assert "Employer 国贸商业管理有限公司 registered" in page
        assert "Leasing and business services" in page  # the industry by its label
        assert "***" in page and "010-65050002" not in page  # the contact's phone masked
        event = AuditEvent.objects.get(action=EmployerAction.EMPLOYER_CREATED)
        assert event.actor == demo_users["demo_bm"]
        assert event.target_type == "customers.employer" and event.target_id == str(employer.pk)
        assert event.details["uscc"] == employer.uscc

    def test_a_wrong_check_character_is_refused_and_nothing_is_written(
        self, client, demo_users, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        response = client.post("/customers/employers/new/", self.data(uscc=wrong_check(self.data()["uscc"])))
        assert response.status_code == 400
        assert "The check character (the last one) does not match" in text(response)
        assert not Employer.objects.exists()
        assert not AuditEvent.objects.filter(action=EmployerAction.EMPLOYER_CREATED).exists()

    def test_a_code_already_registered_names_its_employer(self, client, demo_password, employer):
        log_in(client, "demo_cm1", demo_password)
        response = client.post("/customers/employers/new/", self.data(uscc=GOOD.lower()))
        assert response.status_code == 400
        assert "中关村智造科技有限公司 is already registered with this unified social credit code." in text(
            response
        )
        assert Employer.objects.count() == 1

    def test_the_industry_and_a_phone_number_are_checked(self, client, demo_users, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.post("/customers/employers/new/", self.data(industry="", contact_phone="call me"))
        assert response.status_code == 400
        page = text(response)
        assert "This field is required." in page
        assert "Give a phone number" in page
        assert not Employer.objects.exists()

    def test_an_edit_records_what_changed_and_nothing_when_nothing_did(
        self, client, demo_users, demo_password, employer
    ):
        log_in(client, "demo_bh", demo_password)
        data = {
            "name": "中关村智造科技股份有限公司",
            "uscc": GOOD,
            "industry": "C",
            "contact_person": "刘人事",
            "contact_phone": "010-62810001",
        }
        response = client.post(f"/customers/employers/{employer.pk}/edit/", data)
        assert response.status_code == 302
        employer.refresh_from_db()
        assert (employer.name, employer.industry) == ("中关村智造科技股份有限公司", "C")
        event = AuditEvent.objects.get(action=EmployerAction.EMPLOYER_UPDATED)
        assert event.actor == demo_users["demo_bh"]
        assert event.details == {
            "employer_name": {"from": "中关村智造科技有限公司", "to": "中关村智造科技股份有限公司"},
            "industry": {"from": "Information transmission, software and IT services", "to": "Manufacturing"},
        }
        client.post(f"/customers/employers/{employer.pk}/edit/", data)  # the same again
        assert AuditEvent.objects.filter(action=EmployerAction.EMPLOYER_UPDATED).count() == 1


class TestSearch:
    def test_by_part_of_the_name_or_the_start_of_the_code_with_pages(
        self, client, demo_users, demo_password, employer
    ):
        bm = demo_users["demo_bm"]
        for n in range(30):
            employers.employer_create(
                user=bm, name=f"第{n:02d}建筑有限公司", uscc=make_uscc(f"9131011500000{n:04d}"), industry="E"
            )
        log_in(client, "demo_cm1", demo_password)
        by_name = client.get("/customers/employers/", {"q": "智造"})
        assert [e.pk for e in by_name.context["page_obj"]] == [employer.pk]
        by_code = client.get("/customers/employers/", {"q": GOOD[:10].lower()})
        assert [e.pk for e in by_code.context["page_obj"]] == [employer.pk]
        nothing = client.get("/customers/employers/", {"q": "no such"})
        assert "No employer matches this name or code." in text(nothing)
        first = client.get("/customers/employers/", {"q": "建筑"})
        assert "Employers 1–25 of 30" in text(first)
        second = client.get("/customers/employers/", {"q": "建筑", "page": 2})
        assert len(second.context["page_obj"]) == 5
        assert "Employers 26–30 of 30" in text(second)

    def test_the_list_counts_only_the_payroll_customers_the_viewer_sees(self, client, demo_password, book):
        log_in(client, "demo_cm1", demo_password)
        row = client.get("/customers/employers/").context["page_obj"][0]
        assert row.employee_count == 1
        switch(client, "demo_bm", demo_password)
        assert client.get("/customers/employers/").context["page_obj"][0].employee_count == 2


# --- payroll relationships ----------------------------------------------------------------


class TestLink:
    def test_a_client_manager_links_their_customer(
        self, client, demo_users, demo_password, book, employer, add_account
    ):
        customer = book["unlinked"]
        account = add_account(customer)
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/",
            {
                "customer_no": customer.customer_no,
                "since": "2026-01-05",
                "account_no": account.account_no,
                "monthly_amount": "12000.50",
            },
            follow=True,
        )
        assert response.status_code == 200
        assert (
            f"李未代发 ({customer.customer_no}) is recorded as paid by 中关村智造科技有限公司 since 2026-01-05."
            in text(response)
        )
        link = PayrollLink.objects.get(customer=customer)
        assert (link.since, link.account, link.monthly_amount, link.until) == (
            datetime.date(2026, 1, 5),
            account,
            Decimal("12000.50"),
            None,
        )
        assert "12,000.50" in text(response)
        assert account.account_no not in text(response)  # masked
        event = AuditEvent.objects.get(action=EmployerAction.PAYROLL_LINKED, target_id=str(customer.pk))
        assert event.actor == demo_users["demo_cm1"]
        assert event.details == {"employer": "中关村智造科技有限公司", "paid_since": "2026-01-05"}

    def test_a_customer_linked_twice_is_refused(self, client, demo_password, book, employer):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/", {"customer_no": book["own"].customer_no}
        )
        assert response.status_code == 400
        since = book["links"]["own"].since.isoformat()
        assert f"王代发 is already paid by 中关村智造科技有限公司, since {since}." in text(response)
        assert PayrollLink.objects.filter(customer=book["own"]).count() == 1
        with pytest.raises(ValidationError, match="already paid by"):
            employers.payroll_link(user=book["own"].primary_manager, employer=employer, customer=book["own"])

    def test_after_the_link_ended_the_customer_can_be_linked_again(self, demo_users, book, employer):
        cm1 = demo_users["demo_cm1"]
        employers.payroll_end(user=cm1, link=book["links"]["own"])
        again = employers.payroll_link(user=cm1, employer=employer, customer=book["own"])
        assert PayrollLink.objects.filter(customer=book["own"]).count() == 2
        assert again.until is None

    def test_an_account_of_someone_else_a_future_start_and_a_zero_amount_are_refused(
        self, client, demo_password, book, employer, add_account
    ):
        other_account = add_account(book["own"])
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/",
            {"customer_no": book["unlinked"].customer_no, "account_no": other_account.account_no},
        )
        assert response.status_code == 400
        assert "This account is not the customer&#x27;s." in text(response)
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/",
            {"customer_no": book["unlinked"].customer_no, "since": tomorrow, "monthly_amount": "0"},
        )
        assert response.status_code == 400
        page = text(response)
        assert "A payroll relationship starts today or earlier." in page
        assert "Ensure this value is greater than or equal to 0.01." in page
        assert not PayrollLink.objects.filter(customer=book["unlinked"]).exists()

    def test_ending_keeps_the_relationship_as_history_and_is_audited(
        self, client, demo_users, demo_password, book, employer
    ):
        link = book["links"]["own"]
        log_in(client, "demo_cm1", demo_password)
        until = timezone.localdate() - datetime.timedelta(days=1)
        response = client.post(
            f"/customers/employers/payroll/{link.pk}/end/", {"until": until.isoformat()}, follow=True
        )
        assert (
            f"The payroll relationship of 王代发 with 中关村智造科技有限公司 ended on {until.isoformat()}."
            in text(response)
        )
        link.refresh_from_db()
        assert link.until == until
        event = AuditEvent.objects.get(action=EmployerAction.PAYROLL_ENDED)
        assert (event.actor, event.details["paid_until"]) == (demo_users["demo_cm1"], until.isoformat())
        ended = client.get(f"/customers/employers/{employer.pk}/", {"ended": "1"})
        assert [r.pk for r in ended.context["page_obj"]] == [link.pk]
        current = client.get(f"/customers/employers/{employer.pk}/")
        assert "None of the customers you see is paid by this employer." in text(current)

    def test_an_end_before_the_start_is_refused(self, client, demo_password, book):
        link = book["links"]["own"]
        log_in(client, "demo_cm1", demo_password)
        before = (link.since - datetime.timedelta(days=1)).isoformat()
        response = client.post(f"/customers/employers/payroll/{link.pk}/end/", {"until": before}, follow=True)
        assert "cannot end before it started" in text(response)
        link.refresh_from_db()
        assert link.until is None


# --- scope and roles ----------------------------------------------------------------------


class TestScope:
    def test_a_client_manager_sees_only_their_customers_in_an_employers_list(
        self, client, demo_password, book, employer
    ):
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/customers/employers/{employer.pk}/")
        assert [link.customer for link in page.context["page_obj"]] == [book["own"]]
        assert "王代发" in text(page) and "陈代发" not in text(page)
        switch(client, "demo_bh", demo_password)  # 11100's subtree: not Shanghai
        page = client.get(f"/customers/employers/{employer.pk}/")
        assert [link.customer for link in page.context["page_obj"]] == [book["own"]]
        switch(client, "demo_bm", demo_password)  # head office: both
        page = client.get(f"/customers/employers/{employer.pk}/")
        assert {link.customer for link in page.context["page_obj"]} == {book["own"], book["foreign"]}

    def test_a_customer_outside_the_scope_cannot_be_linked_nor_their_link_ended(
        self, client, demo_users, demo_password, book, employer, new_customer
    ):
        theirs = new_customer(branch="12101", manager=demo_users["demo_cm3"], name="外行客户")
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/", {"customer_no": theirs.customer_no}
        )
        assert response.status_code == 400
        assert "No customer with this number among the customers you see." in text(response)
        assert not PayrollLink.objects.filter(customer=theirs).exists()
        response = client.post(f"/customers/employers/payroll/{book['links']['foreign'].pk}/end/")
        assert response.status_code == 404
        assert PayrollLink.objects.get(pk=book["links"]["foreign"].pk).until is None
        # the services check again, whatever their caller did
        with pytest.raises(PermissionDenied):
            employers.payroll_link(user=demo_users["demo_cm1"], employer=employer, customer=theirs)
        with pytest.raises(PermissionDenied):
            employers.payroll_end(user=demo_users["demo_cm1"], link=book["links"]["foreign"])

    def test_wrong_roles_are_refused(self, client, demo_password, book, employer):
        log_in(client, "demo_pm", demo_password)  # the parameter manager sees no customers
        assert client.get("/customers/employers/").status_code == 403
        assert client.get(f"/customers/employers/{employer.pk}/").status_code == 403
        switch(client, "demo_audit", demo_password)  # the auditor reads, never writes
        assert client.get(f"/customers/employers/{employer.pk}/").status_code == 200
        assert client.get("/customers/employers/new/").status_code == 403
        assert client.get(f"/customers/employers/{employer.pk}/edit/").status_code == 403
        response = client.post(
            f"/customers/employers/{employer.pk}/employees/", {"customer_no": book["unlinked"].customer_no}
        )
        assert response.status_code == 403
        assert client.post(f"/customers/employers/payroll/{book['links']['own'].pk}/end/").status_code == 403
        assert not PayrollLink.objects.filter(customer=book["unlinked"]).exists()
        assert PayrollLink.objects.get(pk=book["links"]["own"].pk).until is None
        page = text(client.get(f"/customers/employers/{employer.pk}/"))
        assert 'data-testid="payroll-link-form"' not in page and 'data-testid="payroll-end"' not in page

    def test_the_menu_leads_there(self, client, demo_users, demo_password):
        log_in(client, "demo_cm1", demo_password)
        assert 'href="/customers/employers/"' in text(client.get("/"))


# --- bounded queries ----------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


class TestQueries:
    def test_the_pages_do_not_grow_with_the_data(
        self,
        client,
        demo_users,
        demo_password,
        book,
        employer,
        new_customer,
        add_account,
        django_assert_max_num_queries,
    ):
        log_in(client, "demo_cm1", demo_password)
        detail, listing = f"/customers/employers/{employer.pk}/", "/customers/employers/"
        small = (_count(client, detail), _count(client, listing))
        bm, cm1 = demo_users["demo_bm"], demo_users["demo_cm1"]
        for n in range(20):
            customer = new_customer(branch="11101", manager=cm1, name=f"员工{n}")
            account = add_account(customer)
            employers.payroll_link(
                user=bm, employer=employer, customer=customer, account=account, monthly_amount=Decimal("9000")
            )
            employers.employer_create(
                user=bm, name=f"单位{n}", uscc=make_uscc(f"9111010800000{n:04d}"), industry="F"
            )
        assert (_count(client, detail), _count(client, listing)) == small
        with django_assert_max_num_queries(16):
            client.get(detail)
        with django_assert_max_num_queries(16):
            client.get(listing)


# --- the 360 view -------------------------------------------------------------------------


class TestThe360Panel:
    def test_it_shows_the_employers_current_and_former(
        self, client, demo_users, demo_password, book, employer
    ):
        customer = book["own"]
        bm = demo_users["demo_bm"]
        former = employers.employer_create(
            user=bm, name="旧单位有限公司", uscc=make_uscc("91110105MA00B3H1N"), industry="F"
        )
        old = employers.payroll_link(
            user=bm,
            employer=former,
            customer=customer,
            since=datetime.date(2020, 3, 1),
            monthly_amount=Decimal("6500"),
        )
        employers.payroll_end(user=bm, link=old, until=datetime.date(2024, 6, 30))
        log_in(client, "demo_cm1", demo_password)
        page = text(client.get(f"/customers/{customer.customer_no}/"))
        panel = page[page.index('data-testid="payroll-panel"') :]
        assert panel.index("中关村智造科技有限公司") < panel.index("旧单位有限公司")  # current first
        assert f'href="/customers/employers/{employer.pk}/"' in panel
        assert f"since {book['links']['own'].since.isoformat()}" in panel
        assert "2020-03-01 to 2024-06-30" in panel and "6,500.00 a month" in panel
        assert f'href="/customers/employers/?for={customer.customer_no}"' in panel  # link to another employer

    def test_a_customer_paid_by_nobody_says_so_and_the_auditor_gets_no_forms(
        self, client, demo_password, book
    ):
        log_in(client, "demo_audit", demo_password)
        page = text(client.get(f"/customers/{book['unlinked'].customer_no}/"))
        assert "Not paid by any employer through the bank." in page
        assert 'data-testid="payroll-link-start"' not in page

    def test_from_the_360_view_to_the_employers_page_with_the_number_filled_in(
        self, client, demo_password, book, employer
    ):
        log_in(client, "demo_cm1", demo_password)
        number = book["unlinked"].customer_no
        listing = text(client.get("/customers/employers/", {"for": number}))
        assert f'href="/customers/employers/{employer.pk}/?for={number}"' in listing
        detail = client.get(f"/customers/employers/{employer.pk}/", {"for": number})
        assert detail.context["link_form"]["customer_no"].value() == number

    def test_the_panel_costs_one_query(self, client, demo_password, book):
        log_in(client, "demo_cm1", demo_password)
        url = f"/customers/{book['own'].customer_no}/"
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        payroll = [q["sql"] for q in ctx.captured_queries if "customers_payrolllink" in q["sql"]]
        assert len(payroll) == 1


# --- the indicator ------------------------------------------------------------------------


def _table(rows) -> dict:
    from accounts.models import Branch, User

    names = dict(User.objects.values_list("pk", "username"))
    codes = dict(Branch.objects.values_list("pk", "code"))
    return {(names.get(r.manager_id), codes[r.branch_id]): r.value for r in rows}


class TestNewPayrollCustomersIndicator:
    def test_first_relationships_started_in_the_period_for_the_manager_of_record_that_day(
        self, demo_users, new_customer, employer
    ):
        cm1, cm2, bm = demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["demo_bm"]
        other = employers.employer_create(
            user=bm, name="另一单位", uscc=make_uscc("91110105MA00B3H1N"), industry="F"
        )
        d = datetime.date

        def customer(branch: str, *managers):
            made = new_customer(branch=branch)
            for manager, on in managers:
                assignment_set_primary(customer=made, manager=manager, by=None, reason="t", on=on)
            return made

        def link(c, since, to=employer):
            return employers.payroll_link(user=bm, employer=to, customer=c, since=since)

        a = customer("11101", (cm1, d(2026, 1, 1)))
        link(a, d(2026, 5, 3))  # new: cm1
        b = customer("11102", (cm2, d(2026, 1, 1)))
        link(b, d(2026, 5, 10))  # new: cm2, counted once with its second employer
        link(b, d(2026, 5, 12), to=other)
        c = customer("11101", (cm1, d(2026, 1, 1)))
        link(c, d(2025, 1, 1), to=other)  # paid before the period: not new
        link(c, d(2026, 5, 8))
        e = customer("11101", (cm1, d(2026, 1, 1)))
        link(e, d(2026, 6, 1))  # after the period
        f = customer("11102", (cm2, d(2026, 1, 1)), (cm1, d(2026, 5, 6)))
        link(f, d(2026, 5, 4))  # cm2 looked after f that day
        g = customer("12102")
        link(g, d(2026, 5, 15))  # nobody looked after g: the home branch's

        indicator = Indicator(
            code="t-payroll",
            name="新增代发客户",
            kind="new_customers",
            params={"payroll_link": True},
            unit="count",
        )
        indicator.full_clean()
        rows = _table(actuals(indicator, d(2026, 5, 1), d(2026, 5, 31)))
        assert rows == {("demo_cm1", "11101"): 1, ("demo_cm2", "11102"): 2, (None, "12102"): 1}

    def test_a_relationship_ended_later_still_made_a_new_payroll_customer(
        self, demo_users, new_customer, employer
    ):
        bm, cm1 = demo_users["demo_bm"], demo_users["demo_cm1"]
        made = new_customer(branch="11101")
        assignment_set_primary(customer=made, manager=cm1, by=None, reason="t", on=datetime.date(2026, 1, 1))
        link = employers.payroll_link(
            user=bm, employer=employer, customer=made, since=datetime.date(2026, 5, 3)
        )
        employers.payroll_end(user=bm, link=link, until=datetime.date(2026, 7, 1))
        indicator = Indicator(
            code="t", name="t", kind="new_customers", params={"payroll_link": True}, unit="count"
        )
        rows = _table(actuals(indicator, datetime.date(2026, 5, 1), datetime.date(2026, 5, 31)))
        assert rows == {("demo_cm1", "11101"): 1}

    def test_the_library_counts_new_payroll_customers_from_the_employers(self):
        # the library row marketing migration 0005 adds (written again: a transactional
        # test elsewhere may have emptied the table)
        from django.apps import apps as django_apps

        migration = import_module("marketing.migrations.0005_payroll_link_indicator")
        migration.add(django_apps, None)
        indicator = Indicator.objects.get(code=migration.CODE)
        indicator.full_clean()
        assert (indicator.kind, indicator.params) == ("new_customers", {"payroll_link": True})

    def test_it_counts_from_sales_or_from_employers_not_both(self):
        indicator = Indicator(
            code="t",
            name="t",
            kind="new_customers",
            params={"payroll": True, "payroll_link": True},
            unit="count",
        )
        with pytest.raises(ValidationError, match="either from sales"):
            indicator.full_clean()


# --- the demo -----------------------------------------------------------------------------


def test_the_demo_seeds_employers_with_employees_once(demo_users, new_customer, add_account):
    from demo.employers import EMPLOYERS, seed_employers

    for username in ("demo_cm1", "demo_cm2", "demo_cm3"):
        branch = {"demo_cm3": "12101"}.get(username, "11101")
        for _ in range(3):
            add_account(new_customer(branch=branch, manager=demo_users[username]))
    today = timezone.localdate()
    first = seed_employers(business_date=today)
    assert first == {"employers": len(EMPLOYERS), "links": 9}
    assert Employer.objects.count() == len(EMPLOYERS)
    assert PayrollLink.objects.filter(customer__primary_manager=demo_users["demo_cm1"]).count() == 3
    assert PayrollLink.objects.filter(since=today.replace(day=1)).count() == 6  # new this month
    assert seed_employers(business_date=today) == {"employers": 0, "links": 0}

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import Action
from accounts.models import AuditEvent
from customers.aum import aum_refresh
from customers.idnumbers import make_resident_id
from customers.models import AccountBalance, Customer, CustomerDailyAum, CustomerMonthlyAum
from customers.numbers import format_customer_number, is_portal_customer_number, reserve_customer_numbers
from customers.services import customer_create, customer_update
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

ID = make_resident_id(region_code="310115", birth_date=datetime.date(1990, 5, 17), sequence=123)  # odd: male


class TestCustomerNumberRule:
    def test_numbers_are_unique_and_carry_a_check_digit(self):
        numbers = reserve_customer_numbers(50) + reserve_customer_numbers(50)
        assert len(set(numbers)) == 100
        assert all(is_portal_customer_number(n) for n in numbers)
        typo = numbers[0][:-2] + str((int(numbers[0][-2]) + 1) % 10) + numbers[0][-1]
        assert not is_portal_customer_number(typo)

    def test_format(self):
        assert format_customer_number(1) == "900000000019"


class TestCreate:
    def test_birth_date_and_gender_come_from_the_resident_id(self, demo_users, org):
        result = customer_create(
            created_by=demo_users["demo_bm"],
            id_type="01",
            id_number=ID,
            name="赵六",
            home_branch=org["11101"],
        )
        assert result.created
        assert (result.customer.birth_date, result.customer.gender) == (datetime.date(1990, 5, 17), "M")
        assert is_portal_customer_number(result.customer.customer_no)
        assert AuditEvent.objects.filter(
            action=Action.CUSTOMER_CREATED, target_id=str(result.customer.pk)
        ).exists()

    def test_the_same_person_again_opens_the_existing_customer(self, demo_users, org):
        first = customer_create(
            created_by=demo_users["demo_bm"],
            id_type="01",
            id_number=ID,
            name="赵六",
            home_branch=org["11101"],
        )
        again = customer_create(
            created_by=demo_users["demo_bm"],
            id_type="01",
            id_number=" " + ID.lower() + " ",
            name="赵 六",
            home_branch=org["12101"],
        )
        assert not again.created and again.customer.pk == first.customer.pk
        assert Customer.objects.count() == 1

    @pytest.mark.parametrize(
        ("id_number", "extra", "field"),
        [
            (ID[:-1] + ("0" if ID[-1] != "0" else "1"), {}, "id_number"),  # wrong check digit
            (ID, {"gender": "F"}, "gender"),
            (ID, {"birth_date": datetime.date(1990, 5, 18)}, "birth_date"),
            (ID, {"mobile": "1234"}, "mobile"),
        ],
    )
    def test_bad_identity_input_is_refused_and_nothing_is_kept(
        self, demo_users, org, id_number, extra, field
    ):
        with pytest.raises(ValidationError) as exc:
            customer_create(
                created_by=demo_users["demo_bm"],
                id_type="01",
                id_number=id_number,
                name="赵六",
                home_branch=org["11101"],
                **extra,
            )
        assert field in exc.value.message_dict
        assert not Customer.objects.exists()

    def test_a_passport_is_checked_for_shape_only(self, demo_users, org):
        ok = customer_create(
            created_by=demo_users["demo_bm"],
            id_type="02",
            id_number="e12345678",
            name="Anna Li",
            home_branch=org["11101"],
        )
        assert ok.customer.id_number == "E12345678" and ok.customer.birth_date is None
        with pytest.raises(ValidationError):
            customer_create(
                created_by=demo_users["demo_bm"],
                id_type="02",
                id_number="E1",
                name="x",
                home_branch=org["11101"],
            )

    def test_a_client_manager_who_creates_a_customer_looks_after_them(self, demo_users, org):
        result = customer_create(
            created_by=demo_users["demo_cm1"],
            id_type="01",
            id_number=ID,
            name="赵六",
            home_branch=org["11101"],
            mobile="13912345678",
        )
        customer = result.customer
        customer.refresh_from_db()
        assert customer.primary_manager == demo_users["demo_cm1"]
        assert customer.contacts.get().value == "13912345678"


class TestCreatePage:
    def _post(self, client, **data):
        return client.post("/customers/new/", {"id_type": "01", "id_number": ID, "name": "赵六", **data})

    def test_create_then_the_same_id_opens_the_customer(self, client, demo_users, demo_password, org):
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, home_branch=org["11101"].pk)
        customer = Customer.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/customers/{customer.customer_no}/"
        again = self._post(client, home_branch=org["11101"].pk, name="另一个名字")
        assert again["Location"] == f"/customers/{customer.customer_no}/" and Customer.objects.count() == 1

    def test_an_existing_customer_outside_the_scope_is_not_duplicated_nor_shown(
        self, client, demo_users, demo_password, org
    ):
        customer_create(
            created_by=demo_users["demo_cm3"],
            id_type="01",
            id_number=ID,
            name="赵六",
            home_branch=org["12101"],
        )
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, home_branch=org["11101"].pk)
        assert response.status_code == 409
        html = response.content.decode()
        assert "already a customer" in html
        assert Customer.objects.get().customer_no not in html
        assert Customer.objects.count() == 1

    def test_a_client_manager_cannot_create_in_another_branch(self, client, demo_users, demo_password, org):
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, home_branch=org["12101"].pk)
        assert response.status_code == 400 and "home_branch" in response.context["form"].errors
        assert not Customer.objects.exists()

    def test_errors_are_shown_on_the_form(self, client, demo_users, demo_password, org):
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, home_branch=org["11101"].pk, id_number="110101199002301234", gender="F")
        assert response.status_code == 400
        assert "id_number" in response.context["form"].errors
        assert not Customer.objects.exists()


class TestEdit:
    def test_edit_through_the_page_is_audited_with_field_names_only(
        self, client, demo_users, demo_password, new_customer
    ):
        customer = new_customer(manager=demo_users["demo_cm1"])
        log_in(client, "demo_cm1", demo_password)
        form = client.get(f"/customers/{customer.customer_no}/edit/").context["form"]
        data = {k: v for k, v in form.initial.items() if v not in (None, False)}
        data.update(occupation="教师", risk_level="C3", risk_expiry="2027-06-30")
        response = client.post(f"/customers/{customer.customer_no}/edit/", data)
        assert response.status_code == 302
        customer.refresh_from_db()
        assert (customer.occupation, customer.risk_level) == ("教师", "C3")
        event = AuditEvent.objects.filter(action=Action.CUSTOMER_UPDATED).latest("id")
        assert set(event.details["fields"]) >= {"occupation", "risk_level", "risk_expiry"}

    def test_a_risk_level_without_expiry_is_refused(self, client, demo_users, demo_password, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"])
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/customers/{customer.customer_no}/edit/",
            {"name": customer.name, "nationality": "CHN", "status": "A", "risk_level": "C3"},
        )
        assert response.status_code == 400 and "risk_expiry" in response.context["form"].errors

    def test_nothing_changed_writes_nothing(self, demo_users, new_customer):
        customer = new_customer()
        customer_update(customer=customer, updated_by=demo_users["demo_bm"], occupation=customer.occupation)
        assert not AuditEvent.objects.filter(action=Action.CUSTOMER_UPDATED).exists()


class TestAumRefresh:
    def test_aum_liabilities_and_month_average(self, new_customer, add_account):
        customer = new_customer()
        day1, day2 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 2)
        dep = add_account(customer, category="DEP_CUR", cny_balance="1000", business_date=day1)
        fund = add_account(customer, category="FUND", cny_balance="3000", business_date=day1)
        loan = add_account(customer, category="LOAN_MORTGAGE", cny_balance="50000", business_date=day1)
        aum_refresh(day1)
        for account, amount in ((dep, "2000"), (fund, "3000"), (loan, "49000")):
            AccountBalance.objects.create(
                business_date=day2, account=account, balance=Decimal(amount), cny_balance=Decimal(amount)
            )
        aum_refresh(day2)
        aum_refresh(day2)  # a second run changes nothing
        customer.refresh_from_db()
        assert (customer.aum, customer.liabilities, customer.aum_date) == (
            Decimal("5000"),
            Decimal("49000"),
            day2,
        )
        # month average over the 2 days elapsed: (4000 + 5000) / 2
        assert customer.month_avg_aum == Decimal("4500")
        month = CustomerMonthlyAum.objects.get(customer=customer)
        assert (month.end_aum, month.days, month.avg_liabilities) == (Decimal("5000"), 2, Decimal("49500"))
        assert CustomerDailyAum.objects.filter(customer=customer).count() == 2
        dep.refresh_from_db()
        assert (dep.cny_balance, dep.balance_date) == (Decimal("2000"), day2)

    def test_a_customer_whose_balances_stop_holds_nothing(self, new_customer, add_account):
        customer = new_customer()
        add_account(customer, cny_balance="1000", business_date=datetime.date(2026, 11, 1))
        aum_refresh(datetime.date(2026, 11, 1))
        aum_refresh(datetime.date(2026, 11, 2))
        customer.refresh_from_db()
        assert customer.aum == 0 and customer.month_avg_aum == Decimal("500")

"""A customer's nationality is chosen from the countries of ISO 3166-1 (stored as the
three-letter code, shown by its name) and education includes junior college."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from accounts.models import Branch
from customers.choices import Education
from customers.countries import COUNTRIES, FIRST, country_choices, country_name
from customers.forms import CustomerCreateForm, CustomerEditForm
from customers.models import Customer
from customers.services import customer_update
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db


def _edit_data(customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "nationality": customer.nationality,
        "birthday_calendar": customer.birthday_calendar,
        "status": customer.status,
    }
    data.update(changes)
    return data


class TestTheCountries:
    def test_every_code_of_the_standard_once_with_a_name(self):
        assert len(COUNTRIES) == 249
        assert all(re.fullmatch(r"[A-Z]{3}", code) for code in COUNTRIES)
        names = [str(name) for name in COUNTRIES.values()]
        assert len(set(names)) == len(names) and all(names)
        assert {"CHN", "HKG", "MAC", "TWN", "USA", "GBR", "JPN", "DEU", "SGP"} <= set(COUNTRIES)

    def test_the_choices_put_china_first_and_hold_every_country(self):
        choices = country_choices()
        assert [code for code, _ in choices[: len(FIRST)]] == ["CHN", "HKG", "MAC", "TWN"]
        assert sorted(code for code, _ in choices) == sorted(COUNTRIES)
        rest = [name.casefold() for _, name in choices[len(FIRST) :]]
        assert rest == sorted(rest)  # in English, alphabetical

    def test_a_name_never_a_code_unless_the_code_is_unknown(self):
        assert country_name("JPN") == "Japan"
        assert country_name("XXK") == "XXK"


class TestTheEditForm:
    def test_nationality_is_a_select_of_countries(self, new_customer):
        form = CustomerEditForm(initial=CustomerEditForm.initial_for(new_customer()))
        html = str(form["nationality"])
        assert html.startswith("<select") and '<option value="CHN" selected>China</option>' in html
        assert '<option value="JPN">Japan</option>' in html
        assert "ISO 3166" not in str(form["nationality"].label)

    @pytest.mark.parametrize("value", ["XXX", "chn", "China", ""])
    def test_it_refuses_what_is_not_a_country_of_the_list(self, new_customer, value):
        form = CustomerEditForm(_edit_data(new_customer(), nationality=value))
        assert not form.is_valid()
        assert list(form.errors) == ["nationality"]

    def test_an_unknown_code_kept_from_an_old_record_is_shown_not_replaced(self, new_customer):
        customer = new_customer(nationality="XXK")
        html = str(CustomerEditForm(initial=CustomerEditForm.initial_for(customer))["nationality"])
        assert '<option value="XXK" selected>XXK</option>' in html
        assert '<option value="CHN">China</option>' in html


class TestTheService:
    def test_it_refuses_a_new_nationality_that_is_not_a_country(self, demo_users, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"])
        with pytest.raises(ValidationError) as refused:
            customer_update(customer=customer, updated_by=demo_users["demo_cm1"], nationality="XYZ")
        assert refused.value.message_dict == {
            "nationality": ["Choose a country from the list (XYZ is not a country code)."]
        }
        customer.refresh_from_db()
        assert customer.nationality == "CHN"

    def test_it_keeps_an_old_code_while_other_fields_change(self, demo_users, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"], nationality="XXK")
        customer_update(
            customer=customer, updated_by=demo_users["demo_cm1"], nationality="XXK", occupation="教师"
        )
        customer.refresh_from_db()
        assert (customer.nationality, customer.occupation) == ("XXK", "教师")
        customer_update(customer=customer, updated_by=demo_users["demo_cm1"], nationality="SRB")
        customer.refresh_from_db()
        assert customer.nationality == "SRB"


class TestThePages:
    def test_the_360_view_shows_the_country_by_name(self, client, demo_users, demo_password, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"], nationality="JPN")
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/customers/{customer.customer_no}/").content.decode()
        assert re.search(r'<dd class="col-7" data-testid="nationality">Japan</dd>', page)
        assert ">JPN<" not in page

    def test_the_edit_page_saves_the_chosen_country_and_says_so(
        self, client, demo_users, demo_password, new_customer
    ):
        customer = new_customer(manager=demo_users["demo_cm1"], name="王五")
        log_in(client, "demo_cm1", demo_password)
        url = f"/customers/{customer.customer_no}/edit/"
        refused = client.post(url, _edit_data(customer, nationality="ISO"))
        assert refused.status_code == 400 and "nationality" in refused.context["form"].errors
        response = client.post(url, _edit_data(customer, nationality="SGP"))
        assert response.status_code == 302
        assert Customer.objects.get(pk=customer.pk).nationality == "SGP"
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            f"Customer 王五 ({customer.customer_no}) updated."
        ]


class TestEducation:
    def test_junior_college_sits_between_secondary_school_and_bachelor(self):
        assert Education.values == ["PRI", "SEC", "JUC", "BAC", "MAS", "DOC"]
        assert Education.JUNIOR_COLLEGE.label == "Junior college"

    @pytest.mark.parametrize("form_class", [CustomerEditForm, CustomerCreateForm])
    def test_the_forms_offer_it_in_that_order(self, org, form_class):
        kwargs = (
            {"branches": Branch.objects.filter(pk=org["11101"].pk)}
            if form_class is CustomerCreateForm
            else {}
        )
        form = form_class(**kwargs)
        codes = [code for code, _ in form.fields["education"].choices]
        assert codes == ["", "PRI", "SEC", "JUC", "BAC", "MAS", "DOC"]

    def test_a_customer_can_be_saved_with_it(self, demo_users, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"])
        customer_update(
            customer=customer, updated_by=demo_users["demo_cm1"], education=Education.JUNIOR_COLLEGE
        )
        customer.refresh_from_db()
        assert customer.get_education_display() == "Junior college"

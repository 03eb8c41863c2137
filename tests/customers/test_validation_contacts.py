"""A contact point is what its type says: an e-mail contact is an e-mail address, a
home or work phone is a phone number (digits, an optional + in front, spaces or
hyphens between groups). The service refuses the rest, so a form, the API and a
script are refused alike; the page shows the reason on the contact form and keeps
what was typed."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from customers.choices import ContactType
from customers.contacts import clean_contact_value
from customers.forms import ContactForm
from customers.models import ContactPoint
from customers.services import contact_add
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

PHONE_MESSAGE = (
    "Enter a phone number of 5 to 20 digits, with an optional + in front and spaces or hyphens "
    "between groups, e.g. 010-6234 5678."
)
EMAIL_MESSAGE = "Enter a valid e-mail address, e.g. name@example.com."
NOT_PHONES = [
    "not-a-phone",
    "<script>",
    "010--6234",
    "6234 5678 ext 9",
    "+",
    "1234",
    "010/62345678",
    "８８８８８",
]
PHONES = ["010-6234 5678", "+86 10 6234-5678", "95588", "02162345678"]


class TestTheRule:
    @pytest.mark.parametrize("kind", [ContactType.HOME, ContactType.WORK])
    @pytest.mark.parametrize("value", NOT_PHONES)
    def test_a_phone_that_is_not_a_number_is_refused(self, kind, value):
        with pytest.raises(ValidationError) as refused:
            clean_contact_value(kind, value)
        assert refused.value.messages == [PHONE_MESSAGE]

    @pytest.mark.parametrize("value", PHONES)
    def test_a_phone_number_is_kept_as_typed(self, value):
        assert clean_contact_value(ContactType.HOME, f"  {value} ") == value

    @pytest.mark.parametrize("value", ["not-an-email", "<script>", "a@b", "name@example"])
    def test_an_email_that_is_not_an_address_is_refused(self, value):
        with pytest.raises(ValidationError) as refused:
            clean_contact_value(ContactType.EMAIL, value)
        assert refused.value.messages == [EMAIL_MESSAGE]

    def test_a_mobile_is_kept_as_its_eleven_digits_and_an_address_as_typed(self):
        assert clean_contact_value(ContactType.MOBILE, "+86 139-1234-5678") == "13912345678"
        assert (
            clean_contact_value(ContactType.ADDRESS, " 北京市海淀区中关村大街1号 ")
            == "北京市海淀区中关村大街1号"
        )
        with pytest.raises(ValidationError):
            clean_contact_value(ContactType.ADDRESS, "   ")


class TestTheForm:
    @pytest.mark.parametrize(
        "kind, value, message",
        [
            ("EMAIL", "not-an-email", EMAIL_MESSAGE),
            ("EMAIL", "<script>", EMAIL_MESSAGE),
            ("HOME", "call me", PHONE_MESSAGE),
            ("WORK", "<script>", PHONE_MESSAGE),
        ],
    )
    def test_it_refuses_a_value_not_of_its_type(self, kind, value, message):
        form = ContactForm({"type": kind, "value": value})
        assert not form.is_valid()
        assert form.errors == {"value": [message]}

    def test_it_accepts_a_phone_and_an_address(self):
        assert ContactForm({"type": "WORK", "value": "+86 10 6234-5678"}).is_valid()
        form = ContactForm({"type": "EMAIL", "value": "wang.xm@example.com"})
        assert form.is_valid() and form.cleaned_data["value"] == "wang.xm@example.com"


class TestTheService:
    @pytest.mark.parametrize(
        "kind, value, message",
        [
            (ContactType.EMAIL, "not-an-email", EMAIL_MESSAGE),
            (ContactType.EMAIL, "<script>", EMAIL_MESSAGE),
            (ContactType.HOME, "not-a-phone", PHONE_MESSAGE),
            (ContactType.WORK, "12", PHONE_MESSAGE),
        ],
    )
    def test_it_refuses_what_the_form_refuses(self, demo_users, new_customer, kind, value, message):
        customer = new_customer(manager=demo_users["demo_cm1"])
        with pytest.raises(ValidationError) as refused:
            contact_add(
                customer=customer, type=kind, value=value, is_primary=False, added_by=demo_users["demo_cm1"]
            )
        assert refused.value.message_dict == {"value": [message]}
        assert not ContactPoint.objects.filter(customer=customer, type=kind).exists()

    def test_it_keeps_a_phone_number(self, demo_users, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"])
        contact = contact_add(
            customer=customer,
            type=ContactType.WORK,
            value=" 010-6234 5678 ",
            is_primary=True,
            added_by=demo_users["demo_cm1"],
        )
        contact.refresh_from_db()
        assert contact.value == "010-6234 5678"


class TestThePage:
    def _post(self, client, customer, kind, value):
        return client.post(f"/customers/{customer.customer_no}/contacts/", {"type": kind, "value": value})

    def test_a_refused_phone_comes_back_on_the_open_form_with_the_reason(
        self, client, demo_users, demo_password, new_customer
    ):
        customer = new_customer(manager=demo_users["demo_cm1"])
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, customer, "HOME", "<script>")
        assert response.status_code == 400
        page = response.content.decode()
        form = re.search(r"<details[^>]*>\s*<summary>Add a contact</summary>.*?</details>", page, re.S)
        assert form is not None and form.group(0).startswith('<details class="small" open>')
        assert 'data-testid="contact-errors">' + PHONE_MESSAGE in form.group(0)
        assert 'value="&lt;script&gt;"' in form.group(0) and "is-invalid" in form.group(0)
        assert '<option value="HOME" selected>' in form.group(0)
        assert [str(m) for m in get_messages(response.wsgi_request)] == []
        assert not ContactPoint.objects.filter(customer=customer, type=ContactType.HOME).exists()

    def test_a_phone_is_added_and_the_message_names_the_customer(
        self, client, demo_users, demo_password, new_customer
    ):
        customer = new_customer(manager=demo_users["demo_cm1"], name="李四")
        log_in(client, "demo_cm1", demo_password)
        response = self._post(client, customer, "WORK", "010-6234 5678")
        assert response.status_code == 302
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            "Work phone *******5678 added to 李四's contacts."
        ]
        page = client.get(f"/customers/{customer.customer_no}/").content.decode()
        assert 'data-testid="contact-errors"' not in page and '<details class="small">' in page

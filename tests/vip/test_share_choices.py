"""Sharing a customer offers only the managers it can be shared with: not the
customer's manager of record, nor a manager it is shared with now (an expired share
does not count). The service refuses them too, and every share action says what it
did to which customer and manager."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import CustomerUserObjectPermission
from tests.customers.conftest import log_in
from vip.forms import ShareForm
from vip.services import customer_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(users, new_customer):
    """A customer of demo_cm1, shared with cm_11201 for three days."""
    customer = new_customer(manager=users["demo_cm1"], name="赵六")
    customer_share(
        customer=customer,
        with_user=users["cm_11201"],
        by=users["demo_cm1"],
        until=timezone.now() + datetime.timedelta(days=3),
        reason="holiday cover",
    )
    return customer


def _offered(form: ShareForm) -> set[str]:
    return {user.username for user in form.fields["with_user"].queryset}


def _share_options(page: str) -> set[str]:
    """The employee numbers the share form's select offers."""
    form = re.search(r'<form[^>]*data-testid="share-form".*?</form>', page, re.S)
    assert form is not None
    select = re.search(r'<select name="with_user".*?</select>', form.group(0), re.S)
    assert select is not None
    return set(re.findall(r'<option value="([^"]+)"', select.group(0)))


class TestTheForm:
    def test_it_leaves_out_the_manager_of_record_and_the_manager_shared_with(self, users, shared):
        offered = _offered(ShareForm(user=users["demo_cm1"], customer=shared))
        assert "demo_cm1" not in offered and "cm_11201" not in offered
        assert {"demo_cm2", "demo_cm3", "cm_11202"} <= offered

    def test_an_expired_share_no_longer_counts(self, users, shared):
        CustomerUserObjectPermission.objects.filter(content_object=shared).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert "cm_11201" in _offered(ShareForm(user=users["demo_cm1"], customer=shared))

    @pytest.mark.parametrize("username", ["demo_cm1", "cm_11201"])
    def test_it_refuses_them_when_posted(self, users, shared, username):
        until = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
        form = ShareForm(
            {"with_user": users[username].employee_no, "until": until, "reason": "cover"},
            user=users["demo_cm1"],
            customer=shared,
        )
        assert not form.is_valid()
        assert form.errors == {
            "with_user": [
                "Choose a client manager of the list: not the customer's manager of record "
                "nor one the customer is shared with now."
            ]
        }


class TestTheService:
    def test_it_refuses_the_manager_of_record(self, users, shared):
        with pytest.raises(ValidationError) as refused:
            customer_share(
                customer=shared,
                with_user=users["demo_cm1"],
                by=users["demo_cm1"],
                until=timezone.now() + datetime.timedelta(days=3),
                reason="myself",
            )
        name = users["demo_cm1"].get_full_name()
        assert refused.value.message_dict == {
            "with_user": [f"{name} is the customer's manager of record already."]
        }
        assert not CustomerUserObjectPermission.objects.filter(user=users["demo_cm1"]).exists()

    def test_it_refuses_a_manager_the_customer_is_shared_with_now(self, users, shared):
        grant = CustomerUserObjectPermission.objects.get(content_object=shared, user=users["cm_11201"])
        with pytest.raises(ValidationError) as refused:
            customer_share(
                customer=shared,
                with_user=users["cm_11201"],
                by=users["demo_cm1"],
                until=timezone.now() + datetime.timedelta(days=10),
                reason="longer cover",
            )
        name = users["cm_11201"].get_full_name()
        assert refused.value.message_dict == {
            "with_user": [f"赵六 is already shared with {name}; end that share before sharing again."]
        }
        # the running share is untouched (not silently extended)
        assert list(CustomerUserObjectPermission.objects.filter(content_object=shared)) == [grant]
        assert CustomerUserObjectPermission.objects.get(pk=grant.pk).expires_at == grant.expires_at

    def test_after_a_share_expires_it_can_be_shared_again(self, users, shared):
        CustomerUserObjectPermission.objects.filter(content_object=shared).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        until = timezone.now() + datetime.timedelta(days=2)
        grant = customer_share(
            customer=shared, with_user=users["cm_11201"], by=users["demo_cm1"], until=until, reason="again"
        )
        assert grant.expires_at == until


class TestThePage:
    def test_the_dropdown_offers_only_other_managers(self, client, users, shared, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/vip/customers/{shared.customer_no}/").content.decode()
        options = _share_options(page)
        assert users["demo_cm1"].employee_no not in options
        assert users["cm_11201"].employee_no not in options
        assert {users["demo_cm2"].employee_no, users["cm_11202"].employee_no} <= options

    def test_sharing_and_ending_say_with_whom(self, client, users, shared, demo_password):
        log_in(client, "demo_cm1", demo_password)
        until = timezone.localdate() + datetime.timedelta(days=5)
        response = client.post(
            f"/vip/customers/{shared.customer_no}/share/",
            {"with_user": users["demo_cm2"].employee_no, "until": until.isoformat(), "reason": "holiday"},
        )
        assert response.status_code == 302
        name = users["demo_cm2"].get_full_name()
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            f"赵六 shared with {name} until {until.isoformat()}."
        ]
        grant = CustomerUserObjectPermission.objects.get(content_object=shared, user=users["demo_cm2"])
        client.get(response["Location"])  # the page shows (and uses up) the message
        response = client.post(
            f"/vip/customers/{shared.customer_no}/shares/{grant.pk}/revoke/", {"note": "back"}
        )
        assert response.status_code == 302
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            f"The share of 赵六 with {name} ended."
        ]
        assert not CustomerUserObjectPermission.objects.filter(pk=grant.pk).exists()

    def test_sharing_again_with_the_same_manager_is_refused_on_the_page(
        self, client, users, shared, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        until = timezone.localdate() + datetime.timedelta(days=5)
        response = client.post(
            f"/vip/customers/{shared.customer_no}/share/",
            {"with_user": users["cm_11201"].employee_no, "until": until.isoformat(), "reason": "again"},
        )
        assert response.status_code == 302
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert messages == [
            "Share with: Choose a client manager of the list: not the customer's manager of record "
            "nor one the customer is shared with now."
        ]
        assert CustomerUserObjectPermission.objects.filter(content_object=shared).count() == 1

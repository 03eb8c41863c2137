"""Service subscriptions (服务签约): recorded with a masked address and a consent date
not in the future, one active per customer and service, cancelled and recorded
again, every change audited; the page and its forms, by role and scope; the 360
view's panel."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from care.choices import ServiceKind, SubscriptionChannel, SubscriptionStatus
from care.models import ServiceSubscription
from care.panels import customer_services, register_panels
from care.services.subscriptions import subscription_add, subscription_cancel
from customers.choices import ContactType
from customers.services import assignment_set_primary
from tests.customers.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_customer(org, demo_users):
    def _make(manager="demo_cm1", branch="11101", email=True, **fields):
        customer = CustomerFactory(home_branch=org[branch], name="李小红", gender="F", **fields)
        ContactPointFactory(
            customer=customer, type=ContactType.MOBILE, value=customer.mobile, is_primary=True
        )
        if email:
            ContactPointFactory(customer=customer, type=ContactType.EMAIL, value="lixiaohong@example.com")
        assignment_set_primary(
            customer=customer,
            manager=demo_users[manager],
            by=None,
            reason="test",
            on=datetime.date(2020, 1, 1),
        )
        customer.refresh_from_db()
        return customer

    return _make


@pytest.fixture
def customer(make_customer):
    return make_customer()


@pytest.fixture
def cm1(demo_users):
    return demo_users["demo_cm1"]


def add(customer, user, service=ServiceKind.SMS_BALANCE_ALERT, channel=SubscriptionChannel.SMS, **options):
    options.setdefault("consent_date", timezone.localdate())
    return subscription_add(customer=customer, service=service, channel=channel, user=user, **options)


class TestRecording:
    def test_a_subscription_is_recorded_masked_and_audited(self, customer, cm1):
        subscription = add(customer, cm1, consent_date=datetime.date(2026, 1, 5))

        assert subscription.status == SubscriptionStatus.ACTIVE
        assert subscription.recorded_by == cm1
        assert subscription.destination_masked == f"{customer.mobile[:3]}****{customer.mobile[-4:]}"
        event = AuditEvent.objects.get(action=Action.SUBSCRIPTION_ADDED)
        assert event.actor == cm1
        assert event.details == {
            "customer": customer.customer_no,
            "service": "sms_balance_alert",
            "channel": "sms",
            "consent_date": "2026-01-05",
        }
        assert customer.mobile not in str(event.details)

    def test_an_e_statement_goes_to_the_masked_e_mail(self, customer, cm1):
        subscription = add(customer, cm1, service=ServiceKind.E_STATEMENT, channel=SubscriptionChannel.EMAIL)
        assert subscription.destination_masked == "l***@example.com"

    def test_the_consent_date_cannot_be_in_the_future(self, customer, cm1):
        with pytest.raises(ValidationError) as error:
            add(customer, cm1, consent_date=timezone.localdate() + datetime.timedelta(days=1))
        assert "consent_date" in error.value.message_dict
        assert not ServiceSubscription.objects.exists()

    def test_one_active_subscription_per_customer_and_service(self, customer, cm1):
        first = add(customer, cm1)
        with pytest.raises(ValidationError) as error:
            add(customer, cm1)
        assert "already has this service" in str(error.value)
        add(
            customer, cm1, service=ServiceKind.PHONE_NOTICE, channel=SubscriptionChannel.PHONE
        )  # another service

        subscription_cancel(subscription=first, user=cm1)
        again = add(customer, cm1)  # after a cancellation it can be recorded again

        assert again.pk != first.pk
        assert ServiceSubscription.objects.filter(customer=customer).count() == 3

    def test_a_service_only_on_its_channels_and_to_an_address_on_file(self, make_customer, cm1):
        customer = make_customer(email=False)
        with pytest.raises(ValidationError) as wrong_channel:
            add(customer, cm1, service=ServiceKind.E_STATEMENT, channel=SubscriptionChannel.SMS)
        assert "channel" in wrong_channel.value.message_dict
        with pytest.raises(ValidationError) as no_email:
            add(customer, cm1, service=ServiceKind.E_STATEMENT, channel=SubscriptionChannel.EMAIL)
        assert "no e-mail address on file" in str(no_email.value)

    def test_outside_the_scope_or_without_the_permission_it_is_refused(self, customer, demo_users):
        with pytest.raises(PermissionDenied):
            add(customer, demo_users["demo_cm2"])  # a colleague's customer
        with pytest.raises(PermissionDenied):
            add(customer, demo_users["demo_audit"])  # reads only
        assert add(customer, demo_users["demo_bh"]).recorded_by == demo_users["demo_bh"]  # the branch head


class TestCancelling:
    def test_cancel_is_audited_once(self, customer, cm1):
        subscription = add(customer, cm1)

        subscription_cancel(subscription=subscription, user=cm1, note="customer asked")
        subscription_cancel(subscription=subscription, user=cm1)

        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.CANCELLED
        assert (subscription.cancelled_by, subscription.note) == (cm1, "customer asked")
        assert AuditEvent.objects.filter(action=Action.SUBSCRIPTION_CANCELLED).count() == 1

    def test_a_colleague_cannot_cancel(self, customer, cm1, demo_users):
        subscription = add(customer, cm1)
        with pytest.raises(PermissionDenied):
            subscription_cancel(subscription=subscription, user=demo_users["demo_cm2"])
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE


class TestPage:
    def url(self, customer):
        return f"/care/customers/{customer.customer_no}/services/"

    def test_the_page_lists_labels_and_records_a_subscription(
        self, login, demo_users, demo_password, customer, cm1, django_assert_max_num_queries
    ):
        add(customer, cm1, service=ServiceKind.PHONE_NOTICE, channel=SubscriptionChannel.PHONE)
        client = login(cm1, demo_password)
        with django_assert_max_num_queries(12):
            page = client.get(self.url(customer))
        text = page.content.decode()
        assert page.status_code == 200
        assert "Phone notice" in text and ">phone_notice<" not in text
        assert 'data-testid="subscription-form"' in text
        assert customer.mobile not in text and "李小红" not in text

        response = client.post(
            self.url(customer),
            {"service": "e_statement", "channel": "email", "consent_date": timezone.localdate().isoformat()},
        )

        assert response.status_code == 302
        assert ServiceSubscription.objects.filter(customer=customer, service="e_statement").exists()

    def test_bad_input_is_answered_with_the_reason(self, login, demo_password, customer, cm1):
        client = login(cm1, demo_password)
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

        future = client.post(
            self.url(customer), {"service": "e_statement", "channel": "email", "consent_date": tomorrow}
        )
        wrong = client.post(
            self.url(customer), {"service": "e_statement", "channel": "sms", "consent_date": "2026-01-01"}
        )

        assert future.status_code == 400
        assert "The consent date cannot be in the future." in future.content.decode()
        assert wrong.status_code == 400
        assert "This service is not offered on that channel." in wrong.content.decode()
        assert not ServiceSubscription.objects.exists()

    def test_cancel_from_the_page(self, login, demo_password, customer, cm1):
        subscription = add(customer, cm1)
        client = login(cm1, demo_password)

        response = client.post(f"/care/services/{subscription.pk}/cancel/", {"note": "moved abroad"})

        assert response.status_code == 302
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.CANCELLED

    def test_roles_and_scope(self, login, demo_users, demo_password, customer, cm1):
        subscription = add(customer, cm1)
        auditor = login(demo_users["demo_audit"], demo_password)
        page = auditor.get(self.url(customer))
        assert page.status_code == 200 and 'data-testid="subscription-form"' not in page.content.decode()
        assert auditor.post(self.url(customer), {"service": "e_statement"}).status_code == 403
        assert auditor.post(f"/care/services/{subscription.pk}/cancel/").status_code == 403

        auditor.logout()
        colleague = login(demo_users["demo_cm2"], demo_password)
        assert colleague.get(self.url(customer)).status_code == 404
        assert colleague.post(f"/care/services/{subscription.pk}/cancel/").status_code == 404
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE


class TestPanel:
    def test_the_360_panel_lists_active_subscriptions_masked(self, customer, cm1, demo_users):
        add(customer, cm1)
        cancelled = add(customer, cm1, service=ServiceKind.PHONE_NOTICE, channel=SubscriptionChannel.PHONE)
        subscription_cancel(subscription=cancelled, user=cm1)

        items = customer_services(customer, cm1)

        masked = f"{customer.mobile[:3]}****{customer.mobile[-4:]}"
        assert [item.text for item in items] == [
            f"SMS balance alerts · SMS {masked}",
            "Record or cancel a subscription",
        ]
        assert {item.url for item in items} == {f"/care/customers/{customer.customer_no}/services/"}
        # the auditor reads them, with no way to the forms
        assert [item.text for item in customer_services(customer, demo_users["demo_audit"])] == [
            f"SMS balance alerts · SMS {masked}"
        ]
        assert customer_services(customer, demo_users["demo_pm"]) == []  # may not see subscriptions

    def test_the_360_view_shows_them_and_leads_to_the_forms(self, login, demo_password, customer, cm1):
        register_panels()  # (CareConfig.ready() does it in the portal)
        add(customer, cm1)

        text = login(cm1, demo_password).get(f"/customers/{customer.customer_no}/").content.decode()

        assert 'data-testid="services"' in text
        assert "SMS balance alerts" in text
        assert f'href="/care/customers/{customer.customer_no}/services/"' in text
        assert customer.mobile not in text

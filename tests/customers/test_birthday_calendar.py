"""A customer may keep their birthday by the lunar calendar: the manager records it
on the edit page (audited like any edit), the 360 view says so, and the birthday
alert follows it (tests/care/test_rules.py)."""

import pytest

from accounts.audit import Action
from accounts.models import AuditEvent
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db


def test_the_manager_records_a_lunar_birthday(client, demo_users, demo_password, new_customer):
    customer = new_customer(manager=demo_users["demo_cm1"])
    log_in(client, "demo_cm1", demo_password)
    form = client.get(f"/customers/{customer.customer_no}/edit/").context["form"]
    assert form.initial["birthday_calendar"] == "solar"
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data["birthday_calendar"] = "lunar"
    assert client.post(f"/customers/{customer.customer_no}/edit/", data).status_code == 302
    customer.refresh_from_db()
    assert customer.birthday_calendar == "lunar"
    event = AuditEvent.objects.filter(action=Action.CUSTOMER_UPDATED).latest("id")
    assert "birthday_calendar" in event.details["fields"]
    page = client.get(f"/customers/{customer.customer_no}/").content.decode()
    assert 'data-testid="lunar-birthday"' in page

    data["birthday_calendar"] = "chinese"  # not a calendar: refused, nothing changes
    assert client.post(f"/customers/{customer.customer_no}/edit/", data).status_code == 400
    customer.refresh_from_db()
    assert customer.birthday_calendar == "lunar"

"""Each action on a customer's manager answers with what it did, naming the customer
and the manager, never a bare "done"."""

import pytest
from django.contrib.messages import get_messages

from customers.models import Customer
from tests.customers.conftest import log_in
from vip.models import TransferRequest

pytestmark = pytest.mark.django_db


def _post(client, url: str, data: dict) -> list[str]:
    response = client.post(url, data)
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_assign_recall_and_a_transfer_name_the_customer_and_the_manager(
    client, users, new_customer, demo_password
):
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    pooled = new_customer(branch="11101", name="钱七")
    log_in(client, "demo_bh", demo_password)
    url = f"/vip/customers/{pooled.customer_no}"
    assert _post(client, f"{url}/assign/", {"manager": cm1.employee_no, "reason": "新开户分配"}) == [
        f"钱七 assigned to {cm1.get_full_name()}."
    ]
    assert Customer.objects.get(pk=pooled.pk).primary_manager == cm1
    client.get(f"{url}/")
    assert _post(client, f"{url}/recall/", {"reason": "客户本人要求"}) == [
        "钱七 recalled to the branch pool."
    ]
    assert Customer.objects.get(pk=pooled.pk).primary_manager is None

    mine = new_customer(manager=cm1, name="孙八")
    client.logout()
    log_in(client, "demo_cm1", demo_password)
    assert _post(
        client,
        f"/vip/customers/{mine.customer_no}/transfer/",
        {"manager": cm2.employee_no, "reason": "客户搬家了"},
    ) == [
        f"Transfer of 孙八 to {cm2.get_full_name()} requested; waiting for a branch head or business "
        "manager to approve it."
    ]
    transfer = TransferRequest.objects.get(customer=mine)
    client.logout()
    log_in(client, "demo_bh", demo_password)
    assert _post(client, f"/vip/transfers/{transfer.pk}/approve/", {"note": "同意"}) == [
        f"Transfer approved: {cm2.get_full_name()} looks after 孙八 from today."
    ]
    assert Customer.objects.get(pk=mine.pk).primary_manager == cm2

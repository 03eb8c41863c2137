"""An assisting manager (split credit) counts a share of a customer's figures, so
they see the customer while the split runs: from its first day to its last, not
before, not after."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as a new request sees them (the scope is read once per request)."""
    return type(user).objects.get(pk=user.pk)


def test_the_assisting_manager_sees_the_customer_while_the_split_runs(org, make_user, client, login):
    of_record = make_user("client_manager", "11101")
    assisting = make_user("client_manager", "11102")
    customer = CustomerFactory(home_branch=org["11101"], primary_manager=of_record)
    today = timezone.localdate()
    split = CustomerAssignment.objects.create(
        customer=customer,
        manager=assisting,
        role=AssignmentRole.SECONDARY,
        credit_share=Decimal("30"),
        start_date=today + datetime.timedelta(days=1),
    )
    assert not Customer.objects.visible_to(_fresh(assisting)).filter(pk=customer.pk).exists()  # not yet

    split.start_date = today
    split.save()
    assert Customer.objects.visible_to(_fresh(assisting)).filter(pk=customer.pk).exists()
    page = login(assisting).get(f"/customers/{customer.customer_no}/")
    assert page.status_code == 200

    split.end_date = today - datetime.timedelta(days=1)
    split.start_date = today - datetime.timedelta(days=10)
    split.save()
    assert not Customer.objects.visible_to(_fresh(assisting)).filter(pk=customer.pk).exists()  # ended
    # a colleague with no split sees nothing of it
    colleague = make_user("client_manager", "11102")
    assert not Customer.objects.visible_to(colleague).filter(pk=customer.pk).exists()

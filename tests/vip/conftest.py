import datetime
from decimal import Decimal

import pytest

from customers.models import CustomerMonthlyAum
from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)
from vip.evaluation import month_back

# The business date the evaluation tests run on; its month is the reference month.
AS_OF = datetime.date(2026, 6, 15)
JUNE = AS_OF.replace(day=1)


@pytest.fixture
def months():
    """Write month-average AUM for a customer: months(customer, [newest, older, ...])
    in CNY, the first value for the reference month (June 2026) and back."""

    def _write(customer, values, *, reference=JUNE):
        rows = [
            CustomerMonthlyAum(
                customer=customer,
                month=month_back(reference, k),
                avg_aum=Decimal(str(v)),
                end_aum=Decimal(str(v)),
                avg_liabilities=Decimal("0"),
                days=30,
            )
            for k, v in enumerate(values)
            if v is not None
        ]
        CustomerMonthlyAum.objects.bulk_create(rows)
        return customer

    return _write


@pytest.fixture
def users(demo_users):
    return demo_users


@pytest.fixture(autouse=True)
def _default_levels(request):
    """The default levels and policy the data migration makes: a transactional test
    (here or elsewhere) flushes them with everything else."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from importlib import import_module

    from django.apps import apps

    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)

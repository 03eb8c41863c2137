import datetime
from decimal import Decimal

import pytest

from customers.choices import AccountCategory, ContactType
from customers.idnumbers import make_resident_id
from customers.models import Account, AccountBalance, ContactPoint, Customer
from customers.numbers import format_customer_number
from customers.services import assignment_set_primary

_seq = {"n": 0}


@pytest.fixture
def new_customer(org):
    """A customer at a branch, optionally looked after by a manager, built directly
    (the service path has its own tests)."""

    def _make(
        *,
        branch: str = "11101",
        manager=None,
        name: str = "张三丰",
        mobile: str | None = None,
        aum: str = "0",
        **fields,
    ) -> Customer:
        _seq["n"] += 1
        n = _seq["n"]
        customer = Customer.objects.create(
            customer_no=fields.pop("customer_no", format_customer_number(500000 + n)),
            name=name,
            id_type="01",
            id_number=fields.pop(
                "id_number",
                make_resident_id(
                    region_code="110108",
                    birth_date=datetime.date(1980, 1, 1) + datetime.timedelta(days=n),
                    sequence=n % 1000,
                ),
            ),
            home_branch=org[branch],
            mobile=mobile if mobile is not None else f"139{n:08d}",
            aum=Decimal(aum),
            **fields,
        )
        if customer.mobile:
            ContactPoint.objects.create(
                customer=customer, type=ContactType.MOBILE, value=customer.mobile, is_primary=True
            )
        if manager is not None:
            assignment_set_primary(customer=customer, manager=manager, by=None, reason="test")
            customer.refresh_from_db()
        return customer

    return _make


@pytest.fixture
def add_account(org):
    def _add(
        customer: Customer,
        *,
        category: str = AccountCategory.DEP_CUR,
        cny_balance: str = "1000.00",
        account_no: str | None = None,
        business_date: datetime.date | None = None,
        **fields,
    ) -> Account:
        _seq["n"] += 1
        account = Account.objects.create(
            account_no=account_no or f"62220200{_seq['n']:011d}",
            customer=customer,
            category=category,
            branch=customer.home_branch,
            balance=Decimal(cny_balance),
            cny_balance=Decimal(cny_balance),
            **fields,
        )
        if business_date:
            AccountBalance.objects.create(
                business_date=business_date,
                account=account,
                balance=Decimal(cny_balance),
                cny_balance=Decimal(cny_balance),
            )
        return account

    return _add


def log_in(client, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


def search_settings_statements() -> int:
    """Statements a search page adds on PostgreSQL: its planner settings set and
    reset (customers.search.MATCH_SETTINGS through core.db.read_with)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    return 2

"""factory_boy factories for the customer models, shared by every test module.

Nothing here invents an org tree or users: a customer needs `home_branch` (a Branch,
e.g. from the `org` fixture) and an assignment needs `manager` (e.g. from
`demo_users`). Child factories create their customer through `CustomerFactory`, so
`AccountFactory(customer__home_branch=org["11101"])` works as well as passing
`customer=` directly.

Generated values are valid and unique per test run: resident ID numbers with a
correct check character (the ID's birth date and gender agree with `birth_date`
and `gender`), customer numbers by the bank-wide rule (in a range far above the
portal's own counter, so they never collide with `customers.numbers`), mobiles and
account numbers of the right shape.

The manager of record is not set by `CustomerFactory` nor mirrored by
`CustomerAssignmentFactory` (which writes one assignment row as given); use
`customers.services.assignment_set_primary` for that, as the application does.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.choices import (
    AccountCategory,
    AccountStatus,
    AssetKind,
    AssignmentRole,
    ContactType,
    CustomerStatus,
    IdType,
    InteractionKind,
)
from customers.idnumbers import derive_birth_date_and_gender, make_resident_id
from customers.models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    Household,
    Interaction,
    OtherAsset,
)
from customers.numbers import format_customer_number

# Factory customer numbers start here (10-digit sequence): far from the numbers
# `customers.numbers.next_customer_number()` hands out in the same test.
CUSTOMER_NO_BASE = 8_000_000_000
BIRTH_DATE_BASE = datetime.date(1940, 1, 1)
REGION_CODE = "110108"  # Beijing, Haidian


def _required(name: str):
    def fail():
        raise TypeError(f"{name} is required: pass {name}=... to the factory")

    return factory.LazyFunction(fail)


def _birth_date(n: int) -> datetime.date:
    # Spread over ~55 years; together with the ID sequence n % 1000 every n gives a
    # different (birth date, sequence) pair, hence a different ID number.
    return BIRTH_DATE_BASE + datetime.timedelta(days=20 * (n % 1000) + n // 1000)


def _id_number(customer, n: int) -> str:
    if customer.id_type != IdType.RESIDENT_ID:
        return f"E{CUSTOMER_NO_BASE + n}"
    return make_resident_id(region_code=REGION_CODE, birth_date=customer.birth_date, sequence=n % 1000)


def _contact_value(contact, n: int) -> str:
    return {
        ContactType.MOBILE: f"138{n:08d}",
        ContactType.HOME: f"010-{n % 100_000_000:08d}",
        ContactType.WORK: f"021-{n % 100_000_000:08d}",
        ContactType.EMAIL: f"customer{n}@example.com",
        ContactType.ADDRESS: f"北京市海淀区中关村大街{n}号",
    }.get(contact.type, f"contact-{n}")


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    name = factory.Sequence(lambda n: f"家庭{n}")


class CustomerFactory(DjangoModelFactory):
    """A personal customer with a valid resident ID. Pass `home_branch`."""

    class Meta:
        model = Customer

    customer_no = factory.Sequence(lambda n: format_customer_number(CUSTOMER_NO_BASE + n))
    name = factory.Faker("name", locale="zh_CN")
    id_type = IdType.RESIDENT_ID
    birth_date = factory.Sequence(_birth_date)
    id_number = factory.LazyAttributeSequence(_id_number)
    gender = factory.LazyAttribute(lambda o: derive_birth_date_and_gender(o.id_type, o.id_number)[1] or "")
    home_branch = _required("home_branch")
    mobile = factory.Sequence(lambda n: f"139{n % 100_000_000:08d}")
    status = CustomerStatus.ACTIVE
    open_date = datetime.date(2015, 3, 1)


class ContactPointFactory(DjangoModelFactory):
    """A contact of `type` (default MOBILE) with a value of the right shape."""

    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    type = ContactType.MOBILE
    value = factory.LazyAttributeSequence(_contact_value)
    is_primary = False


class AccountFactory(DjangoModelFactory):
    """An open current-deposit account in CNY at the customer's home branch."""

    class Meta:
        model = Account

    account_no = factory.Sequence(lambda n: f"6222{n:015d}")
    customer = factory.SubFactory(CustomerFactory)
    product_code = "P0001"
    category = AccountCategory.DEP_CUR
    currency = "CNY"
    open_date = datetime.date(2016, 5, 1)
    status = AccountStatus.OPEN
    branch = factory.LazyAttribute(lambda o: o.customer.home_branch)
    balance = Decimal("10000.00")
    cny_balance = factory.LazyAttribute(lambda o: o.balance)


class InteractionFactory(DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = InteractionKind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Sequence(lambda n: f"Follow-up call {n}")
    manager = None


class OtherAssetFactory(DjangoModelFactory):
    class Meta:
        model = OtherAsset

    customer = factory.SubFactory(CustomerFactory)
    kind = AssetKind.PROPERTY
    description = factory.Sequence(lambda n: f"Apartment {n}")
    estimated_value = Decimal("3000000.00")
    valued_on = datetime.date(2024, 1, 1)


class CustomerAssignmentFactory(DjangoModelFactory):
    """One assignment row as given (pass `manager`); does not touch
    `Customer.primary_manager` — see the module docstring."""

    class Meta:
        model = CustomerAssignment

    customer = factory.SubFactory(CustomerFactory)
    manager = _required("manager")
    role = AssignmentRole.PRIMARY
    start_date = factory.LazyFunction(timezone.localdate)
    end_date = None
    reason = "test"

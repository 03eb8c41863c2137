"""The customer fixtures the credit tests build on (tests/customers/conftest.py)."""

from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)

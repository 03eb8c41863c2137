"""Fixtures of the alert-rule tests (no tests here): a customer of demo_cm1 with
nothing that raises an alert, and tests.customers' add_account under its own name."""

from __future__ import annotations

import datetime

import pytest


@pytest.fixture(name="customer")
def customer_fixture(new_customer, demo_users):
    """A customer of demo_cm1 (outlet 11101, under demo_bh's sub-branch) with nothing
    that raises an alert: born in July, no risk assessment, no accounts."""

    def _make(**fields):
        fields.setdefault("birth_date", datetime.date(1980, 7, 1))
        manager = fields.pop("manager", demo_users["demo_cm1"])
        return new_customer(manager=manager, **fields)

    return _make


@pytest.fixture(name="account")
def account_fixture(add_account):
    """tests.customers' add_account, under a name of its own."""
    return add_account

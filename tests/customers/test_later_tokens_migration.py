"""Migration 0009 gives existing customers the tokens of their later characters
(one set-based UPDATE on PostgreSQL, the model's own rule elsewhere), so that a
one-character search finds names written before it; on PostgreSQL it can be
undone."""

import contextlib
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from customers.models import Customer
from customers.search import customer_search
from customers.search_text import LATER, name_search

pytestmark = pytest.mark.django_db
migration = importlib.import_module("customers.migrations.0009_later_characters")


def tokens(customer) -> set[str]:
    return set(Customer.objects.get(pk=customer.pk).search_tokens.split())


def tokens_before(name: str) -> set[str]:
    return {t for t in name_search(name).tokens.split() if not t.startswith(LATER)}


def as_before_the_migration(customers) -> None:
    for customer in customers:
        Customer.objects.filter(pk=customer.pk).update(search_tokens=" ".join(tokens_before(customer.name)))


@contextlib.contextmanager
def schema_editor():
    """The migration's editor: SQLite's cannot open inside the test's transaction,
    and the step reads nothing of it there but the connection."""
    if connection.vendor != "postgresql":
        yield SimpleNamespace(connection=connection)
        return
    with connection.schema_editor() as editor:
        yield editor


@pytest.fixture
def written_before(demo_users, new_customer):
    made = [
        new_customer(manager=demo_users["demo_cm1"], name=name)
        for name in ("王小李", "李雷", "Anna李", "Tom Li")
    ]
    as_before_the_migration(made)
    return made


def test_existing_customers_get_their_later_characters(written_before, demo_users):
    user = demo_users["demo_cm1"]
    assert {c.name for c in customer_search(user=user, q="李")} == {"李雷"}  # the surname only
    with schema_editor() as editor:
        migration.add_later_tokens(apps, editor)
    for customer in written_before:
        assert tokens(customer) == set(name_search(customer.name).tokens.split()), customer.name
    assert {c.name for c in customer_search(user=user, q="李")} == {"王小李", "李雷", "Anna李"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="undone on PostgreSQL only")
def test_it_can_be_undone(written_before):
    with schema_editor() as editor:
        migration.add_later_tokens(apps, editor)
        migration.drop_later_tokens(apps, editor)
    for customer in written_before:
        assert tokens(customer) == tokens_before(customer.name), customer.name

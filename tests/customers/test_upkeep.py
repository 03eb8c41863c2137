"""After the night's writes the customer table is vacuumed, so that a broad search
walks the AUM-ordered index without visiting the table (index-only)."""

import pytest
from django.db import connection, transaction

from crm_portal.tasks import POST_LOAD_STEPS, customer_upkeep
from customers.models import Customer
from customers.upkeep import customer_table_upkeep

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM is PostgreSQL's")


def _heap_fetches() -> int:
    """Table visits of an index-only walk of the AUM-ordered index."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM customers_customer"
            " WHERE aum >= 0 ORDER BY aum DESC, id DESC"
        )
        plan = cursor.fetchone()[0][0]["Plan"]
    while plan.get("Node Type") != "Index Only Scan":
        plan = plan["Plans"][0]
    return plan["Heap Fetches"]


@pytest.mark.django_db(transaction=True)
def test_the_walk_skips_the_table_again_once_the_nights_writes_are_vacuumed(new_customer):
    for i in range(5):
        new_customer(name=f"冯{i}", aum=str(1000 * i))
    assert customer_table_upkeep() == "vacuum"
    assert _heap_fetches() == 0
    Customer.objects.update(aum=123)  # the night rewrites the rows
    assert _heap_fetches() > 0
    customer_upkeep([])
    assert _heap_fetches() == 0


@pytest.mark.django_db
def test_inside_a_transaction_it_analyses_only():
    assert customer_table_upkeep() == "analyze"


def test_it_is_the_last_post_load_step():
    assert POST_LOAD_STEPS[-1] == ("customer_upkeep", customer_upkeep)

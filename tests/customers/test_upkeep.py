"""After the night's writes the customer table is vacuumed (the post-load step
customer_vacuum, once the steps that write customers have run), so that a broad
search walks the AUM-ordered index without visiting the table (index-only); the
last step vacuums every other table the night rewrote in bulk (customer_upkeep)."""

import pytest
from django.db import connection, transaction

from crm_portal.tasks import AFTER, POST_LOAD_STEPS, customer_upkeep, customer_vacuum
from customers.models import Customer
from customers.upkeep import customer_table_upkeep, rewritten_tables_upkeep

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
    customer_vacuum([])
    assert _heap_fetches() == 0


@pytest.mark.django_db
def test_inside_a_transaction_it_analyses_only():
    assert customer_table_upkeep() == "analyze"
    assert rewritten_tables_upkeep() == []  # VACUUM cannot run there


def test_the_customer_table_after_what_writes_it_and_the_rest_last():
    assert POST_LOAD_STEPS[-1] == ("customer_upkeep", customer_upkeep)
    assert ("customer_vacuum", customer_vacuum) in POST_LOAD_STEPS
    # the load (before every step), the AUM step and the tiers write customer rows
    assert {"aum", "vip_tiers"} <= set(AFTER["customer_vacuum"])


def _table_stats(table: str, *columns: str) -> tuple:
    """The table's statistics, this connection's own writes flushed first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(f"SELECT {', '.join(columns)} FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()


def _rewrites(table: str, write) -> tuple[int, int]:
    """The rows of `table` that `write()` updated, and how many of them heap-only."""
    before = _table_stats(table, "n_tup_upd", "n_tup_hot_upd")
    write()
    after = _table_stats(table, "n_tup_upd", "n_tup_hot_upd")
    return after[0] - before[0], after[1] - before[1]


def _vacuums(table: str) -> int:
    return _table_stats(table, "vacuum_count")[0]


@pytest.mark.django_db(transaction=True)
def test_every_table_the_night_rewrote_in_bulk_is_vacuumed_too(new_customer):
    """The accounts' latest balances rewritten for every account (as the AUM step
    does) leave as many dead rows as accounts: the upkeep vacuums that table too,
    not a table the night hardly touched."""
    from customers.models import Account

    customer = new_customer(name="卫一")
    Account.objects.bulk_create(
        Account(
            account_no=f"6222999{i:012d}", customer=customer, category="DEP_CUR", branch=customer.home_branch
        )
        for i in range(2500)
    )
    customer_table_upkeep()  # a clean start: nothing dead anywhere
    accounts, customers = _vacuums("customers_account"), _vacuums("customers_customer")
    Account.objects.update(balance=1)
    Account.objects.update(balance=2)  # 5,000 dead rows: past the tenth of 2,500 and the 1,000
    Customer.objects.filter(pk=customer.pk).update(aum=5)  # one: below the threshold
    from customers.upkeep import rewritten_tables

    with connection.cursor() as cursor:
        found = rewritten_tables(cursor)
    assert "customers_account" in found and "customers_customer" not in found
    customer_upkeep([])
    assert _vacuums("customers_account") == accounts + 1
    assert _vacuums("customers_customer") == customers  # one dead row: its own step vacuums it
    with connection.cursor() as cursor:
        assert "customers_account" not in rewritten_tables(cursor)
    customer_vacuum([])
    assert _vacuums("customers_customer") == customers + 1


@pytest.mark.django_db(transaction=True)
def test_a_nights_balances_rewrite_the_accounts_without_touching_their_indexes(new_customer):
    """Every account's latest balance rewritten (a night): each new row stays on its
    page (a heap-only update, no index entry written). The nights after find the
    room again once the old rows are pruned or vacuumed (the upkeep)."""
    from customers.models import Account

    customer = new_customer(name="卫二")
    Account.objects.bulk_create(
        Account(
            account_no=f"6222888{i:012d}", customer=customer, category="DEP_CUR", branch=customer.home_branch
        )
        for i in range(3000)
    )

    done, heap_only = _rewrites(
        "customers_account", lambda: Account.objects.update(balance="12345.67", cny_balance="12345.67")
    )
    # nearly all (a row that grew may not fit; without the room: none at all)
    assert done == 3000 and heap_only >= 2700


@pytest.mark.django_db(transaction=True)
def test_a_night_that_moves_only_unindexed_figures_rewrites_customers_without_touching_their_indexes(
    new_customer,
):
    """Most customers' AUM stays the same on a given night, but their figures' date
    and month average are written again: with room on the page those rows are
    heap-only updates, none of the customer table's indexes written."""
    first = new_customer(name="卫三")
    Customer.objects.bulk_create(
        Customer(customer_no=f"C9{i:08d}", name=f"卫{i}", home_branch=first.home_branch) for i in range(2000)
    )
    Customer.objects.update(aum="1000.00")  # the night before (rows the table has room for again)
    customer_upkeep([])

    done, heap_only = _rewrites(
        "customers_customer",
        lambda: Customer.objects.update(aum_date="2026-03-03", month_avg_aum="987.65", liabilities="12.00"),
    )
    assert done == 2001 and heap_only >= 1800
    # the AUM itself is an indexed column: its rows get new index entries
    done, heap_only = _rewrites("customers_customer", lambda: Customer.objects.update(aum="2000.00"))
    assert done == 2001 and heap_only == 0

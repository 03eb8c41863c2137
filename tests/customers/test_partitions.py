"""The daily history (balances, daily AUM, transaction summaries) range-partitioned
by month on PostgreSQL (migration 0021, customers/partitions.py): the partitioned
tables keep the names Django expects, a month without its partition goes to the
default partition and moves into the month's partition when it is made, old months
are dropped whole, a date's query reads one partition, upserts still work, the load
and the nightly steps make the partitions, the command lists them. On SQLite the
tables stay plain and the functions do nothing."""

from __future__ import annotations

import datetime
import io
import json
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import AuditEvent
from crm_portal import tasks as portal_tasks
from customers.models import AccountBalance, CustomerDailyAum, CustomerMonthlyAum, TransactionSummary
from customers.partitions import (
    HISTORY_TABLES,
    PartitionAction,
    add_months,
    default_name,
    ensure_months,
    ensure_partitions,
    month_start,
    partition_name,
    partitions_report,
    retire_partitions,
)
from tests.customers.ingest_helpers import batch, load

pytestmark = pytest.mark.django_db

ON_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="declarative partitioning is PostgreSQL's; on SQLite the history tables stay plain",
)

MODELS = (AccountBalance, CustomerDailyAum, TransactionSummary)
AUM = "customers_customerdailyaum"
FAR = datetime.date(2031, 5, 12)  # a month no partition was made for


def _aum(day: datetime.date, customers: range, amount: str = "100.00") -> None:
    CustomerDailyAum.objects.bulk_create(
        CustomerDailyAum(business_date=day, customer_id=c, aum=Decimal(amount), liabilities=0)
        for c in customers
    )


def _balances(day: datetime.date, accounts: range) -> None:
    AccountBalance.objects.bulk_create(
        AccountBalance(business_date=day, account_id=a, balance=1, cny_balance=1) for a in accounts
    )


def _transactions(day: datetime.date, customers: range) -> None:
    TransactionSummary.objects.bulk_create(
        TransactionSummary(business_date=day, customer_id=c, channel="MOB", txn_count=1, txn_amount=5)
        for c in customers
    )


def _count(relation: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(relation)}")
        return cursor.fetchone()[0]


def _exists(relation: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [relation])
        return cursor.fetchone()[0]


def _partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)",
            [table],
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "r"


def _expected_indexes(model) -> dict[str, list[str]]:
    """The primary key and the indexes Django made for the model: name -> columns."""
    table = model._meta.db_table
    expected = {f"{table}_pkey": [model._meta.get_field(f).column for f in model._meta.pk.field_names]}
    for index in model._meta.indexes:
        expected[index.name] = [model._meta.get_field(f).column for f in index.fields]
    with connection.schema_editor() as editor:
        for field in model._meta.local_fields:
            if field.db_index and not field.primary_key and field.remote_field is not None:
                expected[editor._create_index_name(table, [field.column])] = [field.column]
    return expected


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
@ON_POSTGRES
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_history_tables_are_partitioned_by_month_with_the_names_django_expects(model):
    table = model._meta.db_table
    assert table in HISTORY_TABLES
    assert _partitioned(table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_partitioned_table p"
            " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
            " WHERE p.partrelid = %s::regclass",
            [table],
        )
        assert cursor.fetchone() == ("business_date",)
        constraints = connection.introspection.get_constraints(cursor, table)
    held = {
        name: info["columns"] for name, info in constraints.items() if info["index"] or info["primary_key"]
    }
    assert held == _expected_indexes(model)
    assert constraints[f"{table}_pkey"]["primary_key"]
    names = {p.name: p for p in partitions_report() if p.table == table}
    assert names[default_name(table)].is_default
    this_month = month_start(timezone.localdate())
    for month in (this_month, add_months(this_month, 1)):
        partition = names[partition_name(table, month)]
        assert (partition.start, partition.end) == (month, add_months(month, 1))


@pytest.mark.postgres
@ON_POSTGRES
def test_rows_of_a_month_without_partition_wait_in_the_default_and_move_when_it_is_made(
    django_assert_num_queries,
):
    days = [FAR, FAR + datetime.timedelta(days=1), FAR + datetime.timedelta(days=2)]
    for n, day in enumerate(days):
        _aum(day, range(1, 11), amount=f"{n + 1}00.50")
        _balances(day, range(1, 21))
    _transactions(FAR, range(1, 6))
    total = sum(CustomerDailyAum.objects.values_list("aum", flat=True))
    assert _count(default_name(AUM)) == 30
    assert _count(default_name("customers_accountbalance")) == 60

    made = ensure_partitions(FAR)

    month, after = month_start(FAR), add_months(month_start(FAR), 1)
    assert made == [partition_name(t, m) for t in HISTORY_TABLES for m in (month, after)]
    for table, rows in (("customers_accountbalance", 60), (AUM, 30), ("customers_transactionsummary", 5)):
        assert _count(default_name(table)) == 0
        assert _count(partition_name(table, month)) == rows
        assert _count(partition_name(table, after)) == 0
    # nothing lost, nothing changed, read through the partitioned table
    assert CustomerDailyAum.objects.count() == 30
    assert sum(CustomerDailyAum.objects.values_list("aum", flat=True)) == total
    assert AccountBalance.objects.filter(business_date__gte=FAR).count() == 60
    # the moved partition carries the table's keys: a second row of a key is refused
    with (
        pytest.raises(IntegrityError, match="duplicate key"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO {AUM} (business_date, customer_id, aum, liabilities) VALUES (%s, 1, 1, 1)",
            [FAR],
        )
    # made already: one statement, nothing made
    with django_assert_num_queries(1):
        assert ensure_partitions(FAR) == []


@pytest.mark.postgres
@ON_POSTGRES
def test_a_missing_month_between_the_default_rows_and_the_date_is_made_too():
    _aum(FAR, range(1, 4))
    later = add_months(FAR, 2)
    made = ensure_partitions(later)
    assert [name for name in made if name.startswith(AUM + "_p")] == [
        partition_name(AUM, add_months(month_start(FAR), k)) for k in range(4)
    ]
    assert _count(partition_name(AUM, month_start(FAR))) == 3


@pytest.mark.postgres
@ON_POSTGRES
def test_months_asked_for_are_made_for_one_table_only_where_none_holds_them():
    far = month_start(FAR)
    _aum(FAR, range(1, 4))  # waiting in the default partition
    before, gap = add_months(far, -3), add_months(far, -1)
    made = ensure_months(AUM, [FAR, before + datetime.timedelta(days=20), before])
    # one partition a month, oldest first, any day of the month naming it
    assert made == [partition_name(AUM, before), partition_name(AUM, far)]
    assert _count(partition_name(AUM, far)) == 3 and _count(default_name(AUM)) == 0
    assert not _exists(partition_name(AUM, gap))  # a month not asked for
    assert not _exists(partition_name("customers_transactionsummary", far))  # another table
    assert ensure_months(AUM, [before, FAR]) == []  # made already
    with pytest.raises(ValueError, match="not a daily history table"):
        ensure_months("customers_customer", [FAR])


@pytest.mark.postgres
@ON_POSTGRES
def test_retiring_drops_the_old_months_and_old_default_rows_and_keeps_the_rest(caplog):
    today = datetime.date(2030, 12, 6)
    old, kept = datetime.date(2030, 8, 14), datetime.date(2030, 10, 20)
    for day in (old, old + datetime.timedelta(days=30), kept, today):
        _aum(day, range(1, 6))
        _balances(day, range(1, 9))
    ensure_partitions(today)  # 2030-08 to 2031-01
    ancient = datetime.date(2020, 1, 3)
    _aum(ancient, range(1, 3))  # no partition: the default partition's
    months = [datetime.date(2030, 8, 1), datetime.date(2020, 1, 1), datetime.date(2030, 10, 1)]
    CustomerMonthlyAum.objects.bulk_create(
        CustomerMonthlyAum(customer_id=1, month=m, avg_aum=1, end_aum=1, avg_liabilities=0) for m in months
    )

    cutoff = datetime.date(2030, 10, 1)
    older = {p.name for p in partitions_report() if p.end is not None and p.end <= cutoff}
    dropped = [
        partition_name(t, m)
        for t in ("customers_accountbalance", AUM)
        for m in (datetime.date(2030, 8, 1), datetime.date(2030, 9, 1))
    ]
    assert set(dropped) <= older

    with caplog.at_level(logging.INFO, logger="customers.partitions"):
        retired = retire_partitions(today, keep_months=3)  # 2030-10, 11, 12 kept

    # every partition entirely before the cutoff (those the migration made for the
    # current month too), and the default partition that held older rows
    assert set(retired) == {*older, default_name(AUM)}
    assert {p.name for p in partitions_report() if p.end is not None and p.end <= cutoff} == set()
    assert not any(_exists(name) for name in dropped)
    assert sorted(set(CustomerDailyAum.objects.values_list("business_date", flat=True))) == [kept, today]
    assert sorted(set(AccountBalance.objects.values_list("business_date", flat=True))) == [kept, today]
    assert _exists(partition_name(AUM, datetime.date(2030, 10, 1)))
    # the monthly figures are not history: untouched
    assert sorted(CustomerMonthlyAum.objects.values_list("month", flat=True)) == sorted(months)
    # logged and audited, with the rows
    events = {e.target_id: e for e in AuditEvent.objects.filter(action=PartitionAction.HISTORY_RETIRED)}
    assert set(events) == set(retired)
    assert events[default_name(AUM)].details["rows"] == 2
    assert events[partition_name(AUM, datetime.date(2030, 8, 1))].details["rows"] == 5
    assert events[partition_name(AUM, datetime.date(2030, 8, 1))].details["table"] == AUM
    assert any(partition_name(AUM, datetime.date(2030, 9, 1)) in r.getMessage() for r in caplog.records)
    # nothing more to retire
    assert retire_partitions(today, keep_months=3) == []


def test_retiring_refuses_to_keep_no_month():
    with pytest.raises(ValueError):
        retire_partitions(datetime.date(2030, 12, 6), keep_months=0)


def _relations(plan) -> set[str]:
    found = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= _relations(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _relations(value)
    return found


@pytest.mark.postgres
@ON_POSTGRES
def test_a_query_of_one_business_date_reads_one_partition():
    for day in (FAR, add_months(FAR, 1), add_months(FAR, 2)):
        _aum(day, range(1, 30))
    ensure_partitions(add_months(FAR, 2))
    plan = json.loads(CustomerDailyAum.objects.filter(business_date=FAR).explain(format="json"))
    assert _relations(plan) == {partition_name(AUM, month_start(FAR))}
    # a customer's days over a span read only the months it covers
    last = add_months(FAR, 2) + datetime.timedelta(days=9)
    first = last - datetime.timedelta(days=30)  # June 10th to July 10th
    plan = json.loads(
        CustomerDailyAum.objects.filter(customer_id=3, business_date__range=(first, last)).explain(
            format="json"
        )
    )
    assert _relations(plan) == {
        partition_name(AUM, month_start(first)),
        partition_name(AUM, month_start(last)),
    }


@pytest.mark.postgres
@ON_POSTGRES
def test_upserts_on_the_partitioned_table_still_work():
    ensure_partitions(FAR)
    other = datetime.date(2035, 1, 2)  # the default partition's
    _aum(FAR, range(1, 3))
    _aum(other, range(1, 3))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AUM} (business_date, customer_id, aum, liabilities) VALUES (%s, 1, 7, 0), (%s, 1, 8, 0),"
            " (%s, 9, 9, 0) ON CONFLICT (business_date, customer_id) DO UPDATE SET aum = EXCLUDED.aum",
            [FAR, other, FAR],
        )
    CustomerDailyAum.objects.bulk_create(
        [CustomerDailyAum(business_date=other, customer_id=2, aum=Decimal("4.25"), liabilities=0)],
        update_conflicts=True,
        unique_fields=["business_date", "customer"],
        update_fields=["aum"],
    )
    aum = {(r.business_date, r.customer_id): r.aum for r in CustomerDailyAum.objects.all()}
    assert aum == {
        (FAR, 1): Decimal("7.00"),
        (FAR, 2): Decimal("100.00"),
        (FAR, 9): Decimal("9.00"),
        (other, 1): Decimal("8.00"),
        (other, 2): Decimal("4.25"),
    }


@pytest.mark.postgres
@ON_POSTGRES
def test_the_command_lists_makes_and_retires_partitions():
    out = io.StringIO()
    call_command("history_partitions", "--ensure", FAR.isoformat(), stdout=out)
    assert partition_name(AUM, month_start(FAR)) in out.getvalue()
    out = io.StringIO()
    call_command("history_partitions", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["table", "partition", "from", "before", "rows", "(estimate)"]
    listed = {line.split()[1]: line.split() for line in lines[1:]}
    assert listed[default_name(AUM)][2] == "default"
    row = listed[partition_name(AUM, month_start(FAR))]
    assert row[2:4] == [month_start(FAR).isoformat(), add_months(month_start(FAR), 1).isoformat()]
    assert {line.split()[0] for line in lines[1:]} == set(HISTORY_TABLES)
    out = io.StringIO()
    call_command(
        "history_partitions",
        "--retire",
        "--keep-months",
        "1",
        "--today",
        add_months(FAR, 1).isoformat(),
        stdout=out,
    )
    assert partition_name(AUM, month_start(FAR)) in out.getvalue()
    assert not _exists(partition_name(AUM, month_start(FAR)))


@pytest.mark.postgres
@ON_POSTGRES
def test_a_load_writes_its_daily_rows_into_the_partition_of_its_month(org, tmp_path):
    day = datetime.date(2031, 3, 3)
    assert not _exists(partition_name("customers_accountbalance", month_start(day)))
    loaded = load(batch(tmp_path, day=day, customers=30).path)
    assert loaded.status == "loaded", loaded.message
    balances = AccountBalance.objects.filter(business_date=day).count()
    assert balances > 0
    assert _count(partition_name("customers_accountbalance", month_start(day))) == balances
    assert _count(partition_name("customers_transactionsummary", month_start(day))) == (
        TransactionSummary.objects.filter(business_date=day).count()
    )
    assert _count(default_name("customers_accountbalance")) == 0
    assert _exists(partition_name("customers_accountbalance", add_months(month_start(day), 1)))


@pytest.mark.postgres
@ON_POSTGRES
def test_the_nightly_steps_make_next_month_and_retire_the_old_ones(settings):
    names = [name for name, _step in portal_tasks.POST_LOAD_STEPS]
    assert names.index("history_partitions") < names.index("customer_upkeep")
    step = dict(portal_tasks.POST_LOAD_STEPS)["history_partitions"]
    today = timezone.localdate()
    this_month = month_start(today)
    settings.DAILY_HISTORY_MONTHS = 2
    ensure_partitions(add_months(this_month, -2))  # two months ago and last month
    _aum(add_months(this_month, -2), range(1, 4))
    _aum(add_months(this_month, -1), range(1, 4))
    step([today - datetime.timedelta(days=1), today])
    assert _exists(partition_name(AUM, add_months(this_month, 1)))  # made ahead
    assert not _exists(partition_name(AUM, add_months(this_month, -2)))  # older than 2 months
    assert _exists(partition_name(AUM, add_months(this_month, -1)))
    assert set(CustomerDailyAum.objects.values_list("business_date", flat=True)) == {
        add_months(this_month, -1)
    }
    # a batch dated far ahead makes its partitions but retires nothing past today
    step([datetime.date(2099, 1, 4)])
    assert _exists(partition_name(AUM, datetime.date(2099, 2, 1)))
    assert _exists(partition_name(AUM, add_months(this_month, -1)))
    assert CustomerDailyAum.objects.count() == 3


@pytest.mark.postgres
@ON_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_rows_of_the_plain_tables_into_partitions():
    """Forward from 0020 on a database holding rows (and back again): every row kept,
    each in its month's partition."""
    before, after = ("customers", "0020_monthly_aum_sums"), ("customers", "0021_partitioned_history")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([before])
        assert not any(_partitioned(t) for t in HISTORY_TABLES)
        days = [datetime.date(2025, 3, 31), datetime.date(2025, 4, 1)]
        with connection.cursor() as cursor:
            for day in days:
                cursor.execute(
                    f"INSERT INTO {AUM} (business_date, customer_id, aum, liabilities)"
                    " SELECT %s, c, c * 1.5, 0 FROM generate_series(1, 40) c",
                    [day],
                )
                cursor.execute(
                    "INSERT INTO customers_accountbalance (business_date, account_id, balance, cny_balance)"
                    " SELECT %s, a, a, a FROM generate_series(1, 70) a",
                    [day],
                )
            cursor.execute(f"SELECT SUM(aum) FROM {AUM}")
            (total,) = cursor.fetchone()

        executor = MigrationExecutor(connection)
        executor.migrate([after])

        assert all(_partitioned(t) for t in HISTORY_TABLES)
        assert _count(AUM) == 80 and _count("customers_accountbalance") == 140
        for day in days:
            assert _count(partition_name(AUM, month_start(day))) == 40
            assert _count(partition_name("customers_accountbalance", month_start(day))) == 70
        assert _count(default_name(AUM)) == 0
        assert CustomerDailyAum.objects.filter(business_date=days[1], customer_id=3).get().aum == Decimal(
            "4.50"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT SUM(aum) FROM {AUM}")
            assert cursor.fetchone()[0] == total
            held = connection.introspection.get_constraints(cursor, AUM)
        assert {n for n, i in held.items() if i["index"] or i["primary_key"]} == set(
            _expected_indexes(CustomerDailyAum)
        )

        executor = MigrationExecutor(connection)
        executor.migrate([before])  # undone: plain tables, the same rows and names
        assert not any(_partitioned(t) for t in HISTORY_TABLES)
        assert _count(AUM) == 80 and not _exists(partition_name(AUM, month_start(days[0])))
        with connection.cursor() as cursor:
            held = connection.introspection.get_constraints(cursor, AUM)
        assert {n for n, i in held.items() if i["index"] or i["primary_key"]} == set(
            _expected_indexes(CustomerDailyAum)
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# ------------------------------------------------------------------ SQLite


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded SQLite default's plain tables")
def test_on_sqlite_the_functions_do_nothing_and_the_tables_work(org):
    _aum(FAR, range(1, 4))
    _balances(FAR, range(1, 3))
    assert ensure_partitions(FAR) == []
    assert ensure_months(AUM, [FAR]) == []
    assert retire_partitions(FAR, keep_months=1) == []
    assert partitions_report() == []
    assert CustomerDailyAum.objects.filter(business_date=FAR).count() == 3
    assert AccountBalance.objects.count() == 2
    out = io.StringIO()
    call_command("history_partitions", stdout=out)
    assert "PostgreSQL only" in out.getvalue()
    assert not AuditEvent.objects.filter(action=PartitionAction.HISTORY_RETIRED).exists()

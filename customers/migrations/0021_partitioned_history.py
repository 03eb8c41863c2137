"""The daily history tables range-partitioned by month on PostgreSQL (customers/
partitions.py): a row per account or customer per business date, read by date or by
a short run of dates, retired a month at a time. Django's model state does not
change (same columns, same primary key); on SQLite the tables stay plain.

For each table the rows move into a new partitioned table of the same name: the
primary key, foreign keys and indexes are made again with the names and
definitions PostgreSQL holds for the plain table, a default partition takes the
rows of a month without its own partition, and a partition is made for every month
of the rows held, the current month and the next. The rows are copied in the
migration's transaction: it takes as long as a copy of the tables."""

import datetime

from django.db import migrations
from django.utils import timezone

TABLES = ("customers_accountbalance", "customers_customerdailyaum", "customers_transactionsummary")
KEY = "business_date"


def _month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _definitions(cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's primary-key, unique and foreign-key constraints and its other
    indexes: (name, definition) as PostgreSQL prints them."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'x')"
        " ORDER BY contype = 'f', conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)"
        " ORDER BY 1",
        [table],
    )
    # an index of a partitioned table prints as "ON ONLY <table>": made again on a
    # table, or on a partitioned one with its partitions, it reads "ON <table>"
    indexes = [(name, definition.replace(" ON ONLY ", " ON ", 1)) for name, definition in cursor.fetchall()]
    return constraints, indexes


def _grants(cursor, table: str) -> list[str]:
    """GRANT statements giving the table's privileges (other than its owner's) again."""
    cursor.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.privilege_type,"
        " a.is_grantable FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a"
        " LEFT JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [table],
    )
    return [
        f"GRANT {privilege} ON {_quote(table)} TO {grantee}" + (" WITH GRANT OPTION" if grantable else "")
        for grantee, privilege, grantable in cursor.fetchall()
    ]


def _months_held(cursor, table: str) -> list[datetime.date]:
    """The months with rows, read month by month along the primary key."""
    cursor.execute(
        f"WITH RECURSIVE m(month) AS ("
        f" SELECT date_trunc('month', MIN({KEY}))::date FROM {_quote(table)}"
        f" UNION ALL SELECT (SELECT date_trunc('month', MIN(t.{KEY}))::date FROM {_quote(table)} t"
        f" WHERE t.{KEY} >= (m.month + INTERVAL '1 month')::date) FROM m WHERE m.month IS NOT NULL"
        f") SELECT month FROM m WHERE month IS NOT NULL"
    )
    return [month for (month,) in cursor.fetchall()]


def _rebuild(cursor, table: str, *, partitioned: bool) -> None:
    old = f"{table}_rebuilt"
    constraints, indexes = _definitions(cursor, table)
    grants = _grants(cursor, table)
    cursor.execute(f"ALTER TABLE {_quote(table)} RENAME TO {_quote(old)}")
    # free the names: the old table goes at the end
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {_quote(name)}")
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {_quote(old)} DROP CONSTRAINT {_quote(name)}")
    like = f"LIKE {_quote(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE"
    if partitioned:
        cursor.execute(f"CREATE TABLE {_quote(table)} ({like}) PARTITION BY RANGE ({KEY})")
        cursor.execute(f"CREATE TABLE {_quote(table + '_default')} PARTITION OF {_quote(table)} DEFAULT")
        current = _month(timezone.localdate())
        months = set(_months_held(cursor, old)) | {current, _next_month(current)}
        for month in sorted(months):
            cursor.execute(
                f"CREATE TABLE {_quote(f'{table}_p{month:%Y%m}')} PARTITION OF {_quote(table)}"
                " FOR VALUES FROM (%s) TO (%s)",
                [month, _next_month(month)],
            )
    else:
        cursor.execute(f"CREATE TABLE {_quote(table)} ({like})")
    cursor.execute(f"INSERT INTO {_quote(table)} SELECT * FROM {_quote(old)}")
    cursor.execute(f"DROP TABLE {_quote(old)}")
    # the keys and indexes built once, from the copied rows
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
    for _name, definition in indexes:
        cursor.execute(definition)
    for grant in grants:
        cursor.execute(grant)
    cursor.execute(f"ANALYZE {_quote(table)}")


def partition_by_month(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table])
            if cursor.fetchone() is None:
                _rebuild(cursor, table, partitioned=True)


def plain_tables(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table])
            if cursor.fetchone() is not None:
                _rebuild(cursor, table, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0020_monthly_aum_sums"),
    ]

    operations = [
        migrations.RunPython(partition_by_month, plain_tables, elidable=False),
    ]

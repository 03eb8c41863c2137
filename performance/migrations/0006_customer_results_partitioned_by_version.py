"""Customer results partitioned by version on PostgreSQL (performance/rows.py): a
computation swaps a version's rows in whole instead of updating them in place. The
manager's own index goes (every read by manager is by version and manager)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "performance_customerresult"
OLD = f"{TABLE}_unpartitioned"
COLUMNS = "id, version_id, customer_id, manager_id, deposit_days, loan_days, aum_days, liability, asset, intermediary"


def partition_by_version(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [TABLE, f"{TABLE}_pkey"],
        )
        indexes = cursor.fetchall()
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id BIGINT NOT NULL, version_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, "
            "manager_id BIGINT NULL, deposit_days NUMERIC(30, 10) NOT NULL, loan_days NUMERIC(30, 10) NOT NULL, "
            "aum_days NUMERIC(30, 10) NOT NULL, liability NUMERIC(30, 10) NOT NULL, "
            "asset NUMERIC(30, 10) NOT NULL, intermediary NUMERIC(30, 10) NOT NULL) PARTITION BY LIST (version_id)"
        )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"SELECT DISTINCT version_id FROM {OLD}")
        for (version_id,) in cursor.fetchall():
            cursor.execute(
                f"CREATE TABLE {TABLE}_v{int(version_id)} PARTITION OF {TABLE} FOR VALUES IN ({int(version_id)})"
            )
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {OLD}")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {OLD}")
        (following,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s, false)", [following])
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        for _name, definition in indexes:  # the same names, now on the partitioned table
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0005_versions_computed_by_a_job"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerresult",
            name="manager",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(partition_by_version, migrations.RunPython.noop, elidable=False),
    ]

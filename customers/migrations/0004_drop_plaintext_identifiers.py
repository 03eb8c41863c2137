"""Identifiers move to encrypted columns (step 3 of 3): the plaintext columns go,
the lookups get their indexes (and, on PostgreSQL, the name search its GIN index)."""

from django.db import migrations, models

GIN = (
    "CREATE INDEX customer_search_tokens ON customers_customer "
    "USING gin (to_tsvector('simple'::regconfig, search_tokens))"
)


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_tokens")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_encrypt_existing_identifiers")]

    operations = [
        migrations.RemoveConstraint("customer", "customer_one_per_person"),
        migrations.RemoveIndex("customer", "customer_mobile"),
        migrations.RemoveIndex("customer", "customer_manager"),
        migrations.RemoveIndex("customer", "customer_name"),
        migrations.RemoveIndex("customer", "customer_aum_desc"),
        migrations.RemoveField("customer", "id_number"),
        migrations.RemoveField("customer", "mobile"),
        migrations.RemoveField("contactpoint", "value"),
        migrations.AddIndex("customer", models.Index(fields=["id_hash", "id_type"], name="customer_id_hash")),
        migrations.AddIndex("customer", models.Index(fields=["id_suffix"], name="customer_id_suffix")),
        migrations.AddIndex("customer", models.Index(fields=["mobile_hash"], name="customer_mobile_hash")),
        migrations.AddIndex(
            "customer", models.Index(fields=["mobile_suffix"], name="customer_mobile_suffix")
        ),
        migrations.AddIndex(
            "customer", models.Index(fields=["primary_manager", "-aum", "-id"], name="customer_manager_aum")
        ),
        migrations.AddIndex("customer", models.Index(fields=["-aum", "-id"], name="customer_aum_desc")),
        migrations.AddIndex(
            "customer", models.Index(fields=["home_branch", "-aum", "-id"], name="customer_branch_aum")
        ),
        migrations.AddIndex(
            "customer",
            models.Index(
                fields=["name_initials"], name="customer_initials", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.AddIndex(
            "customer",
            models.Index(fields=["name_pinyin"], name="customer_pinyin", opclasses=["varchar_pattern_ops"]),
        ),
        migrations.AddIndex(
            "contactpoint",
            models.Index(
                condition=models.Q(("value_hash", ""), _negated=True),
                fields=["value_hash"],
                name="contact_value_hash",
            ),
        ),
        migrations.RunPython(create_search_index, drop_search_index),
    ]

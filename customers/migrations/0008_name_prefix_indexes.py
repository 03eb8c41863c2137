"""Pinyin search by prefix through B-tree ranges that carry what a search tests.

The pinyin and initials indexes INCLUDE the scope, filter and sort columns: a
prefix of two letters or more matches a contiguous range of each, read without
visiting the table. A name whose tokens hold more than those two columns (a
surname with a second reading, or Latin words) is found through a small GIN index
of the stored search vector of such names only (PostgreSQL; the predicate is
customers.search_text.EXTRA_TOKEN_NAMES as of this migration)."""

from django.conf import settings
from django.db import migrations, models

EXTRA_TOKENS = (
    "CREATE INDEX customer_extra_tokens ON customers_customer USING gin (search_vector) "
    "WHERE ((name)::text ~ '^(单|曾|解|仇|朴|查|区|盖|乐|覃|翟|召|缪|员|隗|尉迟|长孙|万俟|宁|过)'::text "
    "OR (name)::text ~ '[A-Za-z]'::text)"
)


def create_extra_tokens_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXTRA_TOKENS)


def drop_extra_tokens_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_extra_tokens")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_audit_append_only"),
        ("customers", "0007_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_initials",
        ),
        migrations.RemoveIndex(
            model_name="customer",
            name="customer_pinyin",
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["name_initials"],
                include=(
                    "id",
                    "aum",
                    "merged_into",
                    "home_branch",
                    "primary_manager",
                    "status",
                    "tier",
                    "birth_date",
                ),
                name="customer_initials",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["name_pinyin"],
                include=(
                    "id",
                    "aum",
                    "merged_into",
                    "home_branch",
                    "primary_manager",
                    "status",
                    "tier",
                    "birth_date",
                ),
                name="customer_pinyin",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RunPython(create_extra_tokens_index, drop_extra_tokens_index),
    ]

"""A one-character name search reads the name's prefix index (the surname) and the
token of each character after the first (customers.search_text.LATER), which this
migration adds to the stored tokens of existing customers."""

from django.conf import settings
from django.db import migrations, models

from ._frozen_search_text import name_search

# Each CJK character after the first, once, as "2<character>" (the order of the
# tokens does not matter to the search).
LATER_TOKENS_SQL = r"""
UPDATE customers_customer AS c
SET search_tokens = concat_ws(' ', nullif(c.search_tokens, ''), later.tokens)
FROM (
    SELECT id, string_agg(DISTINCT '2' || ch, ' ') AS tokens
    FROM customers_customer, regexp_split_to_table(substr(name, 2), '') AS ch
    WHERE ch ~ '[\u3400-\u9fff]'
    GROUP BY id
) AS later
WHERE later.id = c.id
"""


def add_later_tokens(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LATER_TOKENS_SQL)
        return
    customer = apps.get_model("customers", "Customer")
    batch = []
    for row in customer.objects.only("id", "name", "search_tokens").iterator(chunk_size=2000):
        row.search_tokens = name_search(row.name).tokens
        batch.append(row)
        if len(batch) == 2000:
            customer.objects.bulk_update(batch, ["search_tokens"])
            batch = []
    customer.objects.bulk_update(batch, ["search_tokens"])


def drop_later_tokens(apps, schema_editor):
    # every token starting with "2": a name's own word such as "2b" goes too, and
    # comes back when the name is next written
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE customers_customer SET search_tokens = "
            "trim(regexp_replace(search_tokens, '(^| )2[^ ]*', '', 'g'))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_audit_append_only"),
        ("customers", "0008_name_prefix_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["name"],
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
                name="customer_name_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RunPython(add_later_tokens, drop_later_tokens),
    ]

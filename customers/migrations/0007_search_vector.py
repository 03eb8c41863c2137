"""The name search matches a stored tsvector, and the AUM-ordered indexes carry
what a search tests (PostgreSQL; elsewhere the indexes stay plain).

- `search_vector` is computed by PostgreSQL from `search_tokens` whenever a row is
  written (the nightly load included), so a search no longer parses the tokens of
  each row it tests. Statistics on it keep its 10,000 commonest tokens, so that the
  planner knows how many customers a surname or a pair of initials matches. The
  column is not on the model: no read of a customer fetches it.
- The three AUM-ordered indexes (bank, manager's book, branch) INCLUDE the vector, the name,
  the scope columns and the filterable columns: a broad search that walks one of
  them in AUM order tests each row inside the index (an index-only scan) instead of
  visiting the table, five times faster per row at a million customers."""

from django.db import migrations, models

COVERED = "search_vector, name, status, birth_date, tier, merged_into_id, home_branch_id, primary_manager_id"
ORDERED = {
    "customer_aum_desc": "aum DESC, id DESC",
    "customer_manager_aum": "primary_manager_id, aum DESC, id DESC",
    "customer_branch_aum": "home_branch_id, aum DESC, id DESC",
}
PLAIN = {
    "customer_aum_desc": ["-aum", "-id"],
    "customer_manager_aum": ["primary_manager", "-aum", "-id"],
    "customer_branch_aum": ["home_branch", "-aum", "-id"],
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        customer = apps.get_model("customers", "Customer")
        for name, fields in PLAIN.items():
            schema_editor.add_index(customer, models.Index(fields=fields, name=name))
        return
    schema_editor.execute(
        "ALTER TABLE customers_customer ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_tokens)) STORED"
    )
    schema_editor.execute("ALTER TABLE customers_customer ALTER COLUMN search_vector SET STATISTICS 1000")
    schema_editor.execute(
        "CREATE INDEX customer_search_vector ON customers_customer USING gin (search_vector)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS customer_search_tokens")
    for name, columns in ORDERED.items():
        schema_editor.execute(f"CREATE INDEX {name} ON customers_customer ({columns}) INCLUDE ({COVERED})")


def backward(apps, schema_editor):
    for name in ORDERED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX customer_search_tokens ON customers_customer "
            "USING gin (to_tsvector('simple'::regconfig, search_tokens))"
        )
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_vector")
        schema_editor.execute("ALTER TABLE customers_customer DROP COLUMN search_vector")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_batch_loads")]

    operations = [
        migrations.RemoveIndex("customer", "customer_manager_aum"),
        migrations.RemoveIndex("customer", "customer_aum_desc"),
        migrations.RemoveIndex("customer", "customer_branch_aum"),
        migrations.RunPython(forward, backward),
    ]

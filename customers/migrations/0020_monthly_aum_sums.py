from django.db import migrations, models


def account_fillfactor(apps, schema_editor, value="50"):
    """The night rewrites every account's latest balance (not an indexed column): with
    half of each page free, the new row goes on the same page and no index is
    touched (a heap-only update), and the next night prunes the old one."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE customers_account SET (fillfactor = {value})")


def account_fillfactor_reset(apps, schema_editor):
    account_fillfactor(apps, schema_editor, value="100")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0019_batchload_after_load_done_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyAumBuild",
            fields=[
                (
                    "month",
                    models.DateField(help_text="first day of the month", primary_key=True, serialize=False),
                ),
                ("through", models.DateField()),
            ],
            options={
                "verbose_name": "monthly AUM build",
            },
        ),
        migrations.AddField(
            model_name="customermonthlyaum",
            name="aum_sum",
            field=models.DecimalField(db_default=0, decimal_places=2, default=0, max_digits=22),
        ),
        migrations.AddField(
            model_name="customermonthlyaum",
            name="liabilities_sum",
            field=models.DecimalField(db_default=0, decimal_places=2, default=0, max_digits=22),
        ),
        migrations.AddIndex(
            model_name="customermonthlyaum",
            index=models.Index(fields=["month", "customer"], name="monthly_aum_month_customer"),
        ),
        migrations.RunPython(account_fillfactor, account_fillfactor_reset),
    ]

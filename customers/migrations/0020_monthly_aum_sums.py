from django.db import migrations, models


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
    ]

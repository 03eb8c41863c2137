"""Identifiers move to encrypted columns (step 1 of 3: the new columns)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.AddField(
            "customer",
            "id_number_enc",
            models.TextField(default="", verbose_name="ID number (encrypted)"),
            preserve_default=False,
        ),
        migrations.AddField(
            "customer", "id_hash", models.CharField(default="", max_length=32), preserve_default=False
        ),
        migrations.AddField(
            "customer", "id_suffix", models.CharField(default="", max_length=6), preserve_default=False
        ),
        migrations.AddField(
            "customer", "mobile_enc", models.TextField(blank=True, verbose_name="mobile (encrypted)")
        ),
        migrations.AddField("customer", "mobile_hash", models.CharField(blank=True, max_length=32)),
        migrations.AddField("customer", "mobile_suffix", models.CharField(blank=True, max_length=4)),
        migrations.AddField("customer", "name_pinyin", models.CharField(blank=True, max_length=120)),
        migrations.AddField("customer", "name_initials", models.CharField(blank=True, max_length=30)),
        migrations.AddField("customer", "search_tokens", models.TextField(blank=True)),
        migrations.AddField(
            "customer",
            "merged_into",
            models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.customer",
                verbose_name="merged into",
            ),
        ),
        migrations.AddField(
            "contactpoint",
            "value_enc",
            models.TextField(default="", verbose_name="value (encrypted)"),
            preserve_default=False,
        ),
        migrations.AddField("contactpoint", "value_hash", models.CharField(blank=True, max_length=32)),
    ]

"""A user's choice and order of the widgets on their home page (crm_portal.home)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_approval_record"),
    ]

    operations = [
        migrations.CreateModel(
            name="HomeLayout",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("widgets", models.JSONField(default=list, verbose_name="widgets")),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="changed at"),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="home_layout",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "home page layout",
                "verbose_name_plural": "home page layouts",
            },
        ),
    ]

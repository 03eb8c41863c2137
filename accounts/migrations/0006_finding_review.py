import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_home_layout"),
    ]

    operations = [
        migrations.CreateModel(
            name="FindingReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "rule",
                    models.CharField(
                        choices=[
                            ("bulk_export", "Bulk export"),
                            ("off_hours", "Activity outside working hours"),
                            ("outside_scope", "Customers outside the scope asked for"),
                            ("failed_logins", "Repeated failed logins"),
                            ("pii_reveals", "Personal data revealed beyond the daily limit"),
                        ],
                        max_length=30,
                        verbose_name="rule",
                    ),
                ),
                ("username", models.CharField(max_length=150, verbose_name="username")),
                ("day", models.DateField(verbose_name="day")),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("explanation_accepted", "Explanation accepted"),
                            ("escalated", "Escalated"),
                            ("false_alarm", "False alarm"),
                        ],
                        max_length=20,
                        verbose_name="outcome",
                    ),
                ),
                ("note", models.TextField(max_length=500, verbose_name="note")),
                (
                    "reviewed_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="reviewed at"),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reviewed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "review of a finding",
                "verbose_name_plural": "reviews of findings",
                "ordering": ["-reviewed_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(fields=("rule", "username", "day"), name="finding_review_once")
                ],
            },
        ),
    ]

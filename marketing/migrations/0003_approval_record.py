"""Campaigns and contact-frequency policies are approval records
(core.approvals.ApprovalRecord); product changes wait for approval in a table of
their own.

Existing rows: a campaign's submitted_by, submitted_at and decision_comment are
renamed (proposed_by, proposed_at, decision_note), their values untouched. A
policy keeps its proposer and decision fields (only their labels change) and gets
decision_note, "" on every existing row: no policy decision had a note until now,
so there is nothing to carry over. ProductChange is a new, empty table. Statuses
keep their values (each model maps its own onto the approval's)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0002_account_holdings_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="campaign", old_name="submitted_by", new_name="proposed_by"),
        migrations.RenameField(model_name="campaign", old_name="submitted_at", new_name="proposed_at"),
        migrations.RenameField(model_name="campaign", old_name="decision_comment", new_name="decision_note"),
        migrations.AlterField(
            model_name="campaign",
            name="proposed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="proposed by",
            ),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="proposed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="proposed at"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="decision_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="decision note"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="decided by",
            ),
        ),
        migrations.AddField(
            model_name="contactpolicy",
            name="decision_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="decision note"),
        ),
        migrations.AlterField(
            model_name="contactpolicy",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
        ),
        migrations.AlterField(
            model_name="contactpolicy",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="decided by",
            ),
        ),
        migrations.AlterField(
            model_name="contactpolicy",
            name="proposed_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="proposed at"),
        ),
        migrations.AlterField(
            model_name="contactpolicy",
            name="proposed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="proposed by",
            ),
        ),
        migrations.CreateModel(
            name="ProductChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "proposed_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="proposed at"),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided at")),
                ("decision_note", models.CharField(blank=True, max_length=300, verbose_name="decision note")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("changes", models.JSONField(default=dict, verbose_name="changes")),
                ("base", models.JSONField(default=dict, verbose_name="values before")),
                ("reason", models.CharField(max_length=200, verbose_name="reason")),
                (
                    "source",
                    models.CharField(
                        choices=[("form", "Form"), ("import", "Spreadsheet import")],
                        default="form",
                        max_length=10,
                        verbose_name="source",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="proposed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "product change (产品变更申请)",
                "verbose_name_plural": "product changes",
                "ordering": ["-proposed_at", "-id"],
                "permissions": [("approve_productchange", "Can approve product changes")],
                "indexes": [models.Index(fields=["status", "-proposed_at"], name="productchange_status")],
            },
        ),
    ]

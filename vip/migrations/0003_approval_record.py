"""Parameter proposals and transfer requests are approval records
(core.approvals.ApprovalRecord).

Existing rows: a transfer's requested_by and requested_at are renamed (proposed_by,
proposed_at), their values untouched; its index on (status, requested_at) is
rebuilt on the renamed column. A decision note may now hold 300 characters (was
200) on both: every note is kept as it is. Statuses keep their values (a
parameter proposal's are the approval's own; a transfer's "cancelled" is the
approval's "withdrawn", mapped in the model), so no row changes."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("vip", "0002_default_levels"),
    ]

    operations = [
        # The index names the old column: out before the rename, back after it
        # (SQLite rebuilds the table from the model state, which must be right).
        migrations.RemoveIndex(model_name="transferrequest", name="transfer_status"),
        migrations.RenameField(model_name="transferrequest", old_name="requested_by", new_name="proposed_by"),
        migrations.RenameField(model_name="transferrequest", old_name="requested_at", new_name="proposed_at"),
        migrations.AlterModelOptions(
            name="transferrequest",
            options={
                "ordering": ["-proposed_at", "-id"],
                "permissions": [("approve_transferrequest", "Can approve customer transfers")],
                "verbose_name": "transfer request (客户移交)",
                "verbose_name_plural": "transfer requests",
            },
        ),
        migrations.AddIndex(
            model_name="transferrequest",
            index=models.Index(fields=["status", "-proposed_at"], name="transfer_status"),
        ),
        migrations.AlterField(
            model_name="transferrequest",
            name="proposed_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="proposed at"),
        ),
        migrations.AlterField(
            model_name="transferrequest",
            name="proposed_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="proposed by",
            ),
        ),
        migrations.AlterField(
            model_name="transferrequest",
            name="decision_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="decision note"),
        ),
        migrations.AlterField(
            model_name="parameterproposal",
            name="decision_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="decision note"),
        ),
    ]

"""An account request is an approval record (core.approvals.ApprovalRecord): the
request's fields take the shared names, and the two the request did not keep are
filled from what each row already says.

Existing rows: requested_by, approved_by and approved_at are renamed (proposed_by,
decided_by, decided_at), their values untouched. proposed_at is new: every account
gets its date_joined, which is when it was requested (an account made from the
command line was never requested; date_joined is when it was made). decision_note
is new: a rejected account gets its status_reason, which is where the rejection's
reason was written until now; every other row gets "" (an approval had no note).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def fill_request_fields(apps, schema_editor):
    # A frozen copy of the little it needs: two set-based UPDATEs.
    User = apps.get_model("accounts", "User")
    User.objects.update(proposed_at=models.F("date_joined"))
    User.objects.filter(status="rejected").update(decision_note=models.F("status_reason"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_no_truncate"),
    ]

    operations = [
        migrations.RenameField(model_name="user", old_name="requested_by", new_name="proposed_by"),
        migrations.RenameField(model_name="user", old_name="approved_by", new_name="decided_by"),
        migrations.RenameField(model_name="user", old_name="approved_at", new_name="decided_at"),
        migrations.AlterField(
            model_name="user",
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
            model_name="user",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
        ),
        migrations.AddField(
            model_name="user",
            name="proposed_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="proposed at"),
        ),
        migrations.AddField(
            model_name="user",
            name="decision_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="decision note"),
        ),
        migrations.RunPython(fill_request_fields, migrations.RunPython.noop, elidable=False),
    ]

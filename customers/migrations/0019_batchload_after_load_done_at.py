from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce, Now


def mark_loaded_batches_done(apps, schema_editor):
    """Batches loaded before the mark existed had their jobs run by the nightly job
    of the time: marked done, so that the first nightly job after the upgrade does
    not run the jobs of every historical date again."""
    BatchLoad = apps.get_model("customers", "BatchLoad")
    BatchLoad.objects.filter(status="loaded", after_load_done_at__isnull=True).update(
        after_load_done_at=Coalesce(F("finished_at"), Now())
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0018_assignment_manager_secondary"),
    ]

    operations = [
        migrations.AddField(
            model_name="batchload",
            name="after_load_done_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="jobs after the load done"),
        ),
        migrations.RunPython(mark_loaded_batches_done, migrations.RunPython.noop, elidable=True),
    ]

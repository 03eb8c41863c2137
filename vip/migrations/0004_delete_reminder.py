"""The VIP reminders now live in keep close's alerts: care 0002 copied them there
(with their history); their table goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("vip", "0003_approval_record"),
        # the reminders are copied into the alerts first
        ("care", "0002_vip_reminders"),
    ]

    operations = [
        migrations.DeleteModel(
            name="Reminder",
        ),
    ]

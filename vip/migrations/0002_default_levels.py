"""The default tier levels and policy, so that every installation (and every test
database) starts with working parameters. Later changes go through approved
proposals; this migration never overwrites a level that exists."""

from decimal import Decimal

from django.db import migrations

# (code, name, minimum average AUM over the window, contact at least every N days)
DEFAULT_LEVELS = [
    ("core", "核心级", Decimal("6000000.00"), 30),
    ("growth", "成长级", Decimal("3000000.00"), 30),
    ("platinum", "白金级", Decimal("1000000.00"), 60),
    ("gold", "金级", Decimal("500000.00"), 90),
    ("potential", "潜力级", Decimal("300000.00"), 180),
]


def create_defaults(apps, schema_editor):
    TierLevel = apps.get_model("vip", "TierLevel")
    TierPolicy = apps.get_model("vip", "TierPolicy")
    for code, name, threshold, days in DEFAULT_LEVELS:
        TierLevel.objects.get_or_create(
            code=code, defaults={"name": name, "aum_threshold": threshold, "contact_interval_days": days}
        )
    TierPolicy.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("vip", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]

"""The indicator library's "new payroll customers" counted from the employers'
register (customers.PayrollLink): customers whose first payroll relationship with
an employer started in the period. The library's `new_payroll` keeps counting from
payroll-product sales; a scheme or a task chooses which it measures."""

from django.db import migrations

CODE = "new_payroll_links"


def add(apps, schema_editor):
    Indicator = apps.get_model("marketing", "Indicator")
    Indicator.objects.get_or_create(
        code=CODE,
        defaults={
            "name": "新增代发客户（代发单位）",
            "kind": "new_customers",
            "params": {"payroll_link": True},
            "unit": "count",
            "direction": "higher",
            "description": "期内首次与代发单位建立代发工资关系的客户数，按当日归属客户经理计。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("marketing", "Indicator").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0004_indicator_library"),
        ("customers", "0015_employers_and_payroll"),
    ]

    operations = [migrations.RunPython(add, remove)]

"""The VIP reminders move into the one alert model, with their history (the only
second migration of care before its release; vip 0004 then drops vip_reminder).

To regenerate care 0001 before the release (`rm 0001_initial.py && makemigrations
care`), move this file and vip/migrations/0004_delete_reminder.py aside first and
put them back afterwards: both depend on care 0001 by name.

Frozen code: nothing of the apps is imported. Each reminder becomes one alert:
- kind: "tier_changed" becomes "tier_change"; the others keep their name;
- the detail code becomes the figures care/reasons.py reads: "old>new" a tier
  change {"from", "to"}, a tier code {"tier"} (potential VIP, overdue contact),
  "E1101:3" a team's overdue contacts {"manager", "count"}, an employee number
  {"by"} (assigned, shared), "approved"/"rejected" {"decision"};
- the event: the day for a tier change, a potential VIP and an overdue contact; the
  manager and day for a team's overdue contacts; the day and user for the others;
- event date and due date: the reminder's due date; valid 30 days from it;
- the assignee: the reminder's user; the branch: the customer's home branch (the
  manager's branch for a team's overdue contacts, the user's for no customer);
- done reminders are done alerts, closed when they were done (who closed them was
  not recorded); created and read times are kept.
Read in primary-key batches; a second run adds nothing (one alert per event)."""

import datetime
import json

from django.db import migrations

BATCH = 5000
VALID_DAYS = 30
KIND = {"tier_changed": "tier_change"}
# 1 high, 2 normal, 3 low (care.choices.AlertPriority at the time of writing)
PRIORITY = {
    "tier_change": 2,
    "potential_vip": 2,
    "contact_overdue": 1,
    "team_overdue": 1,
    "customer_assigned": 2,
    "customer_shared": 3,
    "transfer_decided": 3,
}

SELECT = """
SELECT r.id, r.user_id, r.customer_id, r.kind, r.due_date, r.detail, r.created_at, r.read_at, r.done_at,
       c.home_branch_id, u.branch_id
  FROM vip_reminder r
  LEFT JOIN {customers} c ON c.id = r.customer_id
  LEFT JOIN {users} u ON u.id = r.user_id
 WHERE r.id > %s
 ORDER BY r.id
 LIMIT %s"""


def _figures(kind: str, detail: str) -> dict:
    detail = detail or ""
    if kind == "tier_change":
        old, _sep, new = detail.partition(">")
        return {"from": old, "to": new}
    if kind in ("potential_vip", "contact_overdue"):
        return {"tier": detail} if detail else {}
    if kind == "team_overdue":
        manager, _sep, count = detail.partition(":")
        return {"manager": manager, "count": int(count) if count.isdigit() else count}
    if kind in ("customer_assigned", "customer_shared"):
        return {"by": detail}
    if kind == "transfer_decided":
        return {"decision": detail}
    return {}


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


def copy_reminders(apps, schema_editor):
    Alert = apps.get_model("care", "Alert")
    User = apps.get_model("accounts", "User")
    Customer = apps.get_model("customers", "Customer")
    connection = schema_editor.connection
    if "vip_reminder" not in connection.introspection.table_names():
        return
    branch_of_employee = dict(User.objects.values_list("employee_no", "branch_id"))
    sql = SELECT.format(customers=Customer._meta.db_table, users=User._meta.db_table)
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, BATCH])
            rows = cursor.fetchall()
        if not rows:
            break
        alerts = []
        for pk, user_id, customer_id, kind, due, detail, created_at, read_at, done_at, home, own in rows:
            last = pk
            kind = KIND.get(kind, kind)
            due = _as_date(due)
            figures = _figures(kind, detail)
            if kind in ("tier_change", "potential_vip", "contact_overdue"):
                event_key = due.isoformat()
            elif kind == "team_overdue":
                event_key = f"{figures.get('manager', '')}:{due.isoformat()}"
            else:
                event_key = f"{due.isoformat()}:{user_id}"
            if customer_id is not None:
                branch = home
            elif kind == "team_overdue":
                branch = branch_of_employee.get(figures.get("manager"), own)
            else:
                branch = own
            done_at = _as_datetime(done_at)
            alerts.append(
                Alert(
                    kind=kind,
                    customer_id=customer_id,
                    event_key=event_key[:80],
                    event_date=due,
                    due_date=due,
                    valid_until=due + datetime.timedelta(days=VALID_DAYS),
                    priority=PRIORITY.get(kind, 2),
                    assignee_id=user_id,
                    branch_id=branch,
                    figures=json.loads(json.dumps(figures)),
                    status="done" if done_at is not None else "open",
                    closed_at=done_at,
                    read_at=_as_datetime(read_at),
                    created_at=_as_datetime(created_at),
                )
            )
        Alert.objects.bulk_create(alerts, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0001_initial"),
        ("vip", "0003_approval_record"),
    ]

    operations = [
        migrations.RunPython(copy_reminders, migrations.RunPython.noop, elidable=True),
    ]

"""The VIP reminders moved into the alerts with their history (care 0002), and their
table is gone (vip 0004): each reminder is one alert of the same user, customer,
kind and day, its detail turned into the figures the reason sentence reads, done
ones done."""

from __future__ import annotations

import datetime
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from care.models import Alert
from care.reasons import alert_reason
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

BEFORE = [("vip", "0003_approval_record"), ("care", "0001_initial")]
DAY = datetime.date(2026, 11, 30)


def _insert(cursor, *, user, customer, kind: str, detail: str, done: bool = False) -> None:
    now = timezone.now()
    cursor.execute(
        "INSERT INTO vip_reminder (user_id, customer_id, kind, due_date, detail, created_at, read_at, done_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)",
        [user.pk, customer.pk if customer else None, kind, DAY, detail, now, now if done else None],
    )


@pytest.mark.django_db(transaction=True)
def test_the_reminders_become_alerts(demo_users, new_customer):  # noqa: F811
    cm1, bh = demo_users["demo_cm1"], demo_users["demo_bh"]
    customer = new_customer(manager=cm1, name="张三丰")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        _insert(cursor, user=cm1, customer=customer, kind="tier_changed", detail="gold>platinum")
        _insert(cursor, user=cm1, customer=customer, kind="contact_overdue", detail="gold", done=True)
        _insert(cursor, user=cm1, customer=customer, kind="customer_assigned", detail="E1100")
        _insert(cursor, user=bh, customer=None, kind="team_overdue", detail="E1101:3")
        _insert(cursor, user=cm1, customer=customer, kind="transfer_decided", detail="rejected")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert "vip_reminder" not in connection.introspection.table_names()
    alerts = {a.kind: a for a in Alert.objects.select_related("customer")}
    assert set(alerts) == {
        "tier_change",
        "contact_overdue",
        "customer_assigned",
        "team_overdue",
        "transfer_decided",
    }
    tier = alerts["tier_change"]
    assert (tier.assignee, tier.customer, tier.due_date, tier.event_date) == (cm1, customer, DAY, DAY)
    assert tier.figures == {"from": "gold", "to": "platinum"} and tier.status == "open"
    assert tier.branch_id == customer.home_branch_id and tier.event_key == DAY.isoformat()
    # the tier levels' names (a transactional test before this one may have flushed
    # the defaults the data migration wrote)
    import_module("vip.migrations.0002_default_levels").create_defaults(django_apps, None)
    assert alert_reason(tier) == "Tier changed: 金级 → 白金级"
    done = alerts["contact_overdue"]
    assert done.status == "done" and done.closed_at is not None and done.figures == {"tier": "gold"}
    # a colleague shows by name, not by employee number
    name = {u.employee_no: u.display_name for u in User.objects.filter(employee_no__in=["E1100", "E1101"])}
    assert alert_reason(alerts["customer_assigned"]) == f"Now in your care (assigned by {name['E1100']})"
    team = alerts["team_overdue"]
    assert team.customer is None and team.assignee == bh and team.branch_id == cm1.branch_id
    assert alert_reason(team) == f"Manager {name['E1101']} has 3 overdue contacts with major customers"
    assert alert_reason(alerts["transfer_decided"]) == "Your transfer request was rejected"
    # the manager sees theirs on the alert list's API, the branch head the team's
    assert set(Alert.objects.visible_to(cm1).values_list("kind", flat=True)) == {
        "tier_change",
        "contact_overdue",
        "customer_assigned",
        "transfer_decided",
    }
    assert Alert.objects.visible_to(bh).count() == 5

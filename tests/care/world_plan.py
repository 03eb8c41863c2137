"""The URL harness's objects of keep close (plan): what its pages need in the world
of tests/url_world.py. One plan item of each user who plans (the branch head and
the three client managers), tomorrow, the managers' about their main customer."""

from __future__ import annotations

import datetime


def build(world, today: datetime.date) -> None:
    from care.choices import PlanKind
    from care.models import PlanItem

    items = {}
    for username, who in (("demo_bh", None), ("demo_cm1", "cm1"), ("demo_cm2", "cm2"), ("demo_cm3", "cm3")):
        items[username] = PlanItem.objects.create(
            owner=world.users[username],
            kind=PlanKind.VISIT if who else PlanKind.TODO,
            customer=world.customer("main", who) if who else None,
            title="harness plan",
            start_date=today + datetime.timedelta(days=1),
        )
    world.objects["plan_item"] = items


# --- the small world of tests/care/test_plan*.py and test_journal*.py ---------------------


def small_world(demo_users, new_customer) -> dict:
    """demo_cm1's customer at 11101 (shared with demo_cm2 by a grant), demo_cm2's at
    11102 and demo_cm3's in Shanghai (12101); demo_bh heads 11100 (11101 and 11102)."""
    from guardian.shortcuts import assign_perm

    users = {name.removeprefix("demo_"): user for name, user in demo_users.items()}
    own = new_customer(branch="11101", manager=users["cm1"], name="王小明")
    colleague = new_customer(branch="11102", manager=users["cm2"], name="李小红")
    foreign = new_customer(branch="12101", manager=users["cm3"], name="陈大文")
    assign_perm("customers.view_customer", users["cm2"], own)
    return {"users": users, "own": own, "colleague": colleague, "foreign": foreign}

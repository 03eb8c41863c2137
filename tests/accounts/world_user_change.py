"""The URL harness's objects of a change of a user's roles and branch
(accounts.user_changes): a second system administrator, and at each manager's outlet
three client managers without customers: one to ask a change for, one whose
change the second administrator asked for (demo_admin decides on it), and one whose
change demo_admin asked for (demo_admin withdraws it)."""

from __future__ import annotations

import datetime

# the sub-branch above each manager's outlet (tests/url_world.py::WHO_BRANCH)
SUB_BRANCH = {"cm1": "11100", "cm2": "11100", "cm3": "12100"}


def build(world, today: datetime.date) -> None:
    from accounts.roles import Role
    from accounts.services import user_provision
    from accounts.user_changes import user_change_request
    from tests.url_world import PASSWORD, WHO_BRANCH

    def provision(username: str, employee_no: str, role: str, branch: str):
        return user_provision(
            username=username,
            employee_no=employee_no,
            display_name=username,
            branch=world.org[branch],
            roles=[role],
            password=PASSWORD,
            source="test",
        )

    second_admin = provision("admin_uc", "HUC000", Role.SYSTEM_ADMIN, "10000")
    world.users["admin_uc"] = second_admin
    subjects, changes, own_changes = {}, {}, {}
    for who, outlet in WHO_BRANCH.items():
        subjects[who] = provision(f"uc_subject_{who}", f"HUCS{outlet}", Role.CLIENT_MANAGER, outlet)
        for by, into, prefix in (
            (second_admin, changes, "HUCM"),
            (world.users["demo_admin"], own_changes, "HUCO"),
        ):
            mover = provision(f"uc_{prefix.lower()}_{who}", f"{prefix}{outlet}", Role.CLIENT_MANAGER, outlet)
            into[who] = user_change_request(
                user=mover,
                roles=[Role.BRANCH_HEAD],
                branch=world.org[SUB_BRANCH[who]],
                reason="promotion",
                requested_by=by,
            )
    world.objects["user_change_subject"] = subjects
    world.objects["user_change"] = changes
    world.objects["own_user_change"] = own_changes

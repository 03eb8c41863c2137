"""Roles and what each may do.

Roles are Django groups named by `Role` values. Each app lists the permissions its
roles get in its own `roles.py` (`GRANTS = {Role.X: ["app_label.codename", ...]}`);
`sync_roles()` collects them all and makes the groups match, idempotently, after
every migrate. The code is the source of truth for roles; a change made by hand in
the admin is audited and undone by the next deploy.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLIENT_MANAGER = "client_manager", _("Client manager")
    BRANCH_HEAD = "branch_head", _("Branch head")
    BUSINESS_MANAGER = "business_manager", _("Business manager")
    PARAMETER_MANAGER = "parameter_manager", _("Parameter manager")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Head-office roles see every customer; a branch head sees their branch subtree; a
# client manager sees the customers assigned to them plus explicit grants.
HEAD_OFFICE_ROLES = frozenset(
    {Role.BUSINESS_MANAGER, Role.PARAMETER_MANAGER, Role.AUDITOR, Role.SYSTEM_ADMIN}
)
# Roles that work in the Django admin (parameters, reference tables, audit reading).
STAFF_ROLES = frozenset({Role.PARAMETER_MANAGER, Role.AUDITOR, Role.SYSTEM_ADMIN})

GRANTS: dict[str, list[str]] = {
    Role.SYSTEM_ADMIN: [
        "accounts.view_user",
        "accounts.request_user",
        "accounts.disable_user",
        "accounts.approve_user",
        "accounts.request_user_change",
        "accounts.approve_user_change",
        "accounts.view_branch",
        "accounts.add_branch",
        "accounts.change_branch",
        "accounts.view_auditevent",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        "django_celery_beat.change_crontabschedule",
    ],
    Role.AUDITOR: [
        "accounts.view_user",
        "accounts.approve_user",
        "accounts.view_branch",
        "accounts.view_auditevent",
        "accounts.add_findingreview",
    ],
    Role.BRANCH_HEAD: ["accounts.view_user", "accounts.request_user"],
    Role.BUSINESS_MANAGER: ["accounts.view_user", "accounts.view_branch"],
    Role.PARAMETER_MANAGER: [
        "accounts.view_branch",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        "django_celery_beat.change_crontabschedule",
    ],
    Role.CLIENT_MANAGER: [],
}


def collected_grants() -> dict[str, set[str]]:
    """Every app's grants, merged by role."""
    merged: dict[str, set[str]] = {role: set() for role in Role.values}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.roles")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.roles":
                raise
            continue
        for role, perms in getattr(module, "GRANTS", {}).items():
            merged[str(role)].update(perms)
    return merged


def sync_roles() -> None:
    """Create the role groups and give each exactly its permissions (idempotent).
    Permissions not created yet (an app not migrated yet) are picked up next time."""
    wanted = collected_grants()
    all_names = {name for names in wanted.values() for name in names}
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={n.split(".", 1)[1] for n in all_names}
        )
    }
    for role, names in wanted.items():
        group, _created = Group.objects.get_or_create(name=role)
        perm_ids = {by_name[n].pk for n in names if n in by_name}
        current = set(group.permissions.values_list("pk", flat=True))
        if current != perm_ids:
            group.permissions.set(perm_ids)


def sync_roles_after_migrate(sender, **kwargs) -> None:
    # Runs after each app's migrations; cheap and idempotent, so the last run sees
    # every app's permissions.
    if kwargs.get("using", "default") != "default":
        return
    if not apps.is_installed("django.contrib.auth"):
        return
    sync_roles()


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role

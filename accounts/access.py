"""What the signed-in user may do, read once a request in one statement: their roles
(the names of their groups: `accounts.scope.user_roles`) and their own and their
groups' permissions (ModelBackend's two caches: `accounts.backends`). Every page
needs both: the data scope reads the roles, the menu the permissions. The statement
is the ORM's, compiled once per process (`core.compiled`)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, IntegerField, Value

from core.compiled import CompiledRead

from .roles import Role

OWN, HELD, ROLE = 1, 2, 3


def _statement(user_id: int):
    fields = ("content_type__app_label", "codename")
    own = Permission.objects.filter(user=user_id).values_list(*fields, Value(OWN, IntegerField()))
    held = Permission.objects.filter(group__user=user_id).values_list(*fields, Value(HELD, IntegerField()))
    roles = Group.objects.filter(user=user_id).values_list(
        Value("", CharField()), "name", Value(ROLE, IntegerField())
    )
    return own.order_by().union(held.order_by(), roles.order_by(), all=True)


_ACCESS = CompiledRead(Permission, _statement)


def read_access(user) -> None:
    """Fill the user's role cache and, unless a superuser (who holds every permission
    without it), ModelBackend's permission caches, from one statement; a cache
    already filled in this request is kept."""
    found: dict[int, set[str]] = {OWN: set(), HELD: set(), ROLE: set()}
    for app_label, name, source in _ACCESS.rows(user.pk):
        found[source].add(f"{app_label}.{name}" if source != ROLE else name)
    if getattr(user, "_role_cache", None) is None:
        user._role_cache = frozenset(found[ROLE] & set(Role.values))
    if not user.is_superuser:
        if not hasattr(user, "_user_perm_cache"):
            user._user_perm_cache = found[OWN]
        if not hasattr(user, "_group_perm_cache"):
            user._group_perm_cache = found[HELD]

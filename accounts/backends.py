"""The portal's user backend: Django's ModelBackend with fewer and cheaper queries on
every page. It reads a signed-in user with their branch in one query (nearly every
page asks for the branch: the user's data scope, `accounts.scope.data_scope`), and
the user's own and their groups' permissions with their roles in one query
(`accounts.access`: the menu reads the permissions, the scope the roles), both
statements compiled once per process."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from core.compiled import CompiledRead

from .access import read_access


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _signed_in(user_id: int):
    """The user's columns, then their branch's (none when they have no branch)."""
    model = get_user_model()
    branch = model._meta.get_field("branch").related_model
    return model._default_manager.filter(pk=user_id).values_list(
        *_columns(model), *(f"branch__{column}" for column in _columns(branch))
    )


_SIGNED_IN = CompiledRead(settings.AUTH_USER_MODEL, _signed_in)


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        """The user with their branch, as `select_related("branch")` reads them, from
        a statement compiled once per process (`core.compiled`)."""
        model = get_user_model()
        alias = _SIGNED_IN.alias()
        rows = _SIGNED_IN.rows(user_id)
        if not rows:
            return None
        columns = _columns(model)
        user = model.from_db(alias, columns, rows[0][: len(columns)])
        field = model._meta.get_field("branch")
        branch = None
        if user.branch_id is not None:
            related = field.related_model
            branch = related.from_db(alias, _columns(related), rows[0][len(columns) :])
        field.set_cached_value(user, branch)
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        """ModelBackend's answer, with the user's own and their groups' permissions
        read in the one query that reads the roles (both of ModelBackend's caches
        filled, `accounts.access`)."""
        plain = user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser
        if plain and not (hasattr(user_obj, "_user_perm_cache") and hasattr(user_obj, "_group_perm_cache")):
            read_access(user_obj)  # with the roles, in one statement
        return super().get_all_permissions(user_obj, obj)

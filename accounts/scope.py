"""Who may see what: the one place that answers "which branches can this user see"
and "which kind of scope does this user have". The customer data scope
(`customers.querysets.customer_scope`, behind every model's `visible_to(user)`) is
built on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .access import read_access
from .models import Branch, BranchQuerySet
from .roles import HEAD_OFFICE_ROLES, Role


class ScopeKind(enum.Enum):
    NONE = "none"
    OWN = "own"  # client manager: assigned customers and explicit grants
    SUBTREE = "subtree"  # branch head: the branch and everything below it
    ALL = "all"  # head-office roles


@dataclass(frozen=True)
class DataScope:
    kind: ScopeKind
    branch: Branch | None = None

    @property
    def sees_all(self) -> bool:
        return self.kind is ScopeKind.ALL


def user_roles(user) -> frozenset[str]:
    """The user's roles, read once per request object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if getattr(user, "_role_cache", None) is None:
        read_access(user)  # the roles with the permissions, in one statement
    return user._role_cache


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def data_scope(user) -> DataScope:
    """The widest scope among the user's roles."""
    roles = user_roles(user)
    if not roles and not getattr(user, "is_superuser", False):
        return DataScope(ScopeKind.NONE)
    if user.is_superuser or roles & HEAD_OFFICE_ROLES:
        return DataScope(ScopeKind.ALL)
    if Role.BRANCH_HEAD in roles and user.branch_id:
        return DataScope(ScopeKind.SUBTREE, user.branch)
    if Role.CLIENT_MANAGER in roles:
        return DataScope(ScopeKind.OWN, user.branch)
    return DataScope(ScopeKind.NONE)


def visible_branches(user) -> BranchQuerySet:
    """Branches whose data (customers, users, figures) the user may see."""
    scope = data_scope(user)
    if scope.kind is ScopeKind.ALL:
        return Branch.objects.all()
    if scope.kind is ScopeKind.SUBTREE:
        assert scope.branch is not None  # a subtree scope always has its root
        return Branch.objects.subtree(scope.branch)
    if scope.kind is ScopeKind.OWN and scope.branch is not None:
        return Branch.objects.filter(pk=scope.branch.pk)
    return Branch.objects.none()


def can(user, permission: str) -> bool:
    """May this user do X? Role permissions through Django's permission system."""
    return bool(getattr(user, "is_active", False)) and user.has_perm(permission)

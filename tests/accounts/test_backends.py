"""The portal's user backend (accounts.backends): ModelBackend's answers, in fewer
queries."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.backends import PortalModelBackend
from accounts.models import Branch, User, UserStatus
from accounts.roles import Role
from accounts.scope import user_roles

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_the_signed_in_user_comes_with_their_branch_in_one_query(make_user, django_assert_num_queries):
    user = make_user(Role.CLIENT_MANAGER, branch_code="11101")
    with django_assert_num_queries(1):
        found = PortalModelBackend().get_user(user.pk)
        assert found.branch.code == "11101"


def test_the_signed_in_user_is_the_one_the_orm_reads(make_user, django_assert_num_queries):
    """Every column as `select_related("branch")` gives it (dates and flags converted
    as the ORM converts them, on SQLite too), and a user without a branch has none
    without a further query."""
    user = make_user(Role.BRANCH_HEAD, branch_code="11100")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    expected = User.objects.select_related("branch").get(pk=user.pk)
    found = PortalModelBackend().get_user(user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(found.last_login, datetime.datetime)
    assert found._state.db == expected._state.db and not found._state.adding
    for field in Branch._meta.concrete_fields:
        assert getattr(found.branch, field.attname) == getattr(expected.branch, field.attname), field.name
    found.save(update_fields=["first_name"])  # a model instance like any other
    nowhere = make_user(Role.CLIENT_MANAGER)
    User.objects.filter(pk=nowhere.pk).update(branch=None)
    with django_assert_num_queries(1):
        assert PortalModelBackend().get_user(nowhere.pk).branch is None


def test_roles_and_permissions_come_in_one_query_whichever_is_asked_first(
    make_user, django_assert_num_queries
):
    user = make_user(Role.BRANCH_HEAD)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="view_auditevent")
    )
    expected = ModelBackend().get_all_permissions(_fresh(user))
    roles_first, permissions_first = _fresh(user), _fresh(user)
    with django_assert_num_queries(1):
        assert user_roles(roles_first) == {Role.BRANCH_HEAD}
        assert roles_first.get_all_permissions() == expected
    with django_assert_num_queries(1):
        assert permissions_first.get_all_permissions() == expected
        assert user_roles(permissions_first) == {Role.BRANCH_HEAD}
    # a superuser holds every permission without the caches: only the roles are kept
    boss = _fresh(make_user(Role.CLIENT_MANAGER))
    boss.is_superuser = True
    assert user_roles(boss) == {Role.CLIENT_MANAGER}
    assert not hasattr(boss, "_user_perm_cache")
    assert len(boss.get_all_permissions()) == Permission.objects.count()


def test_no_user_for_an_inactive_or_unknown_id(make_user):
    user = make_user(Role.CLIENT_MANAGER)
    User.objects.filter(pk=user.pk).update(is_active=False, status=UserStatus.DISABLED)
    assert PortalModelBackend().get_user(user.pk) is None
    assert PortalModelBackend().get_user(10**9) is None


def test_own_and_group_permissions_are_modelbackends_in_one_query(make_user, django_assert_num_queries):
    user = make_user(Role.CLIENT_MANAGER)
    own = Permission.objects.get(content_type__app_label="accounts", codename="view_auditevent")
    user.user_permissions.add(own)
    backend, reference = PortalModelBackend(), ModelBackend()

    checked = _fresh(user)
    with django_assert_num_queries(1):
        granted = backend.get_all_permissions(checked)
        assert backend.has_perm(checked, "accounts.view_auditevent")
        assert backend.get_user_permissions(checked) == {"accounts.view_auditevent"}
    expected = _fresh(user)
    assert granted == reference.get_all_permissions(expected)
    assert backend.get_group_permissions(checked) == reference.get_group_permissions(expected)
    assert "accounts.view_auditevent" not in backend.get_group_permissions(checked)
    assert len(backend.get_group_permissions(checked)) > 5  # the role's permissions
    assert not backend.has_perm(checked, "accounts.delete_user")


def test_inactive_users_have_no_permission_and_superusers_every_one(make_user):
    user = make_user(Role.BRANCH_HEAD)
    user.is_active = False
    assert PortalModelBackend().get_all_permissions(user) == set()
    boss = _fresh(make_user(Role.CLIENT_MANAGER))
    boss.is_superuser = True
    assert PortalModelBackend().get_all_permissions(boss) == {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    }


def test_an_object_permission_is_not_this_backends_to_grant(make_user):
    user = _fresh(make_user(Role.CLIENT_MANAGER))
    assert PortalModelBackend().get_all_permissions(user, obj=user) == set()

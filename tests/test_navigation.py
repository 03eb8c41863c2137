"""The navigation reads the user's permissions once and each address once per
process: it must show exactly what asking `user.has_perm` entry by entry showed, to
every kind of user, and the right addresses under any script prefix."""

from __future__ import annotations

import pytest
from django.urls import get_script_prefix, set_script_prefix

from accounts.models import User
from crm_portal.navigation import (
    NAVIGATION,
    AnyOfNavItem,
    NavGroup,
    NavItem,
    Viewer,
    flatten,
    navigation_menu,
)
from demo.org import DEMO_USERS

pytestmark = pytest.mark.django_db


def _items() -> list[NavItem]:
    return [
        item for entry in NAVIGATION for item in (entry.items if isinstance(entry, NavGroup) else (entry,))
    ]


def _permissions() -> set[str]:
    named = {item.permission for item in _items() if item.permission}
    return named | {p for item in _items() if isinstance(item, AnyOfNavItem) for p in item.any_of}


@pytest.fixture
def people(demo_users, make_user) -> dict[str, User]:
    admin = make_user("client_manager", "11101", username="root")
    admin.is_superuser = admin.is_staff = True
    admin.save(update_fields=["is_superuser", "is_staff"])
    gone = make_user("branch_head", "11100", username="gone")  # keeps the role's groups
    User.objects.filter(pk=gone.pk).update(is_active=False, status="disabled")
    return {**demo_users, "root": admin, "gone": User.objects.get(pk=gone.pk)}


def test_each_entry_shows_as_has_perm_answers_for_every_kind_of_user(people):
    assert len(_permissions()) > 30  # the menu's permissions, all of them
    for name, user in people.items():
        viewer = Viewer(User.objects.get(pk=user.pk))
        fresh = User.objects.get(pk=user.pk)
        differ = {
            p for p in _permissions() | {"no_app.no_such_permission"} if viewer.may(p) != fresh.has_perm(p)
        }
        assert not differ, (name, differ)


def test_a_superuser_sees_every_page_and_an_inactive_user_none_that_asks_a_permission(people):
    menu = {link["url_name"] for link in flatten(navigation_menu(people["root"]))}
    assert menu == {
        item.url_name for item in _items() if item.url_name != "care:meeting"
    }  # not a branch head
    menu = {link["url_name"] for link in flatten(navigation_menu(people["gone"]))}
    assert menu == {"home"}


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_the_menu_reads_the_permissions_and_roles_once(people, username, django_assert_max_num_queries):
    user = User.objects.get(pk=people[username].pk)
    # the user's and their groups' permissions, their roles, their branch (the scope)
    with django_assert_max_num_queries(4):
        menu = navigation_menu(user)
    assert flatten(menu)


def test_the_addresses_follow_the_script_prefix(demo_users):
    user = demo_users["demo_cm1"]
    before = get_script_prefix()
    try:
        set_script_prefix("/crm/")
        prefixed = {link["url_name"]: link["url"] for link in flatten(navigation_menu(user))}
    finally:
        set_script_prefix(before)
    plain = {link["url_name"]: link["url"] for link in flatten(navigation_menu(user))}
    assert prefixed["customers:list"] == "/crm/customers/" and plain["customers:list"] == "/customers/"
    assert all(prefixed[name] == "/crm" + url for name, url in plain.items())

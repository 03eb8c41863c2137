"""Spreadsheet import of the org tree and of user accounts (django-import-export in
the admin): users are requested, never active, audited, and need approval."""

import pytest
import tablib

from accounts.audit import Action
from accounts.models import AuditEvent, Branch, User, UserStatus
from accounts.resources import BranchResource, UserResource
from accounts.roles import Role
from accounts.services import user_approve

pytestmark = pytest.mark.django_db

USER_HEADERS = ["username", "employee_no", "display_name", "branch", "email", "mobile", "roles"]


def users(*rows):
    return tablib.Dataset(*rows, headers=USER_HEADERS)


def test_imported_users_are_pending_requests_audited_and_need_approval(make_user):
    admin = make_user(Role.SYSTEM_ADMIN, "10000")
    result = UserResource().import_data(
        users(
            ["zhang.wei", "e7001", "张伟", "11101", "zw@example.com", "13800000001", "client_manager"],
            ["li.na", "E7002", "李娜", "11100", "", "", "branch_head; client_manager"],
        ),
        dry_run=False,
        user=admin,
    )
    assert not result.has_errors() and not result.has_validation_errors()
    created = {u.username: u for u in User.objects.filter(username__in=["zhang.wei", "li.na"])}
    assert set(created) == {"zhang.wei", "li.na"}
    for user in created.values():
        assert user.status == UserStatus.PENDING and not user.is_active
        assert user.proposed_by == admin and user.must_change_password
    assert created["zhang.wei"].employee_no == "E7001"
    assert set(created["li.na"].groups.values_list("name", flat=True)) == {"branch_head", "client_manager"}
    events = AuditEvent.objects.filter(action=Action.USER_REQUESTED, actor=admin)
    assert events.count() == 2
    # maker-checker: someone else approves
    auditor = make_user(Role.AUDITOR, "10000")
    assert user_approve(user=created["zhang.wei"], approved_by=auditor).is_active


def test_user_import_refuses_existing_users_bad_roles_and_the_unauthorised(make_user):
    admin = make_user(Role.SYSTEM_ADMIN, "10000")
    existing = make_user(Role.CLIENT_MANAGER)
    result = UserResource().import_data(
        users(
            [existing.username, "E7003", "x", "11101", "", "", "client_manager"],
            ["new.one", "E7004", "x", "11101", "", "", "wizard"],
            ["new.two", "E7005", "x", "", "", "", "client_manager"],
        ),
        dry_run=False,
        user=admin,
    )
    assert len(result.invalid_rows) == 3
    assert not User.objects.filter(username__in=["new.one", "new.two"]).exists()
    manager = make_user(Role.CLIENT_MANAGER)
    result = UserResource().import_data(
        users(["new.three", "E7006", "x", "11101", "", "", "client_manager"]), dry_run=False, user=manager
    )
    assert result.has_validation_errors() or result.has_errors()
    assert not User.objects.filter(username="new.three").exists()


def test_a_dry_run_creates_nothing(make_user):
    admin = make_user(Role.SYSTEM_ADMIN, "10000")
    result = UserResource().import_data(
        users(["dry.run", "E7007", "x", "11101", "", "", "client_manager"]), dry_run=True, user=admin
    )
    assert not result.has_errors()
    assert not User.objects.filter(username="dry.run").exists()
    assert not AuditEvent.objects.filter(
        action=Action.USER_REQUESTED, details__roles=["client_manager"], actor=admin
    ).exists()


def test_branch_import_creates_renames_and_keeps_the_tree(make_user, org):
    admin = make_user(Role.SYSTEM_ADMIN, "10000")
    data = tablib.Dataset(
        ["11103", "清华园网点", 3, "11100", 1],
        ["11101", "中关村旗舰网点", 3, "11100", 1],
        headers=["code", "name", "level", "parent", "is_active"],
    )
    result = BranchResource().import_data(data, dry_run=False, user=admin)
    assert not result.has_errors() and not result.has_validation_errors()
    new = Branch.objects.get(code="11103")
    assert new.path == "10000/11000/11100/11103/" and new.level == 3
    assert Branch.objects.get(code="11101").name == "中关村旗舰网点"
    assert AuditEvent.objects.filter(action=Action.PARAMETER_CHANGED, target_type="accounts.branch").exists()
    # a parent or level never changes; a level must follow the parent's
    bad = tablib.Dataset(
        ["11101", "中关村网点", 3, "11200", 1],
        ["11104", "错层网点", 2, "11100", 1],
        headers=["code", "name", "level", "parent", "is_active"],
    )
    result = BranchResource().import_data(bad, dry_run=False, user=admin)
    assert len(result.invalid_rows) + len(result.error_rows) == 2
    assert Branch.objects.get(code="11101").parent.code == "11100"
    assert not Branch.objects.filter(code="11104").exists()


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.SYSTEM_ADMIN, True),
        (Role.AUDITOR, False),
        (Role.PARAMETER_MANAGER, False),
        (Role.CLIENT_MANAGER, False),
    ],
)
def test_import_pages_for_administrators_only(make_user, login, role, allowed):
    client = login(make_user(role, "10000"))
    for url in ("/admin/accounts/user/import/", "/admin/accounts/branch/import/"):
        response = client.get(url)
        assert (response.status_code == 200) is allowed, (role, url, response.status_code)
    if allowed:
        assert b"import" in client.get("/admin/accounts/user/").content.lower()

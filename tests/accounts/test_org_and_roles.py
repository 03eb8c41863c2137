import pytest
from django.contrib.auth.models import Group

from accounts.audit import Action
from accounts.models import AuditEvent, Branch, BranchLevel
from accounts.roles import Role, sync_roles
from accounts.scope import ScopeKind, data_scope, visible_branches
from accounts.services import branch_create


@pytest.mark.django_db
class TestOrgTree:
    def test_subtree_of_a_branch(self, org, django_assert_num_queries):
        with django_assert_num_queries(1):
            codes = sorted(Branch.objects.subtree(org["11000"]).values_list("code", flat=True))
        assert codes == ["11000", "11100", "11101", "11102", "11200", "11201", "11202"]

    def test_subtree_of_head_office_is_everything_and_of_an_outlet_itself(self, org):
        assert Branch.objects.subtree(org["10000"]).count() == 15
        assert list(Branch.objects.subtree(org["12201"])) == [org["12201"]]

    def test_similar_code_prefixes_do_not_leak(self, org):
        # "1110" is a prefix of "11101" as a string; the path separator keeps them apart
        odd = branch_create(code="1110", name="odd", level=BranchLevel.SUB_BRANCH, parent=org["11000"])
        assert odd not in Branch.objects.subtree(org["11100"])
        assert org["11101"] not in Branch.objects.subtree(odd)

    def test_path_and_ancestors(self, org):
        assert org["12102"].path == "10000/12000/12100/12102/"
        assert org["12102"].ancestor_codes() == ["10000", "12000", "12100", "12102"]
        assert org["12102"].is_within(org["12000"]) and not org["12102"].is_within(org["11000"])

    def test_levels_must_follow_the_tree(self, org):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            branch_create(code="99999", name="x", level=BranchLevel.OUTLET, parent=org["11000"])
        with pytest.raises(ValidationError):
            branch_create(code="99998", name="x", level=BranchLevel.BRANCH, parent=None)


@pytest.mark.django_db
class TestRoles:
    def test_every_role_is_a_group(self, org):
        assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)

    @pytest.mark.parametrize(
        ("role", "allowed", "denied"),
        [
            (
                Role.CLIENT_MANAGER,
                [],
                ["accounts.view_user", "accounts.approve_user", "accounts.view_auditevent"],
            ),
            (
                Role.BRANCH_HEAD,
                ["accounts.view_user", "accounts.request_user"],
                ["accounts.approve_user", "accounts.disable_user"],
            ),
            (
                Role.AUDITOR,
                ["accounts.view_auditevent", "accounts.approve_user"],
                ["accounts.disable_user", "accounts.request_user"],
            ),
            (
                Role.SYSTEM_ADMIN,
                ["accounts.request_user", "accounts.disable_user", "accounts.view_auditevent"],
                [],
            ),
            (
                Role.PARAMETER_MANAGER,
                ["django_celery_beat.change_periodictask"],
                ["accounts.approve_user", "accounts.view_auditevent"],
            ),
            (
                Role.BUSINESS_MANAGER,
                ["accounts.view_user"],
                ["accounts.approve_user", "accounts.disable_user"],
            ),
        ],
    )
    def test_role_permissions(self, make_user, role, allowed, denied):
        user = make_user(role, "10000")
        for perm in allowed:
            assert user.has_perm(perm), perm
        for perm in denied:
            assert not user.has_perm(perm), perm

    def test_sync_is_idempotent_and_silent_when_nothing_changes(self, org):
        before = AuditEvent.objects.filter(action=Action.PERMISSIONS_CHANGED).count()
        sync_roles()
        sync_roles()
        assert AuditEvent.objects.filter(action=Action.PERMISSIONS_CHANGED).count() == before

    def test_sync_restores_a_permission_removed_by_hand(self, org):
        group = Group.objects.get(name=Role.AUDITOR)
        group.permissions.clear()
        sync_roles()
        assert group.permissions.filter(codename="view_auditevent").exists()

    def test_staff_flag_follows_the_role(self, make_user):
        assert make_user(Role.PARAMETER_MANAGER, "10000").is_staff
        assert not make_user(Role.CLIENT_MANAGER).is_staff


@pytest.mark.django_db
class TestScope:
    @pytest.mark.parametrize(
        ("role", "branch", "kind", "count"),
        [
            (Role.BUSINESS_MANAGER, "10000", ScopeKind.ALL, 15),
            (Role.AUDITOR, "10000", ScopeKind.ALL, 15),
            (Role.BRANCH_HEAD, "11100", ScopeKind.SUBTREE, 3),
            (Role.BRANCH_HEAD, "12000", ScopeKind.SUBTREE, 7),
            (Role.CLIENT_MANAGER, "11101", ScopeKind.OWN, 1),
        ],
    )
    def test_scope_by_role(self, make_user, role, branch, kind, count):
        user = make_user(role, branch)
        assert data_scope(user).kind is kind
        assert visible_branches(user).count() == count

    def test_a_user_without_role_sees_nothing(self, org):
        from accounts.models import User

        user = User.objects.create_user(
            username="norole",
            employee_no="X1",
            display_name="x",
            status="active",
            is_active=True,
            branch=org["11101"],
        )
        assert data_scope(user).kind is ScopeKind.NONE
        assert not visible_branches(user).exists()

    def test_the_widest_role_wins(self, make_user):
        user = make_user(Role.CLIENT_MANAGER, "11101")
        user.groups.add(Group.objects.get(name=Role.BRANCH_HEAD))
        user = type(user).objects.get(pk=user.pk)
        assert data_scope(user).kind is ScopeKind.SUBTREE

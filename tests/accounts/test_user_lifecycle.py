import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User, UserStatus
from accounts.roles import Role
from accounts.services import user_approve, user_request
from tests.conftest import PASSWORD

REQUEST = {
    "username": "zhang.wei",
    "employee_no": "e7788",
    "display_name": "张伟",
    "roles": [Role.CLIENT_MANAGER],
    "email": "zw@bank.example",
    "mobile": "13800138000",
    "password": PASSWORD,
}


def _log_in(client, username, password):
    assert client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302


@pytest.mark.django_db
class TestRequestApproveDisable:
    def test_the_whole_lifecycle_through_the_pages(self, client, demo_users, demo_password, org):
        # given a system administrator requests an account
        _log_in(client, "demo_admin", demo_password)
        response = client.post("/accounts/users/request/", {**REQUEST, "branch": org["11101"].pk})
        user = User.objects.get(username="zhang.wei")
        assert response.status_code == 302
        assert (user.status, user.is_active, user.employee_no) == (UserStatus.PENDING, False, "E7788")
        # the requester cannot approve their own request
        assert client.post(f"/accounts/users/{user.pk}/approve/").status_code == 403
        user.refresh_from_db()
        assert user.status == UserStatus.PENDING
        # when an auditor (information centre) approves it
        client.post("/accounts/logout/")
        _log_in(client, "demo_audit", demo_password)
        client.post(f"/accounts/users/{user.pk}/approve/")
        user.refresh_from_db()
        assert user.status == UserStatus.ACTIVE and user.decided_by == demo_users["demo_audit"]
        # then the new user can log in, and must first choose their own password
        client.post("/accounts/logout/")
        _log_in(client, "zhang.wei", PASSWORD)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"] == "/accounts/password/"
        client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "Another-Pass-77",
                "new_password2": "Another-Pass-77",
            },
        )
        assert client.get("/").status_code == 200
        # and when the system administrator disables them, they are out
        admin_client = type(client)()
        _log_in(admin_client, "demo_admin", demo_password)
        admin_client.post(f"/accounts/users/{user.pk}/disable/", {"reason": "left the bank"})
        user.refresh_from_db()
        assert user.status == UserStatus.DISABLED
        assert client.get("/").status_code == 302

    def test_request_form_rejects_bad_input_and_keeps_nothing(self, client, demo_users, demo_password, org):
        _log_in(client, "demo_admin", demo_password)
        response = client.post(
            "/accounts/users/request/",
            {
                **REQUEST,
                "username": "demo_cm1",
                "mobile": "12345",
                "password": "short",
                "branch": org["11101"].pk,
            },
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert {"username", "mobile"} <= set(errors)
        assert not User.objects.filter(employee_no="E7788").exists()

    def test_weak_password_is_reported_on_the_form(self, client, demo_users, demo_password, org):
        _log_in(client, "demo_admin", demo_password)
        response = client.post(
            "/accounts/users/request/", {**REQUEST, "password": "abcdefghij", "branch": org["11101"].pk}
        )
        assert response.status_code == 200
        assert not User.objects.filter(username="zhang.wei").exists()
        assert response.context["form"].non_field_errors()

    def test_a_client_manager_may_not_request_or_approve(self, client, demo_users, demo_password, org):
        _log_in(client, "demo_cm1", demo_password)
        assert client.get("/accounts/users/request/").status_code == 403
        assert client.get("/accounts/users/").status_code == 403

    def test_reject_needs_a_reason(self, client, demo_users, demo_password, org):
        pending = user_request(
            requested_by=demo_users["demo_admin"],
            username="p1",
            employee_no="P1",
            display_name="p",
            branch=org["11101"],
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
        )
        _log_in(client, "demo_audit", demo_password)
        response = client.post(f"/accounts/users/{pending.pk}/reject/", {"reason": ""}, follow=True)
        assert "Give a reason (at least 4 characters)." in response.content.decode()
        pending.refresh_from_db()
        assert pending.status == UserStatus.PENDING

    def test_a_branch_head_sees_only_users_of_their_subtree(self, client, demo_users, demo_password):
        _log_in(client, "demo_bh", demo_password)
        response = client.get("/accounts/users/")
        names = {u.username for u in response.context["users"]}
        assert {"demo_cm1", "demo_cm2", "demo_bh"} <= names
        assert "demo_cm3" not in names and "demo_admin" not in names
        other = demo_users["demo_cm3"]
        assert client.get(f"/accounts/users/{other.pk}/").status_code == 404


@pytest.mark.django_db
class TestServiceRules:
    def test_maker_cannot_be_checker(self, demo_users, org):
        admin_user = demo_users["demo_admin"]
        user = user_request(
            requested_by=admin_user,
            username="p2",
            employee_no="P2",
            display_name="p",
            branch=org["11101"],
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
        )
        with pytest.raises(PermissionDenied):
            user_approve(user=user, approved_by=admin_user)

    def test_only_pending_accounts_are_approved(self, demo_users):
        with pytest.raises(ValidationError):
            from accounts.services import user_disable

            disabled = user_disable(
                user=demo_users["demo_cm2"], disabled_by=demo_users["demo_admin"], reason="x"
            )
            user_approve(user=disabled, approved_by=demo_users["demo_audit"])

    def test_unknown_role_is_refused(self, demo_users, org):
        with pytest.raises(ValidationError):
            user_request(
                requested_by=demo_users["demo_admin"],
                username="p3",
                employee_no="P3",
                display_name="p",
                branch=org["11101"],
                roles=["emperor"],
                password=PASSWORD,
            )

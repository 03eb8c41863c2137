import psycopg
import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from accounts.audit import Action, audit
from accounts.models import AuditEvent
from accounts.roles import Role
from accounts.services import user_approve, user_request
from tests.conftest import PASSWORD


@pytest.mark.django_db
class TestEventsAreWritten:
    def test_login_is_audited_with_address(self, client, make_user):
        user = make_user(Role.CLIENT_MANAGER)
        client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.2.3.4"
        )
        event = AuditEvent.objects.get(action=Action.LOGIN, actor=user)
        assert event.ip == "10.2.3.4"
        assert event.actor_username == user.username

    def test_failed_login_is_audited_without_the_password(self, client, make_user):
        user = make_user(Role.CLIENT_MANAGER)
        client.post(
            "/accounts/login/",
            {"username": user.username, "password": "Secret-guess-1"},
            REMOTE_ADDR="10.2.3.5",
        )
        event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
        assert event.actor_username == user.username and event.ip == "10.2.3.5"
        assert "Secret-guess-1" not in str(event.details)

    def test_logout_is_audited(self, client, login, make_user):
        user = make_user(Role.CLIENT_MANAGER)
        login(user)
        client.post("/accounts/logout/")
        assert AuditEvent.objects.filter(action=Action.LOGOUT, actor=user).exists()

    def test_request_and_approval_are_audited(self, demo_users):
        admin_user, auditor = demo_users["demo_admin"], demo_users["demo_audit"]
        user = user_request(
            requested_by=admin_user,
            username="n1",
            employee_no="N1",
            display_name="N",
            branch=admin_user.branch,
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
        )
        user_approve(user=user, approved_by=auditor)
        requested = AuditEvent.objects.get(action=Action.USER_REQUESTED, target_id=str(user.pk))
        approved = AuditEvent.objects.get(action=Action.USER_APPROVED, target_id=str(user.pk))
        assert requested.actor == admin_user and approved.actor == auditor

    def test_role_and_permission_changes_are_audited(self, make_user):
        user = make_user(Role.CLIENT_MANAGER)
        user.groups.add(Group.objects.get(name=Role.BRANCH_HEAD))
        event = AuditEvent.objects.filter(action=Action.ROLES_CHANGED, target_id=str(user.pk)).latest("id")
        assert Role.BRANCH_HEAD in event.details["roles"]
        user.user_permissions.add(Permission.objects.get(codename="approve_user"))
        assert AuditEvent.objects.filter(action=Action.PERMISSIONS_CHANGED, target_id=str(user.pk)).exists()

    def test_audit_takes_actor_and_address_from_the_request(self, make_user):
        user = make_user(Role.AUDITOR, "10000")
        request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9")
        request.user = user
        event = audit(Action.EXPORT, request=request, details={"rows": 3})
        assert (event.actor, event.ip, event.details) == (user, "10.9.9.9", {"rows": 3})


@pytest.mark.django_db
class TestAppendOnly:
    def test_an_event_cannot_be_changed_or_deleted_through_the_orm(self):
        event = audit(Action.EXPORT, actor_username="someone")
        event.action = "tampered"
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).action == Action.EXPORT

    def test_the_database_refuses_an_update_even_in_raw_sql(self):
        event = audit(Action.EXPORT, actor_username="someone")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_auditevent SET action = 'tampered' WHERE id = %s", [event.pk])
        assert AuditEvent.objects.get(pk=event.pk).action == Action.EXPORT

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="delete guard is a PostgreSQL trigger")
    def test_the_database_refuses_a_delete_inside_retention(self):
        event = audit(Action.EXPORT, actor_username="someone")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="truncate guard is a PostgreSQL trigger")
    @pytest.mark.django_db(transaction=True)
    def test_the_database_refuses_a_truncate(self):
        event = audit(Action.EXPORT, actor_username="someone")
        db = connection.settings_dict
        dsn = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        with psycopg.connect(dsn, autocommit=True) as plain:  # a session as the application opens one
            for statement in ("TRUNCATE accounts_auditevent", "TRUNCATE accounts_auditevent CASCADE"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be truncated"):
                    plain.execute(statement)
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_the_admin_is_read_only(self, rf, demo_users):
        request = rf.get("/admin/")
        request.user = demo_users["demo_admin"]
        model_admin = admin.site._registry[AuditEvent]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)

    def test_the_admin_change_form_does_not_save(self, client, login, demo_users, demo_password):
        event = audit(Action.EXPORT, actor_username="someone")
        client.post("/accounts/login/", {"username": "demo_admin", "password": demo_password})
        response = client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "tampered"})
        assert response.status_code in (302, 403)
        assert AuditEvent.objects.get(pk=event.pk).action == Action.EXPORT


@pytest.mark.django_db
def test_auditor_reads_and_filters_the_trail(client, demo_users, demo_password):
    audit(Action.EXPORT, actor_username="alice", details={"rows": 1})
    audit(Action.PII_REVEALED, actor_username="bob")
    client.post("/accounts/login/", {"username": "demo_audit", "password": demo_password})
    response = client.get("/accounts/audit/", {"action": Action.PII_REVEALED})
    assert response.status_code == 200
    events = list(response.context["events"])
    assert events and all(e.action == Action.PII_REVEALED for e in events)
    bad = client.get("/accounts/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "The start date is after the end date." in bad.content.decode()


@pytest.mark.django_db
def test_a_client_manager_cannot_read_the_trail(client, demo_users, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    assert client.get("/accounts/audit/").status_code == 403

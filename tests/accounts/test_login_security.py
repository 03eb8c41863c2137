import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import UserStatus
from accounts.roles import Role
from accounts.services import user_disable, user_request
from accounts.sessions import SessionRenewalMiddleware, SessionStore
from tests.conftest import PASSWORD


def _attempt(client, username, password, ip):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
class TestLockout:
    def test_repeated_failures_lock_that_username_from_that_address(self, client, make_user, settings):
        user = make_user(Role.CLIENT_MANAGER)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt(client, user.username, "wrong-password", "10.0.0.7")
        # the right password no longer works from that address
        response = _attempt(client, user.username, PASSWORD, "10.0.0.7")
        assert response.status_code == 429
        assert b'data-testid="locked-out"' in response.content
        assert "_auth_user_id" not in client.session

    def test_a_colleague_behind_the_same_nat_address_can_still_log_in(self, client, make_user, settings):
        victim = make_user(Role.CLIENT_MANAGER)
        colleague = make_user(Role.CLIENT_MANAGER)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt(client, victim.username, "wrong-password", "10.0.0.7")
        assert _attempt(client, colleague.username, PASSWORD, "10.0.0.7").status_code == 302

    def test_the_same_user_from_another_address_is_not_locked(self, client, make_user, settings):
        user = make_user(Role.CLIENT_MANAGER)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt(client, user.username, "wrong-password", "10.0.0.7")
        assert _attempt(client, user.username, PASSWORD, "10.0.0.8").status_code == 302

    def test_lockout_expires_after_the_cool_off(self, client, make_user, settings):
        user = make_user(Role.CLIENT_MANAGER)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt(client, user.username, "wrong-password", "10.0.0.7")
        assert _attempt(client, user.username, PASSWORD, "10.0.0.7").status_code == 429
        # when the cool-off time has passed
        past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
        AccessAttempt.objects.update(attempt_time=past)
        assert _attempt(client, user.username, PASSWORD, "10.0.0.7").status_code == 302

    def test_fewer_failures_than_the_limit_do_not_lock(self, client, make_user, settings):
        user = make_user(Role.CLIENT_MANAGER)
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            response = _attempt(client, user.username, "wrong-password", "10.0.0.7")
            assert response.status_code == 200
            assert b'data-testid="login-error"' in response.content
        assert _attempt(client, user.username, PASSWORD, "10.0.0.7").status_code == 302


@pytest.mark.django_db
class TestAccountState:
    def test_pending_user_cannot_log_in(self, client, demo_users):
        pending = user_request(
            requested_by=demo_users["demo_admin"],
            username="newcomer",
            employee_no="N1",
            display_name="New",
            branch=demo_users["demo_cm1"].branch,
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
        )
        assert pending.status == UserStatus.PENDING
        response = _attempt(client, "newcomer", PASSWORD, "10.0.0.9")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    def test_disabled_user_cannot_log_in(self, client, make_user, demo_users):
        user = make_user(Role.CLIENT_MANAGER)
        user_disable(user=user, disabled_by=demo_users["demo_admin"], reason="left the bank")
        assert _attempt(client, user.username, PASSWORD, "10.0.0.9").status_code == 200
        assert "_auth_user_id" not in client.session

    def test_disabling_ends_open_sessions_server_side(self, client, login, make_user, demo_users):
        user = make_user(Role.CLIENT_MANAGER)
        login(user)
        session_key = client.session.session_key
        assert client.get("/").status_code == 200
        # when an administrator disables the account, in another process
        user_disable(user=user, disabled_by=demo_users["demo_admin"], reason="left the bank")
        # then the session is gone from the server and the browser is sent to login
        assert not Session.objects.filter(session_key=session_key).exists()
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_logout_ends_the_session_server_side(self, client, login, make_user):
        user = make_user(Role.CLIENT_MANAGER)
        login(user)
        session_key = client.session.session_key
        client.post("/accounts/logout/")
        assert not Session.objects.filter(session_key=session_key).exists()
        # replaying the old cookie does not get back in
        client.cookies["sessionid"] = session_key
        assert client.get("/").status_code == 302


@pytest.mark.django_db
class TestSessionExpiry:
    def test_session_lasts_thirty_minutes_idle_and_is_renewed_on_use(self, client, login, make_user):
        login(make_user(Role.CLIENT_MANAGER))
        assert client.session.get_expiry_age() == 30 * 60
        session = Session.objects.get(session_key=client.session.session_key)
        session.expire_date = timezone.now() + timedelta(minutes=5)
        session.save()
        client.get("/")
        renewed = Session.objects.get(session_key=client.session.session_key)
        assert renewed.expire_date > timezone.now() + timedelta(minutes=29)

    def test_a_session_renewed_within_the_minute_is_not_rewritten_by_a_page(self, client, login, make_user):
        login(make_user(Role.CLIENT_MANAGER))
        key = client.session.session_key
        soon = timezone.now() + timedelta(minutes=29, seconds=30)  # renewed 30 s ago
        Session.objects.filter(session_key=key).update(expire_date=soon)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/accounts/password/").status_code == 200
        assert not [
            q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]
        ]
        assert Session.objects.get(session_key=key).expire_date == soon

    def test_a_session_older_than_the_renewal_interval_is_renewed_by_a_page(
        self, client, login, make_user, settings
    ):
        settings.SESSION_RENEW_AFTER = 60
        login(make_user(Role.CLIENT_MANAGER))
        key = client.session.session_key
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() + timedelta(minutes=28, seconds=59)
        )
        client.get("/accounts/password/")
        assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(
            minutes=29, seconds=50
        )

    def test_a_session_whose_data_changed_is_saved_however_recent(self, rf, settings):
        def view(request):
            request.session["chosen"] = "kept"
            return HttpResponse("ok")

        store = SessionStore()
        store["first"] = 1
        store.create()
        recent = timezone.now() + timedelta(minutes=29, seconds=50)
        Session.objects.filter(session_key=store.session_key).update(expire_date=recent)
        request = rf.get("/")
        request.COOKIES[settings.SESSION_COOKIE_NAME] = store.session_key
        SessionMiddleware(SessionRenewalMiddleware(view))(request)
        kept = SessionStore(store.session_key)
        assert kept["chosen"] == "kept" and kept["first"] == 1

    def test_the_store_reads_a_session_as_djangos_does(self, django_assert_num_queries):
        store = SessionStore()
        store["first"] = 1
        store.create()
        row = Session.objects.get(session_key=store.session_key)
        read = SessionStore(store.session_key)
        with django_assert_num_queries(1):
            assert read["first"] == 1
        assert read.stored_expiry == row.expire_date and read.session_key == store.session_key
        # an expired or unknown key reads as an empty session, which gets a new key
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        for key in (store.session_key, "x" * 32):
            gone = SessionStore(key)
            assert gone.load() == {} and gone.stored_expiry is None and gone.session_key is None

    def test_idle_session_expires(self, client, login, make_user):
        login(make_user(Role.CLIENT_MANAGER))
        Session.objects.filter(session_key=client.session.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
class TestHeaders:
    def test_pages_carry_security_headers(self, client, login, make_user):
        login(make_user(Role.CLIENT_MANAGER))
        response = client.get("/")
        csp = response["Content-Security-Policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'self'" in script_src and "unsafe-inline" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert "no-store" in response["Cache-Control"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_pages_have_no_inline_script(self, client, login, make_user):
        login(make_user(Role.CLIENT_MANAGER))
        html = client.get("/").content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag, f"inline script found: <script{tag}>"

    def test_weak_password_is_refused(self, demo_users):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            user_request(
                requested_by=demo_users["demo_admin"],
                username="weak",
                employee_no="W1",
                display_name="Weak",
                branch=demo_users["demo_cm1"].branch,
                roles=[Role.CLIENT_MANAGER],
                password="password123",
            )


def test_production_settings_pass_check_deploy():
    env = {
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.production",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-for-the-check",
        "ALLOWED_HOSTS": "crm.bank.example",
        "PII_ENCRYPTION_KEYS": "p1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "PII_BLIND_INDEX_KEY": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_a_missing_secret():
    env = {
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.production",
        "ALLOWED_HOSTS": "x",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr

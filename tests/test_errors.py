"""The portal's own error pages (403, 404, 500), and the embedded default that shows
them instead of Django's debug pages unless DEBUG is asked for."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import RequestFactory
from django.urls import path
from django.views.defaults import permission_denied, server_error

from crm_portal.urls import urlpatterns as portal_urlpatterns
from tests.browser import log_in
from tests.customers.factories import CustomerFactory

BASE_DIR = Path(__file__).resolve().parent.parent


def _fail(request):
    raise RuntimeError("a bug")


# The portal's addresses plus one that fails (see test_a_failing_page_*).
urlpatterns = [path("test-failure/", _fail), *portal_urlpatterns]


def _client_log_in(client, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_a_customer_outside_the_scope_is_the_portal_s_404_page(client, demo_users, demo_password, org):
    # given a customer of another outlet
    other = CustomerFactory(home_branch=org["12101"], name="欧阳修")
    _client_log_in(client, "demo_cm1", demo_password)
    # when the client manager opens its 360 view
    response = client.get(f"/customers/{other.customer_no}/")
    # then the portal's page answers, with its menu, and says neither who nor why
    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    page = response.content.decode()
    assert 'data-status="404"' in page
    assert '<h1 class="h3">Page not found</h1>' in page
    assert "This page does not exist, or you may not see it." in page
    assert 'href="/" data-testid="error-home"' in page
    assert 'data-testid="error-back"' in page
    assert 'data-testid="user-menu"' in page  # the navigation of base.html
    assert other.name not in page
    assert "URLconf" not in page and "customers:detail" not in page


@pytest.mark.django_db
def test_an_unknown_address_is_the_portal_s_404_page_for_anonymous_users_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert 'data-testid="user-menu"' not in page


@pytest.mark.django_db
def test_a_refused_page_is_the_portal_s_403_page_with_the_reason(client, demo_users, demo_password):
    _client_log_in(client, "demo_pm", demo_password)
    response = client.get("/customers/")
    assert response.status_code == 403
    page = response.content.decode()
    assert [t.name for t in response.templates][0] == "403.html"
    assert '<h1 class="h3">No access</h1>' in page
    assert "Your role does not let you use this page." in page
    assert 'href="/" data-testid="error-home"' in page
    assert 'data-testid="user-menu"' in page


@pytest.mark.django_db
def test_a_refusal_that_says_why_shows_the_reason(demo_users):
    # a service refuses with a sentence for the user (e.g. customers.permissions)
    request = RequestFactory().get("/somewhere/")
    request.user = demo_users["demo_cm1"]
    response = permission_denied(request, PermissionDenied("This customer is not in your scope."))
    assert response.status_code == 403
    assert 'data-testid="error-reason">This customer is not in your scope.<' in response.content.decode()


def test_the_500_page_renders_without_a_request_or_user():
    # Django's server_error view renders it with no context processors at all
    page = loader.get_template("500.html").render()
    assert 'data-status="500"' in page
    assert "Something went wrong on our side. The error has been logged." in page
    assert 'href="/" data-testid="error-home"' in page
    assert "{%" not in page and "user-menu" not in page


@pytest.mark.django_db
@pytest.mark.urls("tests.test_errors")
def test_a_failing_page_answers_the_portal_s_500_page(client, demo_users, demo_password):
    _client_log_in(client, "demo_cm1", demo_password)
    client.raise_request_exception = False
    response = client.get("/test-failure/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-status="500"' in page
    assert "Something went wrong" in page
    # the page was drawn without the user's context: no name, no menu, no token
    assert demo_users["demo_cm1"].display_name not in page
    assert "csrfmiddlewaretoken" not in page and "X-CSRFToken" not in page


def test_the_500_view_itself_needs_no_user():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b'data-status="500"' in response.content


def _local_settings(tmp_path: Path, **environment: str) -> dict:
    """Start Django with the embedded default's settings in a child process (as
    `make run` does) and report what it serves without a database."""
    script = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
css = client.get("/static/css/portal.css")
js = client.get("/static/js/layout.js")
missing = client.get("/no-such-page/")
print(json.dumps({
    "debug": settings.DEBUG,
    "css": [css.status_code, css.get("Content-Type", "")],
    "js": js.status_code,
    "missing": [missing.status_code, b'data-status="404"' in missing.content],
}))
"""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="crm_portal.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **environment,
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(
    (BASE_DIR / ".env").exists() and "DEBUG" in (BASE_DIR / ".env").read_text(),
    reason="a local .env sets DEBUG",
)
def test_the_embedded_default_shows_error_pages_and_still_serves_static_files(tmp_path):
    report = _local_settings(tmp_path)
    assert report["debug"] is False
    assert report["css"][0] == 200 and report["css"][1].startswith("text/css")
    assert report["js"] == 200
    assert report["missing"] == [404, True]


def test_debug_pages_when_asked_for(tmp_path):
    report = _local_settings(tmp_path, DEBUG="true")
    assert report["debug"] is True
    assert report["css"][0] == 200
    # Django's technical page, not the portal's
    assert report["missing"] == [404, False]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_back_returns_to_the_page_the_user_came_from(browser_page, live_server, demo_users, demo_password):
    page = browser_page
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # opened directly, there is nowhere to go back to: only "Home" shows
    log_in(page, live_server, "demo_pm", demo_password)
    page.goto(f"{live_server.url}/customers/")
    assert page.is_visible("[data-testid=error-home]")
    assert not page.is_visible("[data-testid=error-back]")
    # followed from the parameters page, "Back" returns there
    page.goto(f"{live_server.url}/vip/parameters/")
    page.evaluate(
        "() => { const a = document.createElement('a'); a.href = '/customers/'; a.id = 'refused';"
        " a.textContent = 'customers'; document.querySelector('main').appendChild(a); }"
    )
    page.click("#refused")
    page.wait_for_selector("[data-status='403']")
    page.click("[data-testid=error-back]")
    page.wait_for_url(f"{live_server.url}/vip/parameters/")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

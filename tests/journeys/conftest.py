"""The world of the browser journeys: the demo bank as `manage.py seed_demo` makes
it (a small number of customers, every page with real figures), built once for the
whole directory and served by one live server.

Built once, it is committed (the live server's threads read it) and emptied after
the last journey, as a transactional test leaves the database. The journeys carry
no `django_db` mark, so pytest-django runs them after the tests that use the
database (its order: database tests, transactional tests, the rest); the package
fixture opens the database for their time. What a journey does through the browser
stays for the journeys after it: each role works on its own things.
"""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases

from tests.browser import CHROMIUM, FLAGS

# Customers of the demo bank: enough for every role's pages to have rows and
# figures (each client manager a book, a tiered customer at head office), small
# enough to seed in seconds.
CUSTOMERS = 60


def _migration_data() -> None:
    """What the data migrations create and a transactional test's flush empties."""
    from accounts.roles import sync_roles
    from tests.url_world import restore_migration_data

    sync_roles()
    restore_migration_data()


@pytest.fixture(scope="package")
def journey_server(
    django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb, tmp_path_factory
):
    """The live server over the seeded demo bank."""
    if not CHROMIUM.exists():
        # journey_browser says why (skip, or fail under REQUIRE_BROWSER)
        yield None
        return
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        # Run alone, no test of the session asked pytest-django for the database.
        own_databases = None
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            own_databases = setup_databases(
                verbosity=0,
                interactive=False,
                aliases={"default"},
                keepdb=django_db_keepdb and not django_db_createdb,
            )
        try:
            _migration_data()
            with override_settings(DEMO_BATCH_DIR=tmp_path_factory.mktemp("demo_batch")):
                call_command("seed_demo", customers=CUSTOMERS, stdout=StringIO())
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            try:
                yield server
            finally:
                server._live_server_modified_settings.disable()
                server.stop()
        finally:
            call_command("flush", verbosity=0, interactive=False)
            _migration_data()
            if own_databases is not None and not django_db_keepdb:
                teardown_databases(own_databases, verbosity=0)


@pytest.fixture(scope="package")
def journey_browser(journey_server):
    """One Chromium (Debian's, as tests/browser.py starts it) for all the journeys;
    each journey has its own context (cookies, session)."""
    if journey_server is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian chromium is not installed")
    # Playwright's sync API runs an event loop in this thread (see tests/browser.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def journey(journey_browser, journey_server, demo_password):
    """`journey("demo_cm1")`: that demo user's session in the browser, in Chinese."""
    from tests.journeys.journey import Journey

    context = journey_browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield lambda username: Journey(page, journey_server, username, demo_password)
    context.close()

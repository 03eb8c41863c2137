"""Which database serves a read (crm_portal.routers, core.replica): the replica only
inside a page marked for it, never after the request wrote, never for who-may-see-
what, and not at all when it is down or behind. These run without a replica: the
router's answers are aliases, and the replica's health is faked; the real replica
is tests/test_replica.py. Without DATABASE_REPLICA_URL nothing of it is installed."""

import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.views import View

import core.replica
from accounts.models import User
from core.replica import replica_reads, unit_of_work
from crm_portal import routers
from crm_portal.routers import (
    REPLICA,
    PrimaryAfterWriteMiddleware,
    ReplicaHealth,
    ReplicaRouter,
    check_replica,
    forget_replica_health,
    replica_health,
)
from customers.models import Customer

ROOT = Path(__file__).resolve().parent.parent

HEALTHY = ReplicaHealth(True, "", 0.2)
DOWN = ReplicaHealth(False, "does not answer: connection refused")


@pytest.fixture
def replica(monkeypatch, settings):
    """The router installed and a replica alias as it sees it, whose health the test
    sets (healthy by default) and whose checks it counts."""

    class Replica:
        health = HEALTHY
        checks = 0
        connects = True

    def health():
        Replica.checks += 1
        return Replica.health

    settings.DATABASE_ROUTERS = ["crm_portal.routers.ReplicaRouter"]
    monkeypatch.setattr(routers, "replica_configured", lambda: True)
    monkeypatch.setattr(routers, "replica_health", health)
    monkeypatch.setattr(routers, "_replica_connects", lambda: Replica.connects)
    return Replica


def reads_go_to(model=Customer) -> str:
    """Where Django's router sends a read of `model` (through ReplicaRouter, when
    the test installed it)."""
    return router.db_for_read(model)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_REPLICA_URL")), reason="a replica is configured")
class TestWithoutAReplica:
    def test_the_settings_add_no_alias_router_or_middleware(self):
        assert set(settings.DATABASES) == {DEFAULT_DB_ALIAS}
        assert settings.DATABASE_ROUTERS == []
        assert not any("routers" in name for name in settings.MIDDLEWARE)

    def test_a_marked_page_reads_the_one_database(self):
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS
        # the router itself, if someone listed it, sends nothing to a missing alias
        with unit_of_work(), replica_reads():
            assert ReplicaRouter().db_for_read(Customer) == DEFAULT_DB_ALIAS

    @pytest.mark.django_db
    def test_a_marked_page_still_answers(self, client, demo_users, demo_password):
        from tests.customers.conftest import log_in

        log_in(client, "demo_bm", demo_password)
        response = client.get(reverse("customers:list"))
        assert response.status_code == 200


def test_the_settings_with_a_replica_url():
    """DATABASE_REPLICA_URL adds the alias (the default's test database in tests, a
    short connect timeout), the router and the pinning middleware, early."""
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['replica'], s.DATABASE_ROUTERS, s.MIDDLEWARE[:2], "
        "s.DATABASE_REPLICA_MAX_LAG]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5433/crm",
        "DATABASE_REPLICA_URL": "postgres://reader@127.0.0.1:5434/crm",
        "DATABASE_REPLICA_MAX_LAG": "12",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    alias, routers_, middleware, max_lag = json.loads(done.stdout)
    assert (alias["HOST"], alias["PORT"], alias["NAME"], alias["USER"]) == (
        "127.0.0.1",
        5434,
        "crm",
        "reader",
    )
    assert alias["TEST"]["MIRROR"] == "default"
    assert alias["OPTIONS"]["connect_timeout"] == 2
    assert routers_ == ["crm_portal.routers.ReplicaRouter"]
    assert middleware[1] == "crm_portal.routers.PrimaryAfterWriteMiddleware"
    assert max_lag == 12


class TestRouting:
    def test_outside_a_marked_page_reads_go_to_the_primary(self, replica):
        with unit_of_work():
            assert reads_go_to() == DEFAULT_DB_ALIAS
        assert reads_go_to() == DEFAULT_DB_ALIAS
        assert replica.checks == 0

    def test_a_marked_page_reads_the_replica(self, replica):
        with unit_of_work(), replica_reads():
            assert reads_go_to() == REPLICA
        with replica_reads():  # outside a request: the block is its own unit
            assert reads_go_to() == REPLICA

    def test_who_may_see_what_is_read_from_the_primary(self, replica):
        with unit_of_work(), replica_reads():
            assert reads_go_to(User) == DEFAULT_DB_ALIAS
            assert reads_go_to(Permission) == DEFAULT_DB_ALIAS
            assert reads_go_to(Session) == DEFAULT_DB_ALIAS
            assert reads_go_to(Customer) == REPLICA

    def test_a_write_pins_the_rest_of_the_request_to_the_primary(self, replica):
        with unit_of_work():
            with replica_reads():
                assert reads_go_to() == REPLICA
                assert router.db_for_write(Customer) == DEFAULT_DB_ALIAS
                assert reads_go_to() == DEFAULT_DB_ALIAS
            # a later marked block of the same request reads its write too
            with replica_reads():
                assert reads_go_to() == DEFAULT_DB_ALIAS
        # the next request starts afresh
        with unit_of_work(), replica_reads():
            assert reads_go_to() == REPLICA

    def test_a_write_before_the_marked_block_pins_it(self, replica):
        with unit_of_work():
            router.db_for_write(Session)
            with replica_reads():
                assert reads_go_to() == DEFAULT_DB_ALIAS

    def test_a_write_outside_a_request_pins_only_its_block(self, replica):
        with replica_reads():
            router.db_for_write(Customer)
            assert reads_go_to() == DEFAULT_DB_ALIAS
        with replica_reads():
            assert reads_go_to() == REPLICA

    def test_inside_a_transaction_on_the_primary_reads_stay_there(self, replica, monkeypatch):
        monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", True)
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS

    def test_a_replica_down_or_behind_leaves_the_reads_on_the_primary(self, replica):
        replica.health = DOWN
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS
        replica.health = ReplicaHealth(False, "replay lag 45.0 s over 30 s", 45.0)
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS
        replica.health = HEALTHY
        with unit_of_work(), replica_reads():
            assert reads_go_to() == REPLICA

    def test_a_replica_that_went_down_since_the_last_check_leaves_the_request_on_the_primary(self, replica):
        replica.connects = False  # the kept answer says usable; the connection fails
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS

    def test_a_request_asks_once_and_keeps_its_answer(self, replica):
        """One page reads from one database, even if the replica falls over midway
        (the next request finds the primary)."""
        with unit_of_work(), replica_reads():
            assert reads_go_to() == REPLICA
            replica.health = DOWN
            assert reads_go_to() == REPLICA
        assert replica.checks == 1
        with unit_of_work(), replica_reads():
            assert reads_go_to() == DEFAULT_DB_ALIAS
        assert replica.checks == 2

    def test_migrations_never_run_on_the_replica(self):
        assert ReplicaRouter().allow_migrate(REPLICA, "customers") is False
        assert ReplicaRouter().allow_migrate(DEFAULT_DB_ALIAS, "customers") is None

    def test_objects_read_from_either_may_refer_to_each_other(self):
        one, other = Customer(), Customer()
        one._state.db, other._state.db = DEFAULT_DB_ALIAS, REPLICA
        assert ReplicaRouter().allow_relation(one, other) is True
        other._state.db = "elsewhere"
        assert ReplicaRouter().allow_relation(one, other) is None


class TestRequests:
    """The middleware's unit of work around a view, as a request goes through."""

    @staticmethod
    def _serve(view, method="get"):
        request = getattr(RequestFactory(), method)("/report/")
        return PrimaryAfterWriteMiddleware(view)(request)

    def test_a_marked_function_view_reads_the_replica_until_it_writes(self, replica):
        seen = []

        @replica_reads
        def view(request):
            seen.append(reads_go_to())
            router.db_for_write(Customer)
            seen.append(reads_go_to())
            return HttpResponse("ok")

        assert self._serve(view).status_code == 200
        assert seen == [REPLICA, DEFAULT_DB_ALIAS]
        seen.clear()
        self._serve(view)  # the next request reads the replica again
        assert seen == [REPLICA, DEFAULT_DB_ALIAS]

    def test_a_marked_class_view_reads_the_replica_in_every_handler(self, replica):
        seen = []

        @replica_reads
        class Report(View):
            def get(self, request):
                seen.append(reads_go_to())
                return HttpResponse("ok")

        self._serve(Report.as_view())
        assert seen == [REPLICA]

    def test_a_request_whose_method_writes_reads_the_primary_throughout(self, replica):
        seen = []

        @replica_reads
        def view(request):
            seen.append(reads_go_to())
            return HttpResponse("ok")

        for method in ("post", "put", "patch", "delete"):
            self._serve(view, method)
        self._serve(view, "head")
        assert seen == [DEFAULT_DB_ALIAS] * 4 + [REPLICA]

    def test_an_unmarked_view_reads_the_primary(self, replica):
        seen = []

        def view(request):
            seen.append(reads_go_to())
            return HttpResponse("ok")

        self._serve(view)
        assert seen == [DEFAULT_DB_ALIAS]
        assert replica.checks == 0

    def test_each_thread_has_its_own_request(self, replica):
        """A request that wrote does not pin one served beside it in another thread."""
        wrote, read = threading.Event(), threading.Event()
        seen: dict[str, list[str]] = {"writer": [], "reader": []}

        @replica_reads
        def writer(request):
            router.db_for_write(Customer)
            wrote.set()
            read.wait(5)
            seen["writer"].append(reads_go_to())
            return HttpResponse("ok")

        @replica_reads
        def reader(request):
            wrote.wait(5)
            seen["reader"].append(reads_go_to())
            read.set()
            return HttpResponse("ok")

        threads = [threading.Thread(target=self._serve, args=(view,)) for view in (writer, reader)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert seen == {"writer": [DEFAULT_DB_ALIAS], "reader": [REPLICA]}


# The pages whose reads may come from the replica: heavy, read-only, a few seconds old
# is fine (docs/operations.md lists them).
MARKED_PAGES = [
    "customers:list",
    "vip:reports",
    "vip:report_export",
    "performance:figures",
    "performance:branches",
    "performance:board_export",
    "credit:reports",
    "credit:reports_export",
    "marketing:channel_report",
    "marketing:channel_report_export",
    "marketing:opening_funnel",
    "marketing:opening_funnel_export",
    "analysis:reports",
    "analysis:reports_export",
]


class _Entered(Exception):
    pass


@pytest.mark.parametrize("name", MARKED_PAGES)
def test_the_page_enters_the_replica_scope_before_anything_else(name, monkeypatch):
    @contextmanager
    def scope():
        raise _Entered
        yield  # pragma: no cover

    monkeypatch.setattr(core.replica, "_replica_scope", scope)
    url = reverse(name)
    with pytest.raises(_Entered):
        resolve(url).func(RequestFactory().get(url))


@pytest.mark.parametrize("name", ["customers:search", "customers:create", "performance:ftp"])
def test_pages_that_write_are_not_marked(name, monkeypatch):
    entered = []

    @contextmanager
    def scope():
        entered.append(name)
        yield

    monkeypatch.setattr(core.replica, "_replica_scope", scope)
    url = reverse(name)
    request = RequestFactory().get(url)
    request.user = AnonymousUser()
    response = resolve(url).func(request)
    assert response.status_code == 302  # to the login page, having read nothing
    assert entered == []


class TestHealth:
    """The replica's check: it answers, it is a replica, it keeps up."""

    class _Cursor:
        def __init__(self, row=None, error=None):
            self.row, self.error = row, error

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql, params=None):
            if self.error:
                raise self.error

        def fetchone(self):
            return self.row

    class _Connection:
        vendor = "postgresql"

        def __init__(self, cursor):
            self._cursor, self.closed = cursor, False

        def cursor(self):
            return self._cursor

        def close(self):
            self.closed = True

    @pytest.fixture
    def answering(self, monkeypatch, settings):
        settings.DATABASE_REPLICA_MAX_LAG = 30

        def _answer(row=None, error=None):
            connection = self._Connection(self._Cursor(row, error))
            monkeypatch.setattr(routers, "connections", {REPLICA: connection})
            monkeypatch.setattr(routers, "replica_configured", lambda: True)
            return connection

        return _answer

    def test_a_replica_that_keeps_up_is_used(self, answering):
        answering((True, 0))
        assert check_replica() == ReplicaHealth(True, "", 0.0)
        answering((True, 29.5))
        assert check_replica().usable

    def test_a_replica_behind_the_limit_is_not(self, answering):
        answering((True, 45.2))
        health = check_replica()
        assert not health.usable
        assert health.reason == "replay lag 45.2 s over 30 s"

    def test_a_replica_that_does_not_answer_is_not_and_its_connection_is_dropped(self, answering):
        connection = answering(error=OperationalError("connection refused"))
        health = check_replica()
        assert not health.usable and "connection refused" in health.reason
        assert connection.closed

    def test_a_server_not_in_recovery_is_not_a_replica(self, answering):
        answering((False, None))
        assert "not in recovery" in check_replica().reason

    def test_an_unknown_lag_is_not_trusted(self, answering):
        answering((True, None))
        assert not check_replica().usable

    def test_a_connection_that_fails_marks_the_replica_down_for_the_process(self, monkeypatch, settings):
        class Refusing:
            closed = False

            def close_if_health_check_failed(self):
                pass

            def ensure_connection(self):
                raise OperationalError("connection refused")

            def close(self):
                self.closed = True

        refusing = Refusing()
        monkeypatch.setattr(routers, "connections", {REPLICA: refusing})
        monkeypatch.setattr(routers, "check_replica", lambda: HEALTHY)
        settings.DATABASE_REPLICA_CHECK_SECONDS = 60
        forget_replica_health()
        assert replica_health().usable
        assert routers._replica_connects() is False
        assert refusing.closed
        # the other requests of the process go to the primary without trying it
        assert not replica_health().usable
        assert "connection refused" in replica_health().reason
        forget_replica_health()

    @pytest.mark.skipif(bool(os.environ.get("DATABASE_REPLICA_URL")), reason="a replica is configured")
    def test_without_a_replica_nothing_is_asked(self):
        assert check_replica() == ReplicaHealth(False, "no replica configured")

    def test_the_answer_is_kept_for_a_few_seconds_per_process(self, monkeypatch, settings):
        answers = [HEALTHY, DOWN, HEALTHY]
        monkeypatch.setattr(routers, "check_replica", lambda: answers.pop(0))
        forget_replica_health()
        settings.DATABASE_REPLICA_CHECK_SECONDS = 60
        assert replica_health() is HEALTHY
        assert replica_health() is HEALTHY  # kept: not asked again
        assert len(answers) == 2
        settings.DATABASE_REPLICA_CHECK_SECONDS = 0
        assert replica_health() is DOWN
        assert replica_health() is HEALTHY
        forget_replica_health()

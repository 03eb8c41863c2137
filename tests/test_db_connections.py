"""A threaded web server (Django's runserver starts a thread per request) holds no
database connection past its requests: under a crawler's parallel requests the
connections in use follow the requests in flight and are given back, instead of one
kept per finished thread until PostgreSQL runs out of its 100."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from accounts.roles import Role

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = 8
REQUESTS = 60


APP_NAME = "crm_runserver_under_test"


def _dsn() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Counter:
    """The server's connections, read on a connection of its own (any thread)."""

    def __init__(self):
        self.conn = psycopg.connect(_dsn(), autocommit=True)
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            return self.conn.execute(sql, [APP_NAME]).fetchone()[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def runserver():
    """`manage.py runserver` (threaded, as the README's embedded default runs it) on
    the test database with the connection settings a deployment gets by default."""
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's connections (CI runs it)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CONN_MAX_AGE", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="crm_portal.settings.test",
        DATABASE_URL=f"{_dsn()}?application_name={APP_NAME}",
    )
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("runserver did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_a_threaded_server_gives_its_connections_back(runserver, make_user, client):
    client.force_login(make_user(Role.CLIENT_MANAGER))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    count = Counter()
    peak = {"n": 0}

    def fetch(_i: int) -> int:
        request = urllib.request.Request(f"{runserver}/customers/", headers={"Cookie": cookie})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own server)
            status = response.status
        peak["n"] = max(peak["n"], count())
        return status

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(fetch, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    # the requests in flight, and a few whose thread is still closing its connection
    # after the answer went out; never one per request served
    assert 0 < peak["n"] <= PARALLEL + 4
    deadline = time.monotonic() + 5  # a last thread may still be closing its own
    while count() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count() == 0, "connections kept after their requests ended"
    count.conn.close()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(("web", "expected"), [(True, "off"), (False, "on")])
def test_the_web_process_turns_off_postgresqls_jit_compilation(web, expected):
    """A process that reads deploy/gunicorn.conf.py first, as gunicorn does, asks
    PostgreSQL for no JIT on its connections; another process (a nightly worker)
    keeps the server's setting, here made "on" for the client (PGOPTIONS) so that
    neither answer can come from the server's own default."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_JIT"}
    env.update(DATABASE_URL=_dsn(), DJANGO_SETTINGS_MODULE="crm_portal.settings.local", PGOPTIONS="-c jit=on")
    config = "import runpy; runpy.run_path('deploy/gunicorn.conf.py'); " if web else ""
    code = (
        f"{config}import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('SHOW jit'); print(c.fetchone()[0])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip().splitlines()[-1] == expected

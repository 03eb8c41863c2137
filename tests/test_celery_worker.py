"""A real Celery worker on the real Redis broker runs a real task against the test
database. Runs when a broker is configured (CI); REQUIRE_WORKER=1 turns a missing
broker into a failure instead of a skip."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from accounts.models import UserSession
from crm_portal.queues import QUEUE_NAMES

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


def _broker_or_skip():
    if not settings.CELERY_BROKER_URL or connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_WORKER"):
            pytest.fail("REQUIRE_WORKER is set but there is no Redis broker and PostgreSQL database")
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL")


@pytest.fixture
def worker():
    _broker_or_skip()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_portal",
            "worker",
            "-Q",
            ",".join(QUEUE_NAMES),
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
            "-n",
            f"ci-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_session_cleanup(worker, make_user):
    from crm_portal.celery import app

    # given one expired and one live session, both indexed for a user
    user = make_user("client_manager")
    expired, live = SessionStore(), SessionStore()
    expired.create()
    live.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(hours=1)
    )
    UserSession.objects.create(user=user, session_key=expired.session_key)
    UserSession.objects.create(user=user, session_key=live.session_key)
    # when the task goes through the broker to the worker
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    result = app.send_task("accounts.clear_expired_sessions")
    try:
        removed = result.get(timeout=90)
    except Exception:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        pytest.fail(f"worker did not run the task: {output[-3000:]}")
    finally:
        app.conf.task_always_eager = eager
    # then only the expired session is gone
    assert removed == 1
    assert not Session.objects.filter(session_key=expired.session_key).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [live.session_key]

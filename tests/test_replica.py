"""The read replica for real: a streaming replica made by deploy/replica.sh serves
the customer search page, a paused replica shows what it has not replayed, a lag
past the limit and a stopped replica send the page to the primary, and a request
that writes reads its write from the primary (tests/replica_check.py does the
steps in a process of its own, on a database made here on the primary).

Runs when REPLICA_PRIMARY_URL and REPLICA_URL name the two servers (CI runs
`bash deploy/replica.sh start` first); REQUIRE_REPLICA=1 turns their absence into a
failure instead of a skip."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
ALL = ["王大明", "王小明", "王明远", "王新来", "王自写"]


def _servers() -> tuple[str, str]:
    primary, replica = os.environ.get("REPLICA_PRIMARY_URL"), os.environ.get("REPLICA_URL")
    if not (primary and replica):
        if os.environ.get("REQUIRE_REPLICA"):
            pytest.fail("REQUIRE_REPLICA is set but REPLICA_PRIMARY_URL and REPLICA_URL are not")
        pytest.skip("needs REPLICA_PRIMARY_URL and REPLICA_URL (bash deploy/replica.sh start)")
    return primary, replica


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def _new_database(primary: str, replica: str) -> Iterator[tuple[str, str]]:
    """A new database on the primary (the replica gets it by streaming), dropped
    after; the replica is started again whatever the check left it in."""
    name = f"crm_replica_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(primary, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield _with_database(primary, name), _with_database(replica, name)
    finally:
        subprocess.run(["bash", str(ROOT / "deploy/replica.sh"), "start-replica"], check=False)
        with psycopg.connect(primary, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _check(primary_url: str, replica_url: str) -> dict:
    """tests/replica_check.py's account of each step."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "PYTEST_XDIST_WORKER")}
    env.update(
        DJANGO_SETTINGS_MODULE="crm_portal.settings.test",
        DATABASE_URL=primary_url,
        DATABASE_REPLICA_URL=replica_url,
        DATABASE_REPLICA_CHECK_SECONDS="0",
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.replica_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reads_served_by_the_replica_and_the_fall_back_to_the_primary():
    with _new_database(*_servers()) as (primary_url, replica_url):
        seen = _check(primary_url, replica_url)

    # 1. the customer rows came through the replica alias, from a server in recovery
    # on another port than the primary's
    replica = seen["replica"]
    assert replica["status"] == 200
    assert replica["names"] == ["王大明", "王小明", "王明远"]
    assert replica["server"]["in_recovery"] is True
    assert replica["server"]["port"] != replica["primary_port"]
    assert replica["customer_reads"]["replica"] >= 1

    # 2. replay paused: the customer added on the primary is not on the page
    paused = seen["paused"]
    assert paused["status"] == 200
    assert paused["names"] == ["王大明", "王小明", "王明远"]
    assert paused["customer_reads"]["replica"] >= 1

    # 3. past the lag limit: the primary, which has it
    lagging = seen["lagging"]
    assert lagging["names"] == ["王大明", "王小明", "王新来", "王明远"]
    assert lagging["customer_reads"]["replica"] == 0
    assert lagging["health"].startswith("replay lag")

    # 4. the write pins the request: the read after it finds the new row
    assert seen["write"]["before"] == {"default": 0, "replica": 1}
    assert seen["write"]["after"] == {"default": 1, "replica": 0}
    assert seen["write"]["found_own_write"] is True

    # 5. the replica stopped: the page still answers, from the primary, at once
    down = seen["down"]
    assert down["status"] == 200
    assert down["names"] == sorted(ALL)
    assert down["customer_reads"]["replica"] == 0
    assert down["customer_reads"]["default"] >= 1
    assert down["health"].startswith("does not answer")
    assert down["seconds"] < 5

    # 6. back: the replica serves the page again
    back = seen["back"]
    assert back["names"] == sorted(ALL)
    assert back["customer_reads"]["replica"] >= 1

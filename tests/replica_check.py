"""The read replica against a real streaming replica (run by tests/test_replica.py,
which creates the database and reads what this prints).

Run with DATABASE_URL on the primary (an empty database) and DATABASE_REPLICA_URL
on its replica (deploy/replica.sh). It migrates the primary (the replica gets the
schema by streaming), seeds a few customers, then asks the customer search page
(marked `replica_reads`) through Django's test client, step by step:

1. the page reads its customer rows through the replica alias, whose server is
   in recovery on its own port;
2. with the replica's replay paused, a customer added on the primary is not among
   the rows shown: the page really read the replica;
3. still paused, past a lag limit of one second, the page falls back to the
   primary and shows that customer;
4. in a request that writes, the reads after the write go to the primary and find
   the new row (the paused replica cannot have it);
5. with the replica stopped (deploy/replica.sh stop-replica), the page answers from
   the primary with every customer;
6. started again, the replica serves the page again.

It prints one JSON object: what each step saw. Checks are the test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.test")
# every request asks the replica afresh: the steps change it from one to the next
os.environ.setdefault("DATABASE_REPLICA_CHECK_SECONDS", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DEFAULT_DB_ALIAS, connections  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

REPLICA = "replica"


def _one(alias: str, sql: str, params: list[Any] | None = None) -> Any:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def _wait(what: str, done, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def _primary_lsn() -> str:
    return _one(DEFAULT_DB_ALIAS, "SELECT pg_current_wal_lsn()::text")[0]


def _replica_has(lsn: str, *, replayed: bool) -> bool:
    column = "pg_last_wal_replay_lsn()" if replayed else "pg_last_wal_receive_lsn()"
    return bool(_one(REPLICA, f"SELECT {column} >= %s::pg_lsn", [lsn])[0])


def _caught_up() -> None:
    lsn = _primary_lsn()
    _wait("the replica to replay the primary's WAL", lambda: _replica_has(lsn, replayed=True))


class _Queries:
    """The statements each alias ran while the block ran."""

    def __init__(self) -> None:
        self.by_alias: dict[str, list[str]] = {DEFAULT_DB_ALIAS: [], REPLICA: []}

    def __enter__(self) -> _Queries:
        self._wrappers = []
        for alias, seen in self.by_alias.items():

            def record(execute, sql, params, many, context, seen=seen):
                seen.append(sql)
                return execute(sql, params, many, context)

            wrapper = connections[alias].execute_wrapper(record)
            wrapper.__enter__()
            self._wrappers.append(wrapper)
        return self

    def __exit__(self, *exc: Any) -> None:
        for wrapper in self._wrappers:
            wrapper.__exit__(*exc)

    def read(self, table: str) -> dict[str, int]:
        """How many statements of each alias read `table`."""
        quoted = f'"{table}"'
        return {alias: sum(quoted in sql for sql in seen) for alias, seen in self.by_alias.items()}


def main() -> None:
    from accounts.roles import sync_roles
    from core.replica import replica_reads
    from crm_portal.routers import PrimaryAfterWriteMiddleware, check_replica
    from customers.models import Customer
    from demo.org import seed_org, seed_users
    from tests.customers.factories import CustomerFactory

    setup_test_environment()
    table = Customer._meta.db_table
    seen: dict[str, Any] = {}

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    seen["migrate_seconds"] = round(time.monotonic() - started, 1)
    sync_roles()
    org = seed_org()
    users = {user.username: user for user in seed_users(org)}
    for name, branch, aum in [
        ("王小明", "11101", "500000"),
        ("王大明", "11102", "80000"),
        ("王明远", "12101", "10000"),
    ]:
        CustomerFactory(name=name, home_branch=org[branch], aum=Decimal(aum))
    client = Client()
    client.force_login(users["demo_bm"])  # head office: sees every customer
    _caught_up()

    def page(step: str) -> None:
        with _Queries() as queries:
            response = client.get("/customers/", {"q": "王"})
        rows = response.context["customers"] if response.context else []
        seen[step] = {
            "status": response.status_code,
            "names": sorted(customer.name for customer in rows),
            "customer_reads": queries.read(table),
            "health": check_replica().reason or "usable",
        }

    # 1. the page reads the replica, a server in recovery on its own port
    page("replica")
    in_recovery, port = _one(REPLICA, "SELECT pg_is_in_recovery(), inet_server_port()")
    seen["replica"]["server"] = {"in_recovery": in_recovery, "port": port}
    seen["replica"]["primary_port"] = _one(DEFAULT_DB_ALIAS, "SELECT inet_server_port()")[0]

    # 2. replay paused: a customer added on the primary is not shown
    _one(REPLICA, "SELECT pg_wal_replay_pause()")
    _wait("replay to pause", lambda: _one(REPLICA, "SELECT pg_get_wal_replay_pause_state()")[0] == "paused")
    CustomerFactory(name="王新来", home_branch=org["11101"], aum=Decimal("20000"))
    lsn = _primary_lsn()
    _wait("the replica to receive the new customer", lambda: _replica_has(lsn, replayed=False))
    page("paused")

    # 3. still paused, past a one-second lag limit: the primary serves the page
    with override_settings(DATABASE_REPLICA_MAX_LAG=1):
        _wait("the replay lag to pass one second", lambda: not check_replica().usable, seconds=10)
        page("lagging")

    # 4. a request that writes reads its write from the primary (the paused replica
    # cannot have it)
    @replica_reads
    def write_then_read(request):
        with _Queries() as before:
            Customer.objects.filter(name__startswith="王").count()
        written = CustomerFactory(name="王自写", home_branch=org["11101"], aum=Decimal("30000"))
        with _Queries() as after:
            found = Customer.objects.filter(pk=written.pk).exists()
        return JsonResponse(
            {"before": before.read(table), "after": after.read(table), "found_own_write": found}
        )

    response = PrimaryAfterWriteMiddleware(write_then_read)(RequestFactory().get("/"))
    seen["write"] = json.loads(response.content)
    _one(REPLICA, "SELECT pg_wal_replay_resume()")
    _caught_up()

    # 5. the replica stopped: the page answers from the primary
    subprocess.run(["bash", str(ROOT / "deploy/replica.sh"), "stop-replica"], check=True, capture_output=True)
    started = time.monotonic()
    page("down")
    seen["down"]["seconds"] = round(time.monotonic() - started, 2)

    # 6. started again, it serves the page again
    subprocess.run(
        ["bash", str(ROOT / "deploy/replica.sh"), "start-replica"], check=True, capture_output=True
    )
    _wait("the replica to answer and keep up", lambda: check_replica().usable, seconds=30)
    page("back")

    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main()

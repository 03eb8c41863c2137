"""The read replica: which database serves a read, and whether the replica may.

Installed only when `DATABASE_REPLICA_URL` is set (crm_portal.settings.base adds the
`replica` alias, this router and the middleware). Then:

- a read goes to the replica only inside a `core.replica.replica_reads` scope (the
  views marked with it: reports, dashboards, exports, the customer search), and
  only while the request has not written; everything else reads the primary;
- a write always goes to the primary and pins the rest of its request there; a
  request whose method writes (POST, PUT, PATCH, DELETE) is pinned from its start;
- users, roles, permissions and sessions are always read from the primary: who may
  see what is never read a few seconds old;
- inside a transaction on the primary, reads stay on the primary (a read there may
  lock a row or follow a write made with plain SQL);
- the replica serves a request only when it answers within its connect timeout and
  its replay lag is under `DATABASE_REPLICA_MAX_LAG` seconds; the check is kept
  `DATABASE_REPLICA_CHECK_SECONDS` per process, so that a replica that went down
  costs one short wait every few seconds rather than one per page.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.replica import current_unit, note_write, replica_allowed, unit_of_work

logger = logging.getLogger(__name__)

REPLICA = "replica"

# Who may see what: read where it was last written, never from a copy behind it.
PRIMARY_ONLY_APPS = frozenset(
    {"accounts", "admin", "auth", "authtoken", "axes", "contenttypes", "guardian", "sessions"}
)

# Whether the server is a replica, and how far behind the primary its replay is:
# nothing received and not yet replayed is no lag (an idle primary sends nothing
# new, and the time since its last commit is not lag); else the time since the
# last replayed commit. NULL when it cannot be told (streaming not started yet).
REPLAY_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
       END
"""


@dataclass(frozen=True)
class ReplicaHealth:
    usable: bool
    reason: str = ""  # why not, for the log
    lag: float | None = None  # seconds


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def check_replica() -> ReplicaHealth:
    """Ask the replica now: does it answer, is it a replica, how far behind is it."""
    if not replica_configured():
        return ReplicaHealth(False, "no replica configured")
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("SELECT 1")
                return ReplicaHealth(True)
            cursor.execute(REPLAY_LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except Exception as exc:
        # a connection that failed is dropped, so that the next check connects anew
        with contextlib.suppress(Exception):
            connection.close()
        return ReplicaHealth(False, f"does not answer: {exc}".strip())
    if not in_recovery:
        # promoted, or not a replica at all: its data may part from the primary's
        return ReplicaHealth(False, "is not in recovery (not a replica of the primary)")
    if lag is None:
        return ReplicaHealth(False, "replay lag unknown (not streaming yet)")
    lag = float(lag)
    limit = float(settings.DATABASE_REPLICA_MAX_LAG)
    if lag > limit:
        return ReplicaHealth(False, f"replay lag {lag:.1f} s over {limit:g} s", lag)
    return ReplicaHealth(True, "", lag)


_lock = threading.Lock()
_checked: tuple[float, ReplicaHealth] | None = None


def replica_health() -> ReplicaHealth:
    """The last check of this process while it is fresh, else a new one. While one
    thread checks, the others use the last answer (or the primary, before any)."""
    seen = _checked
    if seen is not None and time.monotonic() - seen[0] < float(settings.DATABASE_REPLICA_CHECK_SECONDS):
        return seen[1]
    if not _lock.acquire(blocking=False):
        return seen[1] if seen is not None else ReplicaHealth(False, "being checked")
    try:
        return _remember(check_replica())
    finally:
        _lock.release()


def _remember(health: ReplicaHealth) -> ReplicaHealth:
    global _checked
    seen = _checked
    if seen is None or seen[1].usable != health.usable:
        if health.usable:
            logger.info("read replica in use (replay lag %.1f s)", health.lag or 0.0)
        else:
            logger.warning("read replica not used, reads go to the primary: %s", health.reason)
    _checked = (time.monotonic(), health)
    return health


def forget_replica_health() -> None:
    """The next read that may use the replica checks it again."""
    global _checked
    _checked = None


def _replica_connects() -> bool:
    """This thread's connection to the replica is open and sound (the reads would
    open it anyway). A replica that went down since the last check then costs this
    request nothing but the primary, and the process stops trying it for a while."""
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except Exception as exc:
        with contextlib.suppress(Exception):
            connection.close()
        _remember(ReplicaHealth(False, f"does not answer: {exc}".strip()))
        return False
    return True


class ReplicaRouter:
    """Reads in a replica scope to the replica when it may serve them; every write,
    and every other read, to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return REPLICA if self._replica_may_serve(model) else DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        note_write()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # the replica holds the primary's rows: an object read from either may
        # refer to one read from the other
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # the replica gets its schema from the primary's WAL
        return False if db == REPLICA else None

    @staticmethod
    def _replica_may_serve(model: Any) -> bool:
        if not replica_allowed() or not replica_configured():
            return False
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return False
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return False
        unit = current_unit()
        if unit is None:  # replica_allowed() says there is one
            return False
        if unit.replica_usable is None:
            unit.replica_usable = replica_health().usable and _replica_connects()
        return unit.replica_usable


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class PrimaryAfterWriteMiddleware:
    """One unit of work per request: a request whose method writes reads the
    primary throughout; any other reads the replica (where its view allows) until
    its first write, then the primary."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with unit_of_work(pinned=request.method not in SAFE_METHODS):
            return self.get_response(request)

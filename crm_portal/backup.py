"""Backup and restore of the portal's PostgreSQL database (docs/operations.md).

A backup is `pg_dump`'s custom format, taken in a snapshot the portal exports
(`pg_export_snapshot`) from a REPEATABLE READ transaction in which it also counts
every table's rows: the counts and the dump see the same committed data, even while
loads and pages write. The counts are written beside the dump (`<file>.counts.json`).

A restore creates a fresh database (never over an existing one), runs `pg_restore`
into it, then counts every table again and compares with the backup's counts: a
table missing, extra or with another number of rows is named, and the restore
fails. The database the portal runs on is never touched by a restore."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

COUNTS_SUFFIX = ".counts.json"


class BackupError(Exception):
    """A backup or restore that could not be made or does not match."""


@dataclass
class Restored:
    database: str
    tables: int = 0
    rows: int = 0
    mismatches: list[str] = field(default_factory=list)


def counts_path(dump: Path) -> Path:
    return dump.with_name(dump.name + COUNTS_SUFFIX)


def _server() -> dict:
    if connection.vendor != "postgresql":
        raise BackupError(
            "backup and restore are for PostgreSQL; the embedded SQLite database is one file to copy"
        )
    db = settings.DATABASES["default"]
    return {
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "dbname": db["NAME"],
    }


def _environment(server: dict) -> dict:
    env = {**os.environ}
    for key, name in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        if server[key]:
            env[name] = server[key]
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs")
    return found


def _run(arguments: list[str], server: dict) -> None:
    done = subprocess.run(arguments, env=_environment(server), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(arguments[0]).name} failed: {done.stderr.strip() or done.returncode}")


def _count_tables(cursor) -> dict[str, int]:
    """Every ordinary and partitioned table of the public schema: its exact row
    count (a partitioned table's rows are counted once, through its partitions)."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition ORDER BY c.relname"
    )
    tables = [name for (name,) in cursor.fetchall()]
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'p' ORDER BY c.relname"
    )
    tables += [name for (name,) in cursor.fetchall()]
    counts = {}
    for name in sorted(tables):
        cursor.execute(
            sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(name)).as_string(cursor.connection)
        )
        counts[name] = cursor.fetchone()[0]
    return counts


def backup(dump: Path) -> dict[str, int]:
    """Write the database to `dump` (custom format) and its row counts beside it;
    returns the counts."""
    server = _server()
    pg_dump = _tool("pg_dump")
    dump.parent.mkdir(parents=True, exist_ok=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _count_tables(cursor.cursor)
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                server["dbname"],
            ],
            server,
        )
    counts_path(dump).write_text(json.dumps(counts, indent=1, sort_keys=True), encoding="utf-8")
    return counts


def restore(dump: Path, into: str, *, jobs: int = 2) -> Restored:
    """Restore `dump` into a new database `into` and compare its row counts with the
    backup's. Raises BackupError when it cannot, or when a count differs."""
    server = _server()
    if into == server["dbname"]:
        raise BackupError("a restore goes into a fresh database, never the one the portal runs on")
    if not dump.is_file():
        raise BackupError(f"no backup at {dump}")
    try:
        expected = json.loads(counts_path(dump).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no row counts beside the backup ({counts_path(dump)}): {exc}") from exc
    pg_restore = _tool("pg_restore")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into])
        if cursor.fetchone():
            raise BackupError(f"database {into} exists: a restore goes into a fresh one")
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(into)).as_string(cursor.cursor))
    _run(
        [pg_restore, "--no-owner", "--exit-on-error", f"--jobs={jobs}", f"--dbname={into}", str(dump)], server
    )
    target = {**server, "dbname": into}
    with psycopg.connect(**{k: v for k, v in target.items() if v}) as restored, restored.cursor() as cursor:
        found = _count_tables(cursor)
    result = Restored(database=into, tables=len(found), rows=sum(found.values()))
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            result.mismatches.append(f"{name}: missing ({expected[name]} rows backed up)")
        elif name not in expected:
            result.mismatches.append(f"{name}: not in the backup ({found[name]} rows)")
        elif expected[name] != found[name]:
            result.mismatches.append(f"{name}: {found[name]} rows, {expected[name]} backed up")
    return result

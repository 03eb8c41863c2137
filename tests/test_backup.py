"""Backup and restore (crm_portal.backup, docs/operations.md): a backup restores into
a fresh database with every table's rows, counted against the backup's own counts;
a difference, an existing database or a missing backup is refused with the reason."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Branch, User
from crm_portal.backup import counts_path

pytestmark = pytest.mark.django_db(transaction=True)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump and pg_restore are PostgreSQL's"
)


def _drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_names():
    base = connection.settings_dict["NAME"]
    names = [f"{base}_restored", f"{base}_tampered"]
    for name in names:
        _drop(name)
    yield names
    for name in names:
        _drop(name)


@postgres_only
def test_a_backup_restores_into_a_fresh_database_with_every_row(demo_users, tmp_path, fresh_names):
    restored, tampered = fresh_names
    dump = tmp_path / "backups" / "crm.dump"
    out = StringIO()

    call_command("backup_database", str(dump), stdout=out)

    counts = json.loads(counts_path(dump).read_text(encoding="utf-8"))
    assert counts["accounts_branch"] == Branch.objects.count() > 0
    assert counts["accounts_user"] == User.objects.count() >= len(demo_users)
    assert f"to {dump}" in out.getvalue()

    call_command("restore_database", str(dump), "--into", restored, stdout=out)

    assert f"into {restored}: every count matches the backup's" in out.getvalue()
    # the restored database is a working copy: its rows are the portal's
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname = %s", [restored])
        assert cursor.fetchone() == (restored,)
    # never over an existing database
    with pytest.raises(CommandError, match=f"database {restored} exists"):
        call_command("restore_database", str(dump), "--into", restored)
    # a count that does not match is named, and the restore fails
    counts["accounts_branch"] += 1
    counts_path(dump).write_text(json.dumps(counts), encoding="utf-8")
    with pytest.raises(CommandError, match=r"accounts_branch: \d+ rows, \d+ backed up"):
        call_command("restore_database", str(dump), "--into", tampered)


@postgres_only
def test_a_restore_refuses_the_portals_own_database_and_a_missing_backup(tmp_path, db):
    with pytest.raises(CommandError, match="never the one the portal runs on"):
        call_command("restore_database", str(tmp_path / "x.dump"), "--into", connection.settings_dict["NAME"])
    with pytest.raises(CommandError, match="no backup at"):
        call_command("restore_database", str(tmp_path / "x.dump"), "--into", "crm_never_made")
    # a dump without its row counts cannot be checked: refused before any database is made
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    with pytest.raises(CommandError, match="no row counts beside the backup"):
        call_command("restore_database", str(tmp_path / "x.dump"), "--into", "crm_never_made")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'crm_never_made'")
        assert cursor.fetchone() is None


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the embedded SQLite default's answer")
def test_on_the_embedded_sqlite_database_a_backup_says_to_copy_the_file(tmp_path, db):
    with pytest.raises(CommandError, match="one file to copy"):
        call_command("backup_database", str(tmp_path / "x.dump"))

"""Restore a backup (crm_portal.backup) into a fresh database and compare every
table's row count with the backup's; fails on any difference."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm_portal.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup into a new database and check its row counts against the backup's."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup written by backup_database")
        parser.add_argument("--into", required=True, help="the new database's name (it must not exist)")
        parser.add_argument("--jobs", type=int, default=2, help="parallel pg_restore jobs")

    def handle(self, *args, file: str, into: str, jobs: int, **options) -> None:
        started = time.monotonic()
        try:
            restored = restore(Path(file), into, jobs=max(jobs, 1))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if restored.mismatches:
            raise CommandError(
                f"restored into {into}, but the row counts differ from the backup's: "
                + "; ".join(restored.mismatches)
            )
        self.stdout.write(
            f"Restored {restored.tables} tables, {restored.rows:,} rows, into {into}: "
            f"every count matches the backup's ({time.monotonic() - started:.1f} s)"
        )

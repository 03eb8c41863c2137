"""Back up the portal's PostgreSQL database (crm_portal.backup): a pg_dump custom-format
file and, beside it, every table's row count from the same snapshot."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm_portal.backup import BackupError, backup, counts_path


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format) with its row counts, read in one snapshot."

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write the backup, e.g. var/backups/crm-20261206.dump")

    def handle(self, *args, file: str, **options) -> None:
        started = time.monotonic()
        dump = Path(file)
        try:
            counts = backup(dump)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Backed up {len(counts)} tables, {sum(counts.values()):,} rows, to {dump} "
            f"({dump.stat().st_size:,} bytes; counts in {counts_path(dump)}) "
            f"in {time.monotonic() - started:.1f} s"
        )

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from customers.partitions import ensure_partitions, partitions_report, retire_partitions


def _date(value: str) -> datetime.date:
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise CommandError(f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD).")


class Command(BaseCommand):
    help = (
        "The month partitions of the daily history (balances, daily AUM, transaction summaries; PostgreSQL): "
        "list them (the default), make the missing ones through a date's next month (--ensure DATE), or drop "
        "the months older than the history kept (--retire, DAILY_HISTORY_MONTHS or --keep-months)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ensure", metavar="DATE", help="make the partitions through DATE's next month")
        parser.add_argument(
            "--retire", action="store_true", help="drop the month partitions older than the months kept"
        )
        parser.add_argument(
            "--keep-months",
            type=int,
            metavar="N",
            help="months kept by --retire, today's included (default DAILY_HISTORY_MONTHS)",
        )
        parser.add_argument(
            "--today", metavar="DATE", help="the date --retire counts back from (default today)"
        )

    def handle(self, *args, ensure=None, retire=False, keep_months=None, today=None, **options):
        if keep_months is not None and keep_months < 1:
            raise CommandError("--keep-months must be 1 or more.")
        if connection.vendor != "postgresql":
            self.stdout.write(
                "The daily history is partitioned on PostgreSQL only; these tables are plain here."
            )
            return
        if ensure:
            made = ensure_partitions(_date(ensure))
            self.stdout.write(f"Partitions made: {', '.join(made) if made else 'none (all there)'}.")
        if retire:
            day = _date(today) if today else timezone.localdate()
            kept = keep_months or settings.DAILY_HISTORY_MONTHS
            dropped = retire_partitions(day, kept)
            self.stdout.write(
                f"Kept {kept} months to {day:%Y-%m}; retired: {', '.join(dropped) if dropped else 'nothing'}."
            )
        if ensure or retire:
            return
        rows = [
            (
                p.table,
                p.name,
                str(p.start or "default"),
                str(p.end or ""),
                f"{p.rows:,}" if p.rows >= 0 else "?",
            )
            for p in partitions_report()
        ]
        headers = ("table", "partition", "from", "before", "rows (estimate)")
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [
                str(cell).ljust(width) if i < 4 else str(cell).rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("  ".join(cells).rstrip())

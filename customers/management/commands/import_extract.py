from pathlib import Path

from django.core.management.base import BaseCommand

from customers.choices import BatchStatus
from customers.ingest.runner import OK, batch_load_create, ingest_run


class Command(BaseCommand):
    help = (
        "Load one core-banking batch directory (YYYYMMDD/ with BATCH.ctl and BATCH.ok). Exit status 0 when "
        "it is loaded or was already loaded, 1 when it is refused or fails (the reason on stderr)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the batch directory")
        parser.add_argument(
            "--force", action="store_true", help="load a business date older than the last loaded one"
        )

    def handle(self, *args, path: str, force: bool, **options):
        load = batch_load_create(source=Path(path).resolve(), started_via="command", forced=force)
        load = ingest_run(load.pk, on_busy="refuse")
        summary = f"load #{load.pk} {load.business_date or ''}: {load.get_status_display()}. {load.message}"
        if load.status not in OK:
            self.stderr.write(summary)
            raise SystemExit(1)
        for f in load.files.order_by("pk") if load.status == BatchStatus.LOADED else []:
            self.stdout.write(
                f"  {f.name:<16} loaded {f.loaded:>10,}  rejected {f.rejected:>8,}  {f.seconds:7.1f} s"
            )
        self.stdout.write(summary)
        if load.status == BatchStatus.DUPLICATE:
            self.stdout.write(
                f"To run the jobs after the load again: manage.py after_load {load.business_date:%Y%m%d}"
            )

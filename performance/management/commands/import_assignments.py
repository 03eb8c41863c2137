from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from performance.assignments import HEADER, import_assignments, read_assignments_csv


class Command(BaseCommand):
    help = (
        f"Load the assignment history from a UTF-8 CSV file with the header {','.join(HEADER)} (dates "
        "YYYYMMDD or YYYY-MM-DD): each row makes that client manager the customer's manager of record from "
        "its date. Bad rows are reported on stderr with their line and not applied. Exit status 0 when every "
        "row applied (a row already in the history counts), 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="check and report without writing")

    def handle(self, *args, path: str, dry_run: bool, **options):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        try:
            rows = read_assignments_csv(data)
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(exc.messages)}") from exc
        report = import_assignments(rows, dry_run=dry_run)
        for bad in report.rejected:
            self.stderr.write(
                f"line {bad.line}: {bad.customer_no},{bad.employee_no},{bad.start_date}: {bad.message}"
            )
        self.stdout.write(
            f"{report.rows} rows: {report.applied} applied ({report.assigned} new assignments, "
            f"{report.unchanged} already in the history), {len(report.rejected)} not applied."
            + (" Dry run: nothing was written." if dry_run else "")
        )
        if not report.ok:
            raise SystemExit(1)

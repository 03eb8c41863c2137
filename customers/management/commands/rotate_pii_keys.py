from django.core.management.base import BaseCommand

from customers.keys import rotate_keys, rows_under_old_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored identifier (ID numbers, mobiles, contacts, prospects) still under "
        "an older key with the current (first) key of PII_ENCRYPTION_KEYS. Safe to interrupt and "
        "run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")

    def handle(self, *args, batch_size: int, max_batches: int | None, **options):
        report = rotate_keys(batch_size=batch_size, max_batches=max_batches, progress=self.stdout.write)
        left = rows_under_old_keys()
        done = ", ".join(f"{label}: {rows}" for label, rows in report.rows.items()) or "none"
        self.stdout.write(
            f"re-encrypted {report.total} rows ({done}) "
            f"in {report.batches} batches; {left} rows still under an older key"
        )
        if left:
            self.stdout.write("run the command again to continue")

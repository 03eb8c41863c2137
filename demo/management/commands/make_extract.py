import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.extract import BAD_KINDS, CODECS, DEFAULT_SEED, make_extract


class Command(BaseCommand):
    help = (
        "Write a core-banking batch (OUTDIR/YYYYMMDD/) that follows the extract interface, for demos, "
        "tests and benchmarks; with --bad-rows K, K extra rows broken in every way the interface forbids."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir")
        parser.add_argument("--date", required=True, help="business date, YYYYMMDD")
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--encoding", default="UTF-8", type=str.upper, choices=sorted(CODECS))
        parser.add_argument(
            "--bad-rows", type=int, default=0, help=f"broken rows ({len(BAD_KINDS)} or more cover every kind)"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args, outdir, date, customers, encoding, bad_rows, seed, **options):
        try:
            business_date = datetime.datetime.strptime(date, "%Y%m%d").date()
        except ValueError:
            raise CommandError(f"--date must be YYYYMMDD, not {date!r}") from None
        if customers < 0 or bad_rows < 0:
            raise CommandError("--customers and --bad-rows must be 0 or more")
        extract = make_extract(
            Path(outdir),
            business_date=business_date,
            customers=customers,
            encoding=encoding,
            bad_rows=bad_rows,
            seed=seed,
        )
        self.stdout.write(f"Batch written to {extract.path} ({encoding}):")
        for name, rows in extract.rows.items():
            self.stdout.write(f"  {name:<16} {rows:>10,} rows")
        if extract.bad:
            kinds = sorted({b.kind for b in extract.bad})
            self.stdout.write(f"  {len(extract.bad)} broken rows ({', '.join(kinds)})")
        if extract.duplicate_of:
            self.stdout.write(
                f"  customer {extract.duplicate_of[1]} is the same person as {extract.duplicate_of[0]}"
            )

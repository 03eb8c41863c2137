"""Rebuild the credit-risk reports' figures (credit.risk_figures) for the last
`--months` months up to a business date: what the nightly step refreshes a month or
two at a time, after a repair of the history. Every month end's snapshot is written
again from the loan-status change log and the balances; `--from-snapshots` computes
the figures from the kept snapshots instead (those missing or out of date written
first), when only the way they are summed has changed. It waits for a load and the
jobs after it to finish (the ingest lock), and they for it, so that the two never
write the figures at once. Prints the rows written and how long it took."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from credit.risk_figures import RISK_FIGURE_MONTHS, risk_figures_rebuild
from customers.ingest.runner import ingest_lock
from vip.evaluation import current_business_date


class Command(BaseCommand):
    help = "Rebuild the credit-risk figures (buckets, classes, roll rates, vintages) of the last months."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=RISK_FIGURE_MONTHS, help="months up to the date")
        parser.add_argument(
            "--from-snapshots",
            action="store_true",
            help="sum the kept month-end snapshots rather than read the status history and balances again",
        )
        parser.add_argument(
            "--date", help="business date YYYY-MM-DD (default: the date the bank's data stands at)"
        )

    def handle(
        self, *args, months: int, date: str | None = None, from_snapshots: bool = False, **options
    ) -> None:
        if months < 1:
            raise CommandError("--months must be at least 1")
        if date:
            try:
                as_of = datetime.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"not a date (YYYY-MM-DD): {date!r}") from exc
        else:
            as_of = current_business_date()
        started = time.monotonic()
        with ingest_lock(wait=True):
            written = risk_figures_rebuild(as_of=as_of, months=months, from_history=not from_snapshots)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{written['months']} months up to {as_of.isoformat()} in {seconds:.1f} s: "
            f"{written['figures']} figure rows, {written['roll_rates']} roll-rate rows, "
            f"{written['vintages']} vintage rows, {written['snapshots']} month-end snapshots written"
        )

"""Score every customer as of a business date (analysis.scoring): contribution,
loyalty, churn risk, satisfaction and value at risk, with their reasons. Prints how
many customers and how long it took."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from analysis.scoring import score_customers
from vip.evaluation import current_business_date


class Command(BaseCommand):
    help = "Rebuild every customer's analysis row (scores and reasons) as of a business date."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="business date YYYY-MM-DD (default: the date the bank's data stands at)"
        )

    def handle(self, *args, date: str | None = None, **options) -> None:
        if date:
            try:
                as_of = datetime.date.fromisoformat(date)
            except ValueError as exc:
                raise CommandError(f"not a date (YYYY-MM-DD): {date!r}") from exc
        else:
            as_of = current_business_date()
        started = time.monotonic()
        count = score_customers(as_of)
        seconds = time.monotonic() - started
        self.stdout.write(f"{count} customers scored as of {as_of.isoformat()} in {seconds:.1f} s")

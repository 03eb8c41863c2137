import datetime

from django.core.management.base import BaseCommand, CommandError

from customers.ingest.runner import after_load_again


class Command(BaseCommand):
    help = (
        "Run the jobs that follow a load (AUM, tiers, marketing profile, sales, data quality...) again for a "
        "loaded business date, e.g. after one of them failed. They run in a worker when a broker is set, "
        "here otherwise. Exit status 1 when no batch of that date is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("date", help="the business date, YYYYMMDD")

    def handle(self, *args, date: str, **options):
        try:
            day = datetime.datetime.strptime(date, "%Y%m%d").date()
        except ValueError as bad:
            raise CommandError(f"{date!r} is not a date (YYYYMMDD).") from bad
        try:
            started = after_load_again(day)
        except LookupError as missing:
            raise CommandError(str(missing)) from missing
        if not started:
            raise CommandError(f"The jobs after the load of {day:%Y-%m-%d} could not start; see the log.")
        self.stdout.write(f"The jobs after the load of {day:%Y-%m-%d} were started.")

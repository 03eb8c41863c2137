from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from performance.services import performance_run


class Command(BaseCommand):
    help = "Compute a period's performance figures from the data loaded so far (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026-11, 2026-Q4 or 2026")

    def handle(self, *args, period: str, **options):
        try:
            version = performance_run(period)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        through = version.counted_through.isoformat() if version.counted_through else "nothing loaded yet"
        self.stdout.write(
            f"{version.period.code}: version {version.number} ({version.get_status_display()}), "
            f"{version.counted_days} counted days through {through}, "
            f"{version.managers.count()} rows of figures, {version.seconds} s"
        )

import datetime

from django.core.management.base import BaseCommand, CommandError

from care.engine import alerts_escalate, alerts_evaluate, default_business_date
from care.rules import RULES


class Command(BaseCommand):
    help = (
        "Evaluate the alert rules (docs/alerts.md) for a business date: default the last loaded one. "
        "Idempotent: the same date again raises nothing new. Prints the new alerts per kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the business date, YYYY-MM-DD (default: the last loaded)")
        parser.add_argument(
            "--kind",
            action="append",
            choices=[str(rule.kind) for rule in RULES],
            help="only this rule (repeatable; default: every rule)",
        )
        parser.add_argument(
            "--escalate", action="store_true", help="then escalate the alerts open past their due date"
        )

    def handle(self, *args, date: str | None, kind: list[str] | None, escalate: bool, **options):
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError as bad:
                raise CommandError(f"{date!r} is not a date (YYYY-MM-DD).") from bad
        else:
            day = default_business_date()
        try:
            counts = alerts_evaluate(day=day, kinds=kind, source="command")
        except RuntimeError as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(f"Alerts for {day:%Y-%m-%d}:")
        for name, count in counts.items():
            self.stdout.write(f"  {name:<20} {count:>9,}")
        self.stdout.write(f"  {'total':<20} {sum(counts.values()):>9,}")
        if escalate:
            self.stdout.write(f"Escalated: {alerts_escalate(source='command'):,}")

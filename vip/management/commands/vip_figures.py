from django.core.management.base import BaseCommand

from vip.services import figures_rebuild


class Command(BaseCommand):
    help = (
        "Build again the figures the book, home and VIP report pages read (counts and AUM per manager, "
        "branch and tier; tiers held at each month end), e.g. after the assignment history was imported "
        "or customers were merged. The nightly chain builds them after every load."
    )

    def handle(self, *args, **options):
        build = figures_rebuild()
        self.stdout.write(
            f"Figures built for the business date {build.business_date:%Y-%m-%d}: "
            f"{len(build.months)} months, {build.seconds:.1f} s."
        )

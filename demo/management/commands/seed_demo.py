from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.org import DEMO_ORG, DEMO_USERS, seed_org, seed_users
from demo.seed import DemoLoadError, seed_demo_bank


class Command(BaseCommand):
    help = (
        "Create the demo organisation and demo users (idempotent); optionally demo customers, whose "
        "business date is loaded from a core-banking batch by the nightly job's loader."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=0, help="number of demo customers")

    def handle(self, *args, customers: int, **options):
        if customers < 0:
            self.stderr.write("--customers must be 0 or more")
            raise SystemExit(2)
        with transaction.atomic():
            branches = seed_org()
            seed_users(branches)
        self.stdout.write("Demo organisation (branch codes):")
        for code, name, level, _parent in DEMO_ORG:
            self.stdout.write(f"  {'  ' * level}{code} {name}")
        if customers:
            try:
                seed_demo_bank(customers=customers, write=self.stdout.write)
            except DemoLoadError as error:
                raise CommandError(str(error)) from error
        self.stdout.write("Demo users:")
        for username, _no, _name, role, branch in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role:<18} {branch}")
        self.stdout.write(self.style.SUCCESS(f"Demo password: {settings.DEMO_PASSWORD}"))

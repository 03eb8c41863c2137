from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_ORG, DEMO_USERS, seed_org, seed_users


class Command(BaseCommand):
    help = "Create the demo organisation and demo users (idempotent); optionally demo customers."

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
            from customers.demo import seed_customers

            created = seed_customers(count=customers, stdout=self.stdout)
            self.stdout.write(f"Demo customers: {created} created.")
            from vip.demo import seed_vip

            seed_vip(write=self.stdout.write)
            from marketing.demo import seed_marketing

            seed_marketing(write=self.stdout.write)
        self.stdout.write("Demo users:")
        for username, _no, _name, role, branch in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role:<18} {branch}")
        self.stdout.write(self.style.SUCCESS(f"Demo password: {settings.DEMO_PASSWORD}"))

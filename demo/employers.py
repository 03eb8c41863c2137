"""Employers and their payroll customers for the demo (idempotent), run by
`seed_demo` after the marketing data: five employers of Beijing and Shanghai and,
for each demo client manager, a few of their customers paid by one of them, some
since this month (the indicator of new payroll customers counts them), one
relationship ended. Written through the services (customers.employers), so the
audit trail holds; bounded (a few dozen rows) at any number of customers. The
relationships are made in one transaction, once: a second run finds them and
makes none (the demo's transfers may have changed the customers' managers)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from customers.employer_choices import Industry
from customers.employers import employer_create, payroll_end, payroll_link
from customers.models import Customer, Employer, PayrollLink
from customers.uscc import make_uscc

# name, the first 17 characters of the unified social credit code, industry, contact
EMPLOYERS: list[tuple[str, str, str, str, str]] = [
    ("北京中关村智造科技有限公司", "91110108MA01C7K2X", Industry.IT, "刘人事", "010-62810001"),
    ("北京国贸商业管理有限公司", "91110105MA00B3H1N", Industry.BUSINESS_SERVICES, "陈经理", "010-65050002"),
    ("北京市海淀区实验中学", "12110108400512346", Industry.EDUCATION, "王老师", "010-62550003"),
    ("上海浦东精密制造股份有限公司", "91310115MA1H8Q2R3", Industry.MANUFACTURING, "张主管", "021-58880004"),
    ("上海陆家嘴金融服务有限公司", "91310115MA1K4T7W6", Industry.FINANCE, "李总监", "021-68880005"),
]
# Which employers pay each demo manager's customers, and how many of them.
BOOKS = {"demo_cm1": (0, 1, 2), "demo_cm2": (0, 2), "demo_cm3": (3, 4)}
PER_MANAGER = 6


def seed_employers(
    *, business_date: datetime.date, write: Callable[[str], object] = lambda text: None
) -> dict[str, int]:
    by = User.objects.filter(username="demo_bm", is_active=True).first()
    if by is None or not Customer.objects.exists():
        return {}
    counts = {"employers": 0, "links": 0}
    employers = []
    for name, first17, industry, person, phone in EMPLOYERS:
        uscc = make_uscc(first17)
        employer = Employer.objects.filter(uscc=uscc).first()
        if employer is None:
            employer = employer_create(
                user=by, name=name, uscc=uscc, industry=industry, contact_person=person, contact_phone=phone
            )
            counts["employers"] += 1
        employers.append(employer)
    if PayrollLink.objects.filter(employer__in=employers).exists():
        # a second run: the relationships were made (all at once), whoever looks
        # after these customers now
        return counts
    today = min(business_date, timezone.localdate())
    month_start = today.replace(day=1)
    with transaction.atomic():
        for username, chosen in BOOKS.items():
            customers = Customer.objects.filter(
                primary_manager__username=username, merged_into__isnull=True
            ).order_by("customer_no")[:PER_MANAGER]
            for i, customer in enumerate(customers):
                # the first two since this month (new payroll customers), the others for years
                since = month_start if i < 2 else today - datetime.timedelta(days=400 + 30 * i)
                link = payroll_link(
                    user=by,
                    employer=employers[chosen[i % len(chosen)]],
                    customer=customer,
                    since=since,
                    account=customer.accounts.order_by("open_date", "pk").first(),
                    monthly_amount=Decimal(8000 + 1500 * i),
                )
                counts["links"] += 1
                if i == PER_MANAGER - 1:  # moved on: kept as history
                    payroll_end(user=by, link=link, until=today - datetime.timedelta(days=30))
    write(
        "Employers demo data created: {employers} employers, {links} payroll relationships.".format(**counts)
    )
    return counts

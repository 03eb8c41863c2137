"""Account-opening requests (开户预约) of the demo (idempotent), run by `seed_demo`
after the marketing data: about forty requests of the client managers' largest
customers, at their home branches, each for a product the customer's risk
assessment allows, in every state a request can be in before core banking reports
its account -- appointed this week (the branches' calendars are not empty), waiting
for a time, appointed next week, overdue (with and without a time) and cancelled.
And one per client manager that the business date's batch confirms: their first
customer, who buys the everyday wealth product that day (`demo.business_day`),
asked for it at the branch three days before; the load's account then confirms it
and becomes the manager's sale.

Every request is recorded (and cancelled) through the services, so suitability,
the scope and the audit trail hold; the overdue ones and this week's earlier days
are then moved back in time (their recording and appointment), as the history of
a bank that had been taking requests for weeks. A fixed seed makes the choices the
same on every run; a second run creates nothing."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from customers.models import Customer
from marketing import suitability
from marketing.choices import OPEN_OPENING_STATUSES, OpeningStatus
from marketing.models import Channel, OpeningRequest, Product
from marketing.selectors import on_sale
from marketing.services.openings import opening_cancel, opening_request

from .business_day import EVERYDAY_PRODUCT, everyday_buyers

SEED = 20260601
PER_MANAGER = 5
# what becomes of each of a manager's requests, in turn
PLAN = ("this_week", "waiting", "overdue", "cancelled", "next_week", "this_week", "overdue_waiting")
NOTES = {
    "this_week": "客户已确认到网点办理",
    "waiting": "客户有意向，待约时间",
    "overdue": "客户未按约到店，待回访",
    "cancelled": "",
    "next_week": "客户出差，下周到店",
    "overdue_waiting": "多次联系未果",
    "to_confirm": "客户约定当日到网点购买",
}
CANCEL_REASONS = ("客户资金另有安排", "客户改投其他产品", "客户暂不需要")


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _managers() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.CLIENT_MANAGER, is_active=True).order_by("username").distinct()
    )


def _amount(customer: Customer, product: Product) -> Decimal:
    share = (customer.aum * Decimal("0.1") / 10000).to_integral_value(rounding=ROUND_FLOOR) * 10000
    return max(share, product.min_amount, Decimal("10000"))


def _channel(product: Product, channels: dict[str, Channel]) -> Channel:
    for code in [*(product.channels or []), "counter"]:
        if code in channels:
            return channels[code]
    return next(iter(channels.values()))


def seed_openings(
    *, business_date: datetime.date, write: Callable[[str], object] = lambda text: None
) -> dict[str, int]:
    """The demo's requests; {} when there are some already (or nothing to make them of)."""
    if OpeningRequest.objects.exists():
        return {}
    today = timezone.localdate()
    products = list(on_sale(Product.objects.all(), on=today).order_by("category", "code"))
    channels = {c.code: c for c in Channel.objects.filter(is_active=True).order_by("position")}
    managers = _managers()
    if not products or not channels or not managers:
        return {}
    rng = random.Random(SEED)  # noqa: S311  (demo data, not secrets)
    counts = dict.fromkeys(PLAN, 0)
    turn = 0
    with transaction.atomic():
        for manager in managers:
            customers = list(
                Customer.objects.filter(primary_manager=manager, home_branch__isnull=False)
                .select_related("home_branch")
                .order_by("-aum", "pk")[: PER_MANAGER * 3]
            )
            rng.shuffle(customers)
            made = 0
            for customer in customers:
                if made == PER_MANAGER:
                    break
                kind = PLAN[turn % len(PLAN)]
                allowed = [p for p in products if suitability.check(customer, p, on=today).allowed]
                if not allowed:
                    continue
                product = rng.choice(allowed)
                _make(kind, rng, manager, customer, product, _channel(product, channels), today)
                counts[kind] += 1
                made += 1
                turn += 1
        counts["to_confirm"] = _the_load_confirms(business_date, channels)
    total = sum(counts.values())
    write(
        "Account-opening requests: {total} ({this_week} appointed this week, {next_week} next week, "
        "{waiting} waiting for a time, {overdue} overdue with a time, {overdue_waiting} overdue without "
        "one, {cancelled} cancelled, {to_confirm} for the business date's batch to confirm)."
        "".format(total=total, **counts)
    )
    return {"openings": total, **counts}


def _the_load_confirms(business_date: datetime.date, channels: dict[str, Channel]) -> int:
    """A request of each everyday buyer for the product they buy on the business date,
    by their manager, through the manager, recorded three days before with the
    business date as its appointment: the day's batch brings the account."""
    code, _category = EVERYDAY_PRODUCT
    product = Product.objects.filter(code=code).first()
    if product is None or "manager" not in channels:
        return 0
    made = 0
    for customer in everyday_buyers():
        manager = customer.primary_manager
        if manager is None or not suitability.check(customer, product).allowed:
            continue
        open_ones = OpeningRequest.objects.filter(status__in=OPEN_OPENING_STATUSES)
        if open_ones.filter(customer=customer, product=product).exists():
            continue
        request = opening_request(
            user=manager,
            customer=customer,
            product=product,
            channel=channels["manager"],
            branch=customer.home_branch,
            expected_amount=_amount(customer, product),
            note=NOTES["to_confirm"],
        )
        _move(
            request,
            recorded=_at(business_date - datetime.timedelta(days=3), 9),
            appointment=_at(business_date, 10),
        )
        OpeningRequest.objects.filter(pk=request.pk).update(status=OpeningStatus.APPOINTED)
        made += 1
    return made


def _make(kind, rng, manager, customer, product, channel, today) -> OpeningRequest:
    tomorrow = today + datetime.timedelta(days=1)
    hour = rng.choice((9, 10, 11, 14, 15, 16))
    minute = rng.choice((0, 30))
    appointment = None
    if kind in ("this_week", "overdue", "cancelled"):
        appointment = _at(tomorrow, hour, minute)
    elif kind == "next_week":
        appointment = _at(
            today + datetime.timedelta(days=7 - today.weekday() + rng.randrange(5)), hour, minute
        )
    request = opening_request(
        user=manager,
        customer=customer,
        product=product,
        channel=channel,
        branch=customer.home_branch,
        appointment_at=appointment,
        expected_amount=_amount(customer, product),
        note=NOTES.get(kind, ""),
    )
    monday = today - datetime.timedelta(days=today.weekday())
    if kind == "this_week":
        # any day of this week, the days before today as already past
        day = monday + datetime.timedelta(days=rng.randrange(7))
        _move(
            request,
            recorded=_at(day - datetime.timedelta(days=rng.randint(2, 5)), 9),
            appointment=_at(day, hour, minute),
        )
    elif kind == "overdue":
        day = today - datetime.timedelta(days=rng.randint(9, 20))
        _move(request, recorded=_at(day - datetime.timedelta(days=3), 10), appointment=_at(day, hour, minute))
    elif kind == "overdue_waiting":
        _move(
            request, recorded=_at(today - datetime.timedelta(days=rng.randint(9, 15)), 11), appointment=None
        )
    elif kind == "cancelled":
        _move(
            request,
            recorded=_at(today - datetime.timedelta(days=rng.randint(1, 6)), 15),
            appointment=appointment,
        )
        opening_cancel(request, user=manager, reason=rng.choice(CANCEL_REASONS))
    return request


def _move(
    request: OpeningRequest, *, recorded: datetime.datetime, appointment: datetime.datetime | None
) -> None:
    """The demo's history: the request as recorded (and appointed) days ago."""
    OpeningRequest.objects.filter(pk=request.pk).update(created_at=recorded, appointment_at=appointment)
    request.created_at, request.appointment_at = recorded, appointment

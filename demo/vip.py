"""VIP demo data (idempotent), run by `seed_demo` after the demo customers: the
tiers evaluated month by month over the last half-year (so the history and the
migration matrix mean something) and as of the business date, the contact
warnings, a few registered VIPs, a prospect and a transfer waiting for the branch
head."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Min

from accounts.models import User
from core.months import month_back
from customers.models import Customer, CustomerMonthlyAum
from vip.choices import ProspectSource, RunStatus, TransferStatus, VipStatus
from vip.evaluation import evaluate_tiers, latest_business_date
from vip.models import EvaluationRun, TransferRequest, VipProspect
from vip.services import prospect_create, transfer_request, vip_register
from vip.standards import contact_warnings_refresh

HISTORY_MONTHS = 6


def _month_end(month: datetime.date) -> datetime.date:
    return month_back(month, -1) - datetime.timedelta(days=1)


def seed_vip(*, write=lambda text: None, business_date: datetime.date | None = None) -> dict[str, int]:
    """`business_date` defaults to the latest date with daily AUM (or yesterday)."""
    if not Customer.objects.exists():
        return {}
    latest = business_date or latest_business_date()
    counts: dict[str, int] = {}
    if not EvaluationRun.objects.filter(source="seed_demo").exists():
        first_month = CustomerMonthlyAum.objects.aggregate(m=Min("month"))["m"] or latest.replace(day=1)
        # Month ends of the last half-year (as far as the data goes), then today.
        for k in range(HISTORY_MONTHS, 0, -1):
            month = month_back(latest.replace(day=1), k)
            if month < first_month:
                continue
            evaluate_tiers(as_of=_month_end(month), source="seed_demo", remind=False)
    # As of the business date, unless it was evaluated already (a second run of the
    # seeding, or the jobs after the demo load): running it again would change nothing.
    if not EvaluationRun.objects.filter(as_of=latest, status=RunStatus.DONE).exists():
        run = evaluate_tiers(as_of=latest, source="seed_demo")
        counts["tier_changes"] = run.counts.get("tier_changes", 0)
    counts["warnings"] = contact_warnings_refresh().get("warned", 0)
    counts.update(_seed_lifecycle())
    write(
        "VIP demo data: tiers evaluated ({tier_changes} changes today), {warnings} contact warnings, "
        "{registered} registered VIPs, {prospects} prospects, {transfers} transfers waiting.".format(
            **{"tier_changes": 0, "registered": 0, "prospects": 0, "transfers": 0, **counts}
        )
    )
    return counts


@transaction.atomic
def _seed_lifecycle() -> dict[str, int]:
    users = {u.username: u for u in User.objects.filter(username__in=["demo_bm", "demo_cm1", "demo_cm2"])}
    if len(users) < 3:
        return {}
    bm, cm1, cm2 = users["demo_bm"], users["demo_cm1"], users["demo_cm2"]
    counts = {"registered": 0, "prospects": 0, "transfers": 0}
    if not Customer.objects.filter(vip_status=VipStatus.REGISTERED).exists():
        top = Customer.objects.exclude(tier="").filter(merged_into__isnull=True).order_by("-aum", "-id")[:12]
        for customer in top:
            vip_register(
                customer=customer, by=bm, benefits="专属理财经理、机场贵宾厅、体检服务", reason="演示数据"
            )
            counts["registered"] += 1
    if not VipProspect.objects.exists():
        prospect_create(
            by=cm1,
            name="周慧敏",
            mobile="13912345678",
            source=ProspectSource.REFERRAL,
            estimated_assets=Decimal("2000000"),
            held_at="他行私人银行",
            note="客户王先生推荐（演示数据）",
        )
        counts["prospects"] += 1
        elsewhere = Customer.objects.filter(primary_manager=cm1, vip_status="").order_by("-aum").first()
        if elsewhere is not None:
            prospect_create(
                by=cm1,
                name="",
                source=ProspectSource.ASSETS_ELSEWHERE,
                estimated_assets=Decimal("1500000"),
                held_at="某股份制银行理财",
                customer=elsewhere,
            )
            counts["prospects"] += 1
    if not TransferRequest.objects.filter(status=TransferStatus.PENDING).exists():
        customer = Customer.objects.filter(primary_manager=cm1).order_by("aum").first()
        if customer is not None:
            transfer_request(
                customer=customer, to_manager=cm2, by=cm1, reason="客户居住地变更，就近服务（演示数据）"
            )
            counts["transfers"] += 1
    return counts

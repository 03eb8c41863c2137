"""Marketing fixtures: a small known book of customers across two branches, the
catalogue, and helpers that drive campaigns through their flow."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from customers.choices import AccountCategory
from customers.services import assignment_set_primary
from marketing import services
from marketing.choices import CampaignObjective, RiskRating
from marketing.models import Product
from tests.customers.factories import AccountFactory, CustomerFactory

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture
def users(demo_users, make_user):
    """Demo users plus a second business manager (the approver)."""
    users = dict(demo_users)
    users["bm2"] = make_user("business_manager", "10000", username="bm2")
    return users


@pytest.fixture
def make_customer(org):
    def _make(*, branch="11101", manager=None, **fields):
        customer = CustomerFactory(home_branch=org[branch], **fields)
        if manager is not None:
            assignment_set_primary(
                customer=customer,
                manager=manager,
                by=None,
                reason="test",
                on=fields.get("open_date") or datetime.date(2020, 1, 1),
            )
            customer.refresh_from_db()
        return customer

    return _make


@pytest.fixture
def add_account():
    def _add(customer, **fields):
        return AccountFactory(customer=customer, **fields)

    return _add


@pytest.fixture
def products(db):
    """A deposit (no rating), a balanced wealth product (R3), an aggressive fund (R5)."""
    common = {"sale_start": datetime.date(2020, 1, 1), "channels": ["manager", "mobile"]}
    return {
        "deposit": Product.objects.create(
            code="TD-12M",
            name="一年定期",
            category=AccountCategory.DEP_TIME,
            term_days=365,
            rate=Decimal("1.65"),
            **common,
        ),
        "wealth": Product.objects.create(
            code="WM-2026A",
            name="稳健理财2026A",
            category=AccountCategory.WEALTH,
            risk_rating=RiskRating.R3,
            min_amount=Decimal("10000"),
            rate=Decimal("2.85"),
            term_days=180,
            **common,
        ),
        "fund": Product.objects.create(
            code="FD-519732",
            name="成长股票基金",
            category=AccountCategory.FUND,
            risk_rating=RiskRating.R5,
            min_amount=Decimal("1000"),
            **common,
        ),
        "payroll": Product.objects.create(
            code="DC-SALARY", name="代发工资卡", category=AccountCategory.DEP_CUR, is_payroll=True, **common
        ),
    }


@pytest.fixture
def segment_for(users):
    def _make(rules, *, owner=None, name="客群"):
        return services.segment_save(user=owner or users["demo_bm"], name=name, rules=rules)

    return _make


@pytest.fixture
def running_campaign(users, segment_for, products):
    """A campaign driven to running: created and submitted by demo_bm, approved by
    bm2, started by demo_bm (targets frozen)."""

    def _make(
        rules=None, *, product_keys=("wealth",), channels=("call", "sms"), name="理财推广", segment=None
    ):
        today = timezone.localdate()
        campaign = services.campaign_create(
            user=users["demo_bm"],
            name=name,
            objective=CampaignObjective.CROSS_SELL,
            segment=segment or segment_for(rules or {}),
            channels=list(channels),
            budget=Decimal("10000"),
            start_date=today - datetime.timedelta(days=10),
            end_date=today + datetime.timedelta(days=30),
            products=[products[k] for k in product_keys],
        )
        services.campaign_submit(campaign=campaign, user=users["demo_bm"])
        services.campaign_approve(campaign=campaign, user=users["bm2"])
        return services.campaign_start(campaign=campaign, user=users["demo_bm"])

    return _make


def campaign_actions(campaign) -> list[str]:
    """The audit trail of a campaign: its actions, oldest first."""
    return list(
        AuditEvent.objects.filter(target_type="marketing.campaign", target_id=str(campaign.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )

"""Marketing demo data (demo.marketing.seed_marketing) on top of the demo org, users,
customers and VIP data: a running campaign demo_cm1 can work, a campaign waiting
for demo_bm's approval, a task decomposed down to demo_cm1, every step through the
services (audited), and a second run that creates nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts.models import AuditEvent, User
from customers.models import Customer, Interaction
from demo.marketing import BOUNDED_TARGETS, seed_marketing
from demo.seeding import seed_customers
from demo.vip import seed_vip
from marketing import services
from marketing.choices import (
    AllocationStatus,
    CampaignStatus,
    MarketingAction,
    PolicyStatus,
    TaskStatus,
)
from marketing.models import (
    Campaign,
    CampaignTarget,
    ContactPolicy,
    MarketingContact,
    MarketingProfile,
    MarketingTask,
    Opportunity,
    Product,
    Promotion,
    Sale,
    Segment,
    TaskAllocation,
)
from marketing.policy import current_policy
from marketing.selectors import (
    allocations_waiting_for,
    campaign_list,
    open_targets,
    opportunity_list,
    task_list,
)
from tests.marketing.conftest import campaign_actions

pytestmark = pytest.mark.django_db
N = 300


@pytest.fixture
def seeded(demo_users):
    assert seed_customers(count=N) == N
    seed_vip()
    lines = []
    counts = seed_marketing(write=lines.append)
    assert len(lines) == 1 and lines[0].startswith("Marketing demo data")
    return demo_users, counts


def test_nothing_without_customers(demo_users):
    assert seed_marketing() == {}
    assert not Product.objects.exists() and not Campaign.objects.exists()


def test_catalogue_policy_profile_and_segments(seeded):
    users, counts = seeded
    assert counts["products"] == Product.objects.count() >= 6
    categories = set(Product.objects.values_list("category", flat=True))
    assert {"DEP_TIME", "WEALTH", "FUND", "INSURANCE", "DEP_CUR"} <= categories
    ratings = set(Product.objects.filter(category="WEALTH").values_list("risk_rating", flat=True))
    assert len(ratings) >= 3
    assert Product.objects.filter(is_payroll=True).exists()
    assert Promotion.objects.exists()
    policy = ContactPolicy.objects.get()
    assert policy.status == PolicyStatus.ACTIVE and policy.decided_by == users["demo_pm"]
    assert current_policy().max_contacts == policy.max_contacts
    assert MarketingProfile.objects.count() == N
    assert Segment.objects.filter(owner=users["demo_bm"]).count() >= 3
    assert set(Campaign.objects.values_list("status", flat=True)) == {
        CampaignStatus.DRAFT,
        CampaignStatus.SUBMITTED,
        CampaignStatus.RUNNING,
        CampaignStatus.CLOSED,
    }


def test_a_running_campaign_demo_cm1_can_work(seeded):
    users, _counts = seeded
    cm1 = users["demo_cm1"]
    campaign = Campaign.objects.get(status=CampaignStatus.RUNNING)
    assert campaign.decided_by_id not in (None, campaign.proposed_by_id)
    targets = CampaignTarget.objects.filter(campaign=campaign)
    # bounded to the largest customers of one manager's book, all in demo_cm1's scope
    assert 0 < targets.count() <= 2 * BOUNDED_TARGETS
    visible = set(Customer.objects.visible_to(cm1).values_list("pk", flat=True))
    assert set(targets.values_list("customer_id", flat=True)) <= visible
    assert campaign.target_count == targets.filter(excluded_reason="").count() > 0
    assert open_targets(user=cm1).filter(campaign=campaign).exists()
    # worked by demo_cm1 under the contact policy: contacts with different outcomes,
    # each also on the customer's timeline
    contacts = MarketingContact.objects.filter(campaign=campaign)
    assert set(contacts.values_list("manager_id", flat=True)) == {cm1.pk}
    assert len(set(contacts.values_list("outcome", flat=True))) >= 3
    assert Interaction.objects.filter(pk__in=contacts.values("interaction_id")).count() == contacts.count()
    # one opportunity won into a sale attributed to demo_cm1, one still open
    sale = Sale.objects.get(campaign=campaign)
    assert sale.manager_id == cm1.pk and sale.opportunity.stage == "won"
    assert sale.target.status == "converted"
    assert opportunity_list(user=cm1).filter(campaign=campaign).exists()
    actions = campaign_actions(campaign)
    assert actions == [
        MarketingAction.CAMPAIGN_CREATED,
        MarketingAction.CAMPAIGN_SUBMITTED,
        MarketingAction.CAMPAIGN_APPROVED,
        MarketingAction.CAMPAIGN_STARTED,
    ]


def test_the_closed_campaign_was_worked_before_it_closed(seeded):
    campaign = Campaign.objects.get(status=CampaignStatus.CLOSED)
    assert campaign.end_date < campaign.closed_at.date()
    assert MarketingContact.objects.filter(campaign=campaign).exists()
    sale = Sale.objects.get(campaign=campaign)
    assert campaign.start_date <= sale.sale_date <= campaign.end_date


def test_a_campaign_waits_for_demo_bms_approval(seeded):
    users, _counts = seeded
    bm = users["demo_bm"]
    waiting = campaign_list(user=bm, status=CampaignStatus.SUBMITTED).get()
    assert waiting.proposed_by_id != bm.pk and bm.has_perm("marketing.approve_campaign")
    assert services.campaign_approve(campaign=waiting, user=bm).status == CampaignStatus.APPROVED


def test_a_task_decomposed_down_to_demo_cm1(seeded):
    users, _counts = seeded
    cm1 = users["demo_cm1"]
    task = MarketingTask.objects.get()
    assert task.status == TaskStatus.ISSUED
    assert task_list(user=cm1).filter(pk=task.pk).exists()
    share = allocations_waiting_for(cm1).get(task=task)
    chain, node = [], share
    while node.parent_id:
        node = node.parent
        chain.append(node.branch.code)
    assert chain == ["11100", "11000", "10000"]
    assert all(
        a.status == AllocationStatus.ACCEPTED for a in TaskAllocation.objects.filter(branch__code__in=chain)
    )
    for parent in TaskAllocation.objects.filter(task=task, children__isnull=False).distinct():
        assert sum((c.target for c in parent.children.all()), Decimal("0")) == parent.target


def test_demo_cm1_sees_the_marketing_pages(seeded, client, demo_password):
    client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
    campaign = Campaign.objects.get(status=CampaignStatus.RUNNING)
    for url in ("/marketing/", "/marketing/targets/", "/marketing/opportunities/", "/marketing/tasks/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert campaign.name in client.get("/marketing/targets/").content.decode()


def test_a_second_run_creates_nothing(seeded):
    models = [
        Product,
        Promotion,
        ContactPolicy,
        Segment,
        Campaign,
        CampaignTarget,
        MarketingContact,
        Opportunity,
        Sale,
        MarketingTask,
        TaskAllocation,
        User,
        Group,
        AuditEvent,
        Interaction,
    ]
    before = {m.__name__: m.objects.count() for m in models}
    counts = seed_marketing()
    assert set(counts.values()) == {0}
    assert {m.__name__: m.objects.count() for m in models} == before

"""demo_bm, business manager at head office: what waits for a decision on the home
page, a customer transfer approved, a submitted campaign approved and a draft one
submitted (to another business manager), the bank's customers with their tiers by
name, the VIP report and the performance periods."""

import pytest

from accounts.roles import Role
from marketing.choices import CampaignStatus
from tests.journeys.journey import zh

pytestmark = pytest.mark.browser


def test_a_business_managers_day(journey):
    bm = journey("demo_bm")
    page = bm.page

    # the home page: the decisions waiting, counted by kind
    bm.log_in()
    assert zh(Role.BUSINESS_MANAGER.label) in bm.text("main")
    assert any(char.isdigit() for char in bm.text("[data-testid=pending-decisions]"))

    # the transfer waiting for a decision: approved, the answer names who looks after whom
    bm.visit("/vip/approvals/", "approvals")
    transfer = page.locator("[data-testid=transfers-to-approve] tbody tr").first
    customer = transfer.locator("a").first.inner_text().split()  # number and name
    to_manager = transfer.locator("td").filter(has_text="(E").first.inner_text().split("(")[0].strip()
    bm.submit(
        "[data-testid=transfers-to-approve] tbody tr >> nth=0 >> [data-testid=approve-transfer]",
        "transfer-approved",
    )
    [message] = bm.said()
    assert customer[1][0] in message and to_manager in message  # the customer's surname (masked or not)

    # the campaigns: statuses and objectives in words, budgets formatted
    text = bm.visit("/marketing/", "campaigns")
    assert zh(CampaignStatus.SUBMITTED.label) in text
    bm.column_amounts("[data-testid=campaign-table]", "预算")

    # a campaign another business manager submitted: approved
    row = page.locator("[data-testid=campaign-table] tbody tr").filter(
        has_text=zh(CampaignStatus.SUBMITTED.label)
    )
    name = row.first.locator("a").inner_text().strip()
    bm.follow(f"[data-testid=campaign-table] a:has-text('{name}')", "campaign-submitted")
    page.fill("form:has([data-testid=approve]) input[name=comment]", "同意，注意控制预算")
    bm.submit("[data-testid=approve]", "campaign-approved")
    [message] = bm.said()
    assert name in message
    assert bm.text("[data-testid=campaign-status]") == zh(CampaignStatus.APPROVED.label)

    # a draft: submitted for approval, the answer says who decides next
    bm.visit("/marketing/", "campaigns-after")
    row = page.locator("[data-testid=campaign-table] tbody tr").filter(
        has_text=zh(CampaignStatus.DRAFT.label)
    )
    name = row.first.locator("a").inner_text().strip()
    bm.follow(f"[data-testid=campaign-table] a:has-text('{name}')", "campaign-draft")
    bm.submit("[data-testid=submit]", "campaign-submitted-for-approval")
    [message] = bm.said()
    assert name in message
    assert bm.text("[data-testid=campaign-status]") == zh(CampaignStatus.SUBMITTED.label)

    # the bank's customers, richest first: tiers by their names, AUM formatted
    text = bm.visit("/customers/", "customers")
    assert "白金级" in bm.text("[data-testid=customer-table]")
    bm.column_amounts("[data-testid=customer-table]", "资产(AUM)")

    # the VIP report and the periods of performance
    bm.visit("/vip/reports/", "vip-report")
    bm.column_amounts("[data-testid=report-by-branch]", "资产(AUM)")
    # the performance periods: last month published, by the version's words
    bm.visit("/performance/periods/", "performance-periods")
    assert page.locator("[data-testid=period-row]").count() > 0

    bm.finish()

"""demo_bh, head of 11100 海淀支行: the team's overdue work on the home page, the
morning meeting's figures, an alert of one manager handed over to another, the
managers and their books, the branch's customers, the VIP report and the ranking
of its outlets."""

import pytest

from accounts.roles import Role
from care.choices import AlertKind
from tests.journeys.journey import AMOUNT, zh

pytestmark = pytest.mark.browser


def test_a_branch_heads_day(journey):
    bh = journey("demo_bh")
    page = bh.page

    # the home page: the role in words, the team's overdue alerts by manager's name
    bh.log_in()
    assert zh(Role.BRANCH_HEAD.label) in bh.text("main")
    team = bh.text("[data-testid=team-overdue]")
    assert "王经理" in team and "李经理" in team

    # the morning meeting: a row per manager, the sales amounts formatted
    bh.visit("/care/meeting/", "morning-meeting")
    rows = bh.texts("[data-testid=meeting-row]")
    assert any("王经理" in row for row in rows) and any("李经理" in row for row in rows)
    totals = bh.text("[data-testid=meeting-totals]")
    assert any(AMOUNT.match(cell) for cell in totals.split())

    # an overdue contact of 李经理's cannot go to 王经理, who does not see the customer
    bh.visit("/care/alerts/", "alerts")
    row = (
        page.locator("[data-testid=alert-row]")
        .filter(has_text=zh(AlertKind.CONTACT_OVERDUE.label))
        .filter(has_text="李经理")
        .first
    )
    with page.expect_navigation():
        row.locator("a[href^='/care/alerts/']").click()
    bh.look("alert")
    page.select_option("[data-testid=hand-over-form] select[name=to_manager]", label="王经理")
    page.fill("[data-testid=hand-over-form] input[name=reason]", "李经理本周休假")
    bh.submit("[data-testid=hand-over-form] button[type=submit]", "alert-hand-over-refused", status=400)
    refusal = bh.text("[data-testid=hand-over-form]")
    assert zh("That manager may not see this customer: share the customer with them first.") in refusal
    assert "李经理" in bh.text("main dl")

    # a customer in the branch's pool given to 王经理, then its alert handed over to him
    bh.visit("/vip/pool/", "pool")
    customer_no = page.locator("[data-testid=pool-table] tbody input[name=customer]").first.get_attribute(
        "value"
    )
    page.check(f"[data-testid=pool-table] input[value='{customer_no}']")
    page.select_option("select[name=manager]", label="王经理 (E1101) · 中关村网点")
    page.fill("input[name=reason]", "新开户客户就近分配")
    bh.submit("[data-testid=pool-assign]", "pool-assigned")
    [message] = bh.said()
    assert "王经理" in message
    bh.visit(f"/care/alerts/?q={customer_no}", "alerts-of-the-customer")
    with page.expect_navigation():
        page.locator("[data-testid=alert-row] a[href^='/care/alerts/']").first.click()
    bh.look("alert-of-the-customer")
    page.select_option("[data-testid=hand-over-form] select[name=to_manager]", label="王经理")
    page.fill("[data-testid=hand-over-form] input[name=reason]", "客户已分配给王经理")
    bh.submit("[data-testid=hand-over-form] button[type=submit]", "alert-handed-over")
    [message] = bh.said()
    assert "王经理" in message and customer_no in message
    assert "王经理" in bh.text("main dl")

    # the managers and their books: names, AUM formatted
    bh.visit("/vip/managers/", "managers")
    for row in bh.texts("[data-testid=manager-table] tbody tr"):
        assert any(AMOUNT.match(cell) for cell in row.split("\t")), row

    # the branch's customers: tiers and statuses in words, AUM formatted
    bh.visit("/customers/", "customers")
    assert page.locator("[data-testid=customer-table] tbody tr").count() > 0
    bh.column_amounts("[data-testid=customer-table]", "资产(AUM)")

    # the VIP report: levels by name, counts and AUM
    bh.visit("/vip/reports/", "vip-report")
    heads = bh.text("[data-testid=report-by-branch] thead")
    assert "白金级" in heads  # the level's name, as the parameters give it
    bh.column_amounts("[data-testid=report-by-branch]", "资产(AUM)")

    # the ranking of the outlets: every figure formatted
    bh.visit("/performance/branches/", "branch-ranking")
    for row in bh.texts("[data-testid=branch-row]"):
        cells = row.split("\t")
        assert all(AMOUNT.match(cell) for cell in cells[-7:]), row

    bh.finish()

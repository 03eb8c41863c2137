"""demo_admin, system administrator at head office: the accounts waiting and the
loads on the home page, the users with their roles in words, a client manager's
promotion to branch head refused while customers are in his book, a branch head's
move to another sub-branch asked for and waiting for another administrator, and the
audit log."""

import pytest

from accounts.roles import Role
from tests.journeys.journey import zh

pytestmark = pytest.mark.browser


def test_a_system_administrators_day(journey):
    admin = journey("demo_admin")
    page = admin.page

    # the home page: accounts waiting, failed loads
    admin.log_in()
    assert zh(Role.SYSTEM_ADMIN.label) in admin.text("main")
    assert admin.text("[data-testid=pending-users]")
    assert admin.text("[data-testid=failed-loads]")

    # the users: roles and branches in words
    text = admin.visit("/accounts/users/", "users")
    assert zh(Role.CLIENT_MANAGER.label) in text and zh(Role.BRANCH_HEAD.label) in text

    # 李经理 (demo_cm2) cannot become a branch head while customers are in his book
    form = "main form:has(input[name=roles])"
    admin.follow("main a:text-is('demo_cm2')", "user")
    page.uncheck(f"{form} input[name=roles][value={Role.CLIENT_MANAGER}]")
    page.check(f"{form} input[name=roles][value={Role.BRANCH_HEAD}]")
    page.select_option(f"{form} select[name=branch]", label="11200 朝阳支行")
    page.fill(f"{form} input[name=reason]", "晋升为朝阳支行负责人")
    admin.submit(f"{form} button[type=submit]", "user-change-refused", status=400)
    refusal = " ".join(page.locator(".invalid-feedback, .errorlist, .alert-danger").all_inner_texts())
    assert "李经理" in refusal, refusal

    # the head of 北京分行 (bh_11000) moved to 11200 朝阳支行, asked for
    admin.visit("/accounts/users/", "users-again")
    admin.follow("main a:text-is('bh_11000')", "user-branch-head")
    page.select_option(f"{form} select[name=branch]", label="11200 朝阳支行")
    page.fill(f"{form} input[name=reason]", "调任朝阳支行负责人")
    admin.submit(f"{form} button[type=submit]", "user-change-requested")
    [message] = admin.said()
    assert "北京分行行长" in message or "bh_11000" in message

    # the change waits for another administrator: roles and branch in words
    text = admin.visit("/accounts/users/changes/", "user-changes")
    assert "北京分行行长" in text and zh(Role.BRANCH_HEAD.label) in text and "朝阳支行" in text

    # the audit log of the day
    admin.visit("/accounts/audit/", "audit-log")

    admin.finish()

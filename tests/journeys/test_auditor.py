"""demo_audit, auditor at head office: someone fails to log in three times, and the
auditor finds it among the suspicious operations, reviews it, reads the audit log
filtered to failed logins (actions by their names), the usage per branch and the
users with their roles in words."""

import pytest

from accounts.audit import Action
from accounts.models import FindingRule
from accounts.roles import Role
from tests.browser import log_in
from tests.journeys.journey import zh

pytestmark = pytest.mark.browser

SOMEONE = "cm_12202"  # a client manager no other journey logs in as


def test_an_auditors_day(journey):
    audit = journey("demo_audit")
    page = audit.page

    # someone mistypes their password three times: the login page says so in words
    for _ in range(3):
        page.goto(f"{audit.server.url}/accounts/login/")
        page.fill("#id_username", SOMEONE)
        page.fill("#id_password", "wrong-password")
        page.click("[data-testid=login-submit]")
        page.wait_for_load_state()
    audit.look("login-refused")
    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger, .errorlist, .invalid-feedback").count() > 0

    # the auditor's home page: the suspicious operations counted
    log_in(page, audit.server, audit.username, audit.password)
    audit.look("home")
    assert zh(Role.AUDITOR.label) in audit.text("main")
    assert audit.text("[data-testid=suspicious-operations]")

    # the suspicious operations: the failed logins, by rule name; reviewed
    text = audit.visit(f"/accounts/audit/findings/?rule={FindingRule.FAILED_LOGINS.value}", "findings")
    assert zh(FindingRule.FAILED_LOGINS.label) in text
    row = page.locator("main table tbody tr").filter(has_text=SOMEONE).first
    row.locator("select[name=outcome]").select_option(index=2)
    row.locator("input[name=note]").fill("本人确认输错密码")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    audit.look("finding-reviewed")
    audit.said()
    # reviewed, it leaves the list of what is still to review
    assert page.locator("main table tbody tr").filter(has_text=SOMEONE).count() == 0

    # the audit log of that user: the failed logins by the action's name
    text = audit.visit(f"/accounts/audit/?actor={SOMEONE}", "audit-log")
    assert zh(Action.LOGIN_FAILED.label) in text
    assert SOMEONE in text

    # the usage per branch, and the users with their roles in words
    audit.visit("/accounts/audit/usage/", "usage")
    text = audit.visit("/accounts/users/", "users")
    assert zh(Role.CLIENT_MANAGER.label) in text and zh(Role.BRANCH_HEAD.label) in text

    audit.finish()

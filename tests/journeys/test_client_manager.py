"""demo_cm1, client manager at 11101 中关村网点: the morning's "my day", an overdue
contact done from the alerts, the customer's 360 view and a call logged on it, a
visit recorded in the journal with its next step in the plan, the campaign targets
and the month's own figures."""

import datetime
import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from care.choices import AlertKind, AlertOutcome, AlertStatus, JournalKind, VisitPurpose
from care.selectors.plan import week_value
from customers.choices import InteractionKind
from tests.journeys.journey import AMOUNT, zh

pytestmark = pytest.mark.browser


def test_a_client_managers_day(journey):
    cm = journey("demo_cm1")
    page = cm.page

    # my day: greeted by name, the role in words, the day's work counted
    cm.log_in()
    assert "王经理" in cm.text("[data-testid=home-title]")
    assert zh(Role.CLIENT_MANAGER.label) in cm.text("main")
    assert int(cm.text("[data-testid=alerts-due-count]")) > 0
    assert int(cm.text("[data-testid=overdue-contacts-count]")) > 0
    cm.amount("[data-testid=my-contribution]")

    # the alerts: kinds, priorities and statuses in words
    text = cm.visit("/care/alerts/", "alerts")
    rows = page.locator("[data-testid=alert-row]")
    assert rows.count() > 0
    assert zh(AlertStatus.OPEN.label) in text

    # an overdue contact: done, by phone
    overdue = rows.filter(has_text=zh(AlertKind.CONTACT_OVERDUE.label)).first
    with page.expect_navigation():
        overdue.locator("a[href^='/care/alerts/']").click()
    cm.look("alert")
    subject = cm.text("main h1")
    page.select_option("[data-testid=done-form] select[name=outcome]", AlertOutcome.CONTACTED.value)
    page.select_option("[data-testid=done-form] select[name=channel]", InteractionKind.CALL.value)
    page.fill("[data-testid=done-form] input[name=note]", "电话联系，客户下周来网点")
    cm.submit("[data-testid=done-form] button[type=submit]", "alert-done")
    [message] = cm.said()
    assert zh(AlertOutcome.CONTACTED.label) in message
    assert subject.split("·")[-1].strip().split()[0] in message  # the customer's number
    assert cm.text("[data-testid=alert-status]").startswith(zh(AlertStatus.DONE.label))

    # the customer's 360 view: the tier by its name, the AUM formatted
    cm.follow(f"main a:has-text('{zh('Open the customer')}')", "customer")
    customer_no = re.search(r"\d{12}", cm.text("[data-testid=customer-name]")).group()
    assert AMOUNT.match(cm.text("[data-testid=aum]"))
    assert cm.text("[data-testid=tier]")  # a level's name or "no tier", never a code
    for amount in cm.texts("[data-testid=accounts] td.text-end"):
        assert not amount or AMOUNT.match(amount), amount

    # a call logged from the view lands on the timeline, named as a call
    page.select_option("select[name=kind]", InteractionKind.CALL.value)
    page.fill("[data-testid=interaction-subject]", "确认下周到店时间")
    page.click("[data-testid=log-contact]")
    first = page.locator("[data-testid=timeline] li").first
    first.filter(has_text="确认下周到店时间").wait_for()
    assert zh(InteractionKind.CALL.label) in first.inner_text()
    cm.look("customer-call-logged")

    # a visit recorded in the journal: its next step goes into the plan
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    cm.visit(f"/care/journal/new/?customer={customer_no}", "journal-new")
    page.select_option("#id_kind", JournalKind.VISIT.value)
    page.select_option("#id_purpose", VisitPurpose.PRODUCT.value)
    page.fill("#id_feedback", "对一年期理财有兴趣")
    page.fill("#id_next_step", "送产品说明书")
    page.fill("#id_next_step_date", tomorrow.isoformat())
    text = cm.submit("[data-testid=journal-form] button", "journal")
    [message] = cm.said()
    assert zh(JournalKind.VISIT.label) in message and customer_no in message
    assert tomorrow.isoformat() in message
    assert zh(VisitPurpose.PRODUCT.label) in cm.text("[data-testid=journal-table]")

    text = cm.visit(f"/care/plan/?week={week_value(tomorrow)}", "plan")
    assert "送产品说明书" in text

    # the campaign targets: statuses in words
    text = cm.visit("/marketing/targets/", "targets")
    assert page.locator("[data-testid=my-targets] tbody tr").count() > 0

    # the month's own figures: amounts formatted, the rank and grade said
    cm.visit("/performance/", "performance")
    cm.amount("[data-testid=my-total]")
    assert re.search(r"\d", cm.text("[data-testid=my-rank]"))
    assert cm.text("[data-testid=my-grade]")

    cm.finish()

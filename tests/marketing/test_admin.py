"""The parameter manager's admin: products by spreadsheet (validated row by row,
audited) and the contact policy with maker-checker."""

import datetime

import pytest
import tablib

from accounts.models import AuditEvent
from marketing.admin import ProductResource
from marketing.choices import PolicyStatus
from marketing.models import ContactPolicy, Product
from tests.conftest import PASSWORD
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db
HEADERS = ["code", "name", "category", "risk_rating", "min_amount", "term_days", "rate", "price",
           "sale_start", "sale_end", "channels", "is_payroll", "is_active", "description"]  # fmt: skip


def test_products_import_validates_each_row_and_updates_by_code(demo_users):
    Product.objects.create(code="TD-12M", name="旧名", category="DEP_TIME")
    data = tablib.Dataset(headers=HEADERS)
    data.append(
        [
            "TD-12M",
            "一年定期",
            "DEP_TIME",
            "",
            "50",
            "365",
            "1.65",
            "",
            "2026-01-01",
            "",
            "counter,mobile",
            "0",
            "1",
            "",
        ]
    )
    data.append(
        [
            "WM-NEW",
            "新理财",
            "WEALTH",
            "R2",
            "10000",
            "90",
            "2.5",
            "",
            "2026-01-01",
            "2026-12-31",
            "manager",
            "0",
            "1",
            "",
        ]
    )
    result = ProductResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    product = Product.objects.get(code="TD-12M")
    assert product.name == "一年定期" and product.channels == ["counter", "mobile"]
    assert Product.objects.count() == 2
    assert AuditEvent.objects.filter(action="parameter_changed", details__parameter="product").count() == 2

    bad = tablib.Dataset(headers=HEADERS)
    bad.append(["FD-X", "无评级基金", "FUND", "", "0", "", "", "", "", "", "", "0", "1", ""])
    bad.append(
        ["WM-Y", "倒置", "WEALTH", "R1", "0", "", "", "", "2026-05-01", "2026-01-01", "fax", "0", "1", ""]
    )
    result = ProductResource().import_data(bad, dry_run=True)
    assert result.has_validation_errors()
    messages = " ".join(str(e) for row in result.invalid_rows for e in row.error_dict.values())
    assert (
        "needs a risk rating" in messages
        and "ends before it starts" in messages
        and "Unknown code" in messages
    )
    assert not Product.objects.filter(code__in=["FD-X", "WM-Y"]).exists()


def test_products_export_round_trips(demo_users):
    Product.objects.create(
        code="WM-1", name="理财", category="WEALTH", risk_rating="R3", channels=["manager"]
    )
    exported = ProductResource().export()
    assert exported.dict[0]["code"] == "WM-1" and exported.dict[0]["channels"] == "manager"


def test_policy_is_proposed_in_the_admin_and_approved_by_another_user(
    client, demo_users, demo_password, make_user
):
    log_in(client, "demo_pm", demo_password)
    response = client.post(
        "/admin/marketing/contactpolicy/add/",
        {
            "max_contacts": "2",
            "window_days": "7",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "quiet_channels": '["call", "sms"]',
            "note": "监管要求",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    proposal = ContactPolicy.objects.get()
    assert proposal.status == PolicyStatus.PROPOSED and proposal.proposed_by.username == "demo_pm"
    action = {"action": "approve", "_selected_action": [proposal.pk]}
    client.post("/admin/marketing/contactpolicy/", action)
    proposal.refresh_from_db()
    assert proposal.status == PolicyStatus.PROPOSED  # the maker cannot check
    client.logout()
    checker = make_user("parameter_manager", "10000")
    log_in(client, checker.username, PASSWORD)
    client.post("/admin/marketing/contactpolicy/", action)
    proposal.refresh_from_db()
    assert proposal.status == PolicyStatus.ACTIVE and proposal.decided_by == checker
    event = AuditEvent.objects.filter(action="parameter_changed", details__decision="approved").get()
    assert event.details["max_contacts"] == 2


def test_a_policy_in_force_cannot_be_edited_in_place(client, demo_users, demo_password):
    row = ContactPolicy.objects.create(
        max_contacts=3,
        window_days=7,
        quiet_start=datetime.time(21),
        quiet_end=datetime.time(8),
        status=PolicyStatus.ACTIVE,
    )
    log_in(client, "demo_pm", demo_password)
    client.post(
        f"/admin/marketing/contactpolicy/{row.pk}/change/",
        {
            "max_contacts": "30",
            "window_days": "7",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "quiet_channels": "[]",
        },
    )
    row.refresh_from_db()
    assert row.max_contacts == 3

"""The parameter manager's admin: products by form or spreadsheet (validated row by
row, proposed, approved by someone else, audited) and the contact policy with
maker-checker."""

import datetime
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent
from marketing import catalogue
from marketing.admin import ProductResource
from marketing.choices import PolicyStatus
from marketing.models import ContactPolicy, Product, ProductChange, Promotion
from tests.conftest import PASSWORD
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db
HEADERS = ["code", "name", "category", "risk_rating", "min_amount", "term_days", "rate", "price",
           "sale_start", "sale_end", "channels", "is_payroll", "is_active", "description"]  # fmt: skip


def test_products_import_validates_each_row_and_proposes_a_change(demo_users, make_user):
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
    resource = ProductResource()
    result = resource.import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    # the import writes no product: it collects the rows, which become one proposal
    assert Product.objects.get(code="TD-12M").name == "旧名" and Product.objects.count() == 1
    change = catalogue.product_change_propose(
        proposed_by=demo_users["demo_pm"], reason="quarterly sheet", products=resource.proposed
    )
    catalogue.product_change_approve(change=change, user=make_user("parameter_manager", "10000"))
    product = Product.objects.get(code="TD-12M")
    assert product.name == "一年定期" and product.channels == ["counter", "mobile"]
    assert Product.objects.count() == 2
    events = AuditEvent.objects.filter(action="parameter_changed", details__parameter="product")
    assert sorted(e.details["decision"] for e in events) == ["approved", "proposed"]

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


PRODUCT_FORM = {
    "name": "一年定期",
    "category": "DEP_TIME",
    "risk_rating": "",
    "min_amount": "50",
    "term_days": "365",
    "rate": "1.75",
    "price": "",
    "sale_start": "2026-01-01",
    "sale_end": "",
    "channels": '["counter"]',
    "is_active": "on",
    "description": "",
    "reason": "rate review",
    "promotions-TOTAL_FORMS": "1",
    "promotions-INITIAL_FORMS": "0",
    "promotions-0-name": "新客礼遇",
    "promotions-0-kind": "rate",
    "promotions-0-value": "1.95",
    "promotions-0-start_date": "2026-07-01",
    "promotions-0-end_date": "2026-09-30",
    "promotions-0-eligible_tiers": "[]",
    "promotions-0-is_active": "on",
}


def test_saving_a_product_in_the_admin_proposes_and_another_user_approves(
    client, demo_users, demo_password, make_user
):
    product = Product.objects.create(
        code="TD-12M",
        name="一年定期",
        category="DEP_TIME",
        min_amount=50,
        term_days=365,
        rate="1.65",
        sale_start=datetime.date(2026, 1, 1),
        channels=["counter"],
    )
    log_in(client, "demo_pm", demo_password)
    response = client.post(f"/admin/marketing/product/{product.pk}/change/", PRODUCT_FORM)
    change = ProductChange.objects.get()
    assert response.status_code == 302, response.content[:2000]
    assert response["Location"].endswith(f"/marketing/productchange/{change.pk}/change/")
    assert change.changes["products"] == {"TD-12M": {"rate": "1.7500"}}
    assert change.changes["promotions"][0]["values"]["name"] == "新客礼遇"
    # nothing changed yet
    product.refresh_from_db()
    assert product.rate == Decimal("1.6500") and not Promotion.objects.exists()
    page = client.get(f"/admin/marketing/productchange/{change.pk}/change/").content.decode()
    assert "1.6500" in page and "1.7500" in page
    # the proposer cannot approve it
    action = {"action": "approve", "_selected_action": [change.pk], "note": ""}
    client.post("/admin/marketing/productchange/", action)
    product.refresh_from_db()
    assert product.rate == Decimal("1.6500")
    # another parameter manager does
    client.logout()
    checker = make_user("parameter_manager", "10000")
    log_in(client, checker.username, PASSWORD)
    client.post("/admin/marketing/productchange/", action)
    product.refresh_from_db()
    change.refresh_from_db()
    assert product.rate == Decimal("1.7500") and change.decided_by == checker
    assert Promotion.objects.get(product=product).value == Decimal("1.9500")


def test_a_new_product_from_the_admin_exists_only_once_approved(client, demo_users, demo_password, make_user):
    log_in(client, "demo_pm", demo_password)
    response = client.post(
        "/admin/marketing/product/add/", {**PRODUCT_FORM, "code": "TD-24M", "name": "两年定期"}
    )
    assert response.status_code == 302, response.content[:2000]
    change = ProductChange.objects.get()
    assert change.base["products"] == {"TD-24M": None}
    assert not Product.objects.filter(code="TD-24M").exists()
    catalogue.product_change_approve(change=change, user=make_user("parameter_manager", "10000"))
    product = Product.objects.get(code="TD-24M")
    assert product.name == "两年定期" and product.promotions.get().name == "新客礼遇"


def test_importing_products_in_the_admin_creates_a_proposal(client, demo_users, demo_password):
    log_in(client, "demo_pm", demo_password)
    data = tablib.Dataset(headers=HEADERS)
    data.append(
        [
            "TD-36M",
            "三年定期",
            "DEP_TIME",
            "",
            "50",
            "1095",
            "2.1",
            "",
            "2026-01-01",
            "",
            "counter",
            "0",
            "1",
            "",
        ]
    )
    upload = SimpleUploadedFile("products.csv", data.export("csv").encode(), content_type="text/csv")
    preview = client.post(
        "/admin/marketing/product/import/", {"format": "0", "resource": "0", "import_file": upload}
    )
    confirm = preview.context["confirm_form"]
    assert confirm is not None, preview.content.decode()[:2000]
    result = client.post("/admin/marketing/product/process_import/", {**confirm.initial, "resource": "0"})
    assert result.status_code == 302
    change = ProductChange.objects.get()
    assert change.source == "import" and change.status == "pending"
    assert change.changes["products"]["TD-36M"]["rate"] == "2.1000"
    assert not Product.objects.filter(code="TD-36M").exists()


def test_a_policy_is_rejected_in_the_admin_only_with_a_reason(client, demo_users, demo_password, make_user):
    proposal = ContactPolicy.objects.create(
        max_contacts=2,
        window_days=7,
        quiet_start=datetime.time(21),
        quiet_end=datetime.time(8),
        proposed_by=demo_users["demo_pm"],
    )
    checker = make_user("parameter_manager", "10000")
    log_in(client, checker.username, PASSWORD)
    action = {"action": "reject", "_selected_action": [proposal.pk]}
    client.post("/admin/marketing/contactpolicy/", {**action, "note": ""})
    proposal.refresh_from_db()
    assert proposal.status == PolicyStatus.PROPOSED
    client.post("/admin/marketing/contactpolicy/", {**action, "note": "window too short"})
    proposal.refresh_from_db()
    assert proposal.status == PolicyStatus.REJECTED and proposal.decision_note == "window too short"

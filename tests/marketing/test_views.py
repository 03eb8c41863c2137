"""Marketing pages: scope on every list, masked mobiles, refusals shown with their
reason, and query counts that do not grow with the data. Who may open and post
what, role by role, is the roles × URLs harness's (tests/test_url_harness.py,
table in tests/url_table.py)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEvent
from customers.masking import mask_mobile
from marketing import services
from marketing.models import CampaignTarget, MarketingContact, TaskAllocation
from tests.customers.conftest import log_in
from tests.marketing.library import library

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users, make_customer, running_campaign, products):
    cm1 = users["demo_cm1"]
    mine = make_customer(manager=cm1, aum=Decimal("90000"), risk_level="C5", mobile="13912345678")
    other = make_customer(manager=users["demo_cm3"], branch="12101", aum=Decimal("90000"), risk_level="C5")
    excluded = make_customer(manager=cm1, aum=Decimal("90000"), risk_level="C1")
    campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth",), channels=("call", "visit"))
    task = services.task_issue(
        task=services.task_create(
            user=users["demo_bm"],
            name="任务",
            indicator=library("sales_amount"),
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 12, 31),
            target=Decimal("100"),
        ),
        user=users["demo_bm"],
    )
    opportunity = services.opportunity_create(
        user=cm1,
        customer=mine,
        product=products["deposit"],
        expected_amount=Decimal("1000"),
        expected_close_date=datetime.date(2030, 1, 1),
    )
    return {
        "campaign": campaign,
        "target": CampaignTarget.objects.get(campaign=campaign, customer=mine),
        "other_target": CampaignTarget.objects.get(campaign=campaign, customer=other),
        "excluded": excluded,
        "mine": mine,
        "task": task,
        "root": TaskAllocation.objects.get(task=task, parent__isnull=True),
        "opportunity": opportunity,
        "segment": campaign.segment,
    }


def test_post_actions_are_refused_without_the_right(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    campaign = world["campaign"]
    for action in ("close", "start", "approve"):
        client.post(f"/marketing/campaigns/{campaign.pk}/{action}/")
    campaign.refresh_from_db()
    assert campaign.status == "running"
    response = client.post("/marketing/tasks/new/", {"name": "x"})
    assert response.status_code == 403
    client.logout()
    log_in(client, "demo_pm", demo_password)
    assert (
        client.post(
            f"/marketing/targets/{world['target'].pk}/contact/", {"channel": "call", "outcome": "interested"}
        ).status_code
        == 403
    )


def test_another_managers_target_is_404(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    assert client.get(f"/marketing/targets/{world['other_target'].pk}/").status_code == 404
    response = client.post(
        f"/marketing/targets/{world['other_target'].pk}/contact/",
        {"channel": "visit", "outcome": "interested"},
    )
    assert response.status_code == 404
    assert not MarketingContact.objects.exists()


def test_target_list_is_scoped_and_masked_and_shows_exclusions(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    url = f"/marketing/campaigns/{world['campaign'].pk}/targets/"
    response = client.get(url)
    rows = list(response.context["page_obj"])
    assert [t.customer_id for t in rows] == [world["mine"].pk]
    body = response.content.decode()
    assert mask_mobile("13912345678") in body and "13912345678" not in body
    excluded = client.get(url, {"excluded": "1"})
    assert [t.customer_id for t in excluded.context["page_obj"]] == [world["excluded"].pk]
    assert "Risk assessment below the product" in excluded.content.decode()
    client.logout()
    log_in(client, "demo_bm", demo_password)
    assert len(client.get(url).context["page_obj"]) == 2


def test_a_refused_contact_is_shown_with_its_reason_and_not_saved(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    url = f"/marketing/targets/{world['target'].pk}/contact/"
    now = timezone.localtime()
    quiet = (now - datetime.timedelta(days=1)).replace(hour=23, minute=0)
    response = client.post(
        url, {"channel": "call", "outcome": "interested", "occurred_at": quiet.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 400
    assert "quiet hours" in response.content.decode()
    assert not MarketingContact.objects.exists()
    ok = client.post(url, {"channel": "visit", "outcome": "interested"})
    assert ok.status_code == 302 and MarketingContact.objects.count() == 1


def test_the_suitability_block_is_explained_on_the_target_page(
    client, world, users, make_customer, demo_password
):
    customer = world["mine"]
    customer.risk_level = "C2"
    customer.save(update_fields=["risk_level"])
    log_in(client, "demo_cm1", demo_password)
    body = client.get(f"/marketing/targets/{world['target'].pk}/").content.decode()
    assert "covers products up to R2" in body
    response = client.post(
        f"/marketing/targets/{world['target'].pk}/opportunity/",
        {
            "product": world["campaign"].products.get().pk,
            "expected_amount": "50000",
            "expected_close_date": "2030-01-01",
        },
    )
    assert response.status_code == 400 and "covers products up to R2" in response.content.decode()


def test_segment_preview_counts_live_in_scope(client, world, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.post("/marketing/segments/preview/", {"aum_min": "50000"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["preview"].count == 2  # 11101's two; not the Shanghai customer
    assert b'data-testid="segment-count"' in response.content
    bad = client.post("/marketing/segments/preview/", {"aum_min": "9", "aum_max": "1"})
    assert bad.status_code == 400


def test_segment_is_saved_from_the_form(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.post(
        "/marketing/segments/new/",
        {"name": "高净值", "aum_min": "1000000", "holds_categories": ["WEALTH"], "branches": "11100, 12000"},
    )
    assert response.status_code == 302
    from marketing.models import Segment

    assert Segment.objects.get(name="高净值").rules == {
        "aum_min": "1000000",
        "holds_categories": ["WEALTH"],
        "branches": ["11100", "12000"],
    }


def test_campaign_export_is_a_workbook_and_audited(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get(f"/marketing/campaigns/{world['campaign'].pk}/export/")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(filename=__import__("io").BytesIO(response.content))
    assert workbook.sheetnames[0] == "Funnel"
    assert workbook["Funnel"]["B2"].value == 2  # targets: two included (one excluded)
    assert AuditEvent.objects.filter(action="export", target_type="marketing.campaign").exists()


@pytest.mark.parametrize("extra", [0, 30])
def test_query_counts_do_not_grow_with_the_data(
    client, world, users, make_customer, running_campaign, demo_password, django_assert_max_num_queries, extra
):
    for i in range(extra):
        customer = make_customer(
            manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5" if i % 3 else "C1"
        )
        services.contact_log(user=users["demo_cm1"], customer=customer, channel="visit", outcome="interested")
    campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth", "deposit"), channels=("visit",))
    target = CampaignTarget.objects.filter(campaign=campaign, excluded_reason="").first()
    log_in(client, "demo_bm", demo_password)
    pages = [
        (f"/marketing/campaigns/{campaign.pk}/", 25),
        (f"/marketing/campaigns/{campaign.pk}/targets/", 16),
        (f"/marketing/campaigns/{campaign.pk}/targets/?excluded=1", 16),
        ("/marketing/", 14),
        (f"/marketing/tasks/{world['task'].pk}/", 16),
        ("/marketing/opportunities/", 14),
        ("/marketing/products/", 14),
        (f"/marketing/targets/{target.pk}/", 18),
        (f"/marketing/segments/{world['segment'].pk}/", 16),
        (f"/marketing/opportunities/{world['opportunity'].pk}/", 14),
    ]
    for url, limit in pages:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_home_panel_shows_open_targets(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    response = client.get("/")
    assert b'data-testid="open-targets"' in response.content
    panel = [p for p in response.context["panels"] if p.key == "targets"][0]
    assert panel.context["count"] == 1


def test_decompose_and_respond_through_the_pages(client, world, users, org, demo_password, make_user):
    log_in(client, "demo_bm", demo_password)
    root = world["root"]
    response = client.post(
        f"/marketing/allocations/{root.pk}/decompose/",
        {f"b{org['11000'].pk}": "60", f"b{org['12000'].pk}": "30"},
    )
    assert response.status_code == 400 and "must add up to 100.00" in response.content.decode()
    response = client.post(
        f"/marketing/allocations/{root.pk}/decompose/",
        {f"b{org['11000'].pk}": "70", f"b{org['12000'].pk}": "30"},
    )
    assert response.status_code == 302
    head = make_user("branch_head", "11000")
    from tests.conftest import PASSWORD

    client.logout()
    log_in(client, head.username, PASSWORD)
    share = TaskAllocation.objects.get(task=world["task"], branch=org["11000"])
    client.post(f"/marketing/allocations/{share.pk}/respond/", {"decision": "return", "comment": "目标过高"})
    share.refresh_from_db()
    assert share.status == "returned" and share.comment == "目标过高"


def test_the_360_view_lists_the_running_campaigns_targeting_the_customer(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    page = client.get(f"/customers/{world['mine'].customer_no}/").content.decode()
    assert 'data-testid="campaigns"' in page and world["campaign"].name in page
    assert f"/marketing/targets/{world['target'].pk}/" in page
    # a role that sees the customer but may not work targets gets the name, no link
    client.logout()
    log_in(client, "demo_admin", demo_password)
    page = client.get(f"/customers/{world['mine'].customer_no}/").content.decode()
    assert world["campaign"].name in page and f"/marketing/targets/{world['target'].pk}/" not in page
    client.logout()
    log_in(client, "demo_cm1", demo_password)
    # an excluded member of the same campaign is not a target
    excluded = client.get(f"/customers/{world['excluded'].customer_no}/").content.decode()
    assert 'data-testid="campaigns"' not in excluded
    assert "Not a target of any running campaign." in excluded
    # once the campaign closes, it leaves the 360 view
    services.campaign_close(campaign=world["campaign"], user=world["campaign"].created_by)
    page = client.get(f"/customers/{world['mine'].customer_no}/").content.decode()
    assert 'data-testid="campaigns"' not in page

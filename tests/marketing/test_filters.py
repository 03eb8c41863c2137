"""The marketing lists' filters (marketing.filters), through the pages: a filter
narrows the rows the user sees; it applies only to rows already in the user's
scope, so another branch's rows never appear whatever the filter (a branch or
campaign outside the scope is not even a valid choice); bad input answers 400 with
the message, never a silently ignored filter. The product catalogue is bank-wide
(no branch owns a product), so its filter has no scope to keep."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from marketing import services
from marketing.choices import CampaignObjective, ContactOutcome, OpportunityStage
from marketing.models import CampaignTarget, Product, TaskAllocation
from tests.customers.conftest import log_in
from tests.marketing.library import library

pytestmark = pytest.mark.django_db

BAD_CHOICE = "Select a valid choice."


@pytest.fixture
def world(users, org, make_customer, running_campaign, products, segment_for, make_user):
    """Two running campaigns over a customer of each of two branches (Beijing's
    demo_cm1, Shanghai's demo_cm3), a draft campaign, opportunities of both
    managers, segments of head office and of two branch heads, and tasks issued
    down to Haidian (demo_bh's sub-branch) or to Shanghai only."""
    cm1, cm3, bm = users["demo_cm1"], users["demo_cm3"], users["demo_bm"]
    mine = make_customer(manager=cm1, aum=Decimal("90000"), risk_level="C5")
    other = make_customer(manager=cm3, branch="12101", aum=Decimal("90000"), risk_level="C5")
    excluded = make_customer(manager=cm1, aum=Decimal("90000"), risk_level="C1")
    wealth = running_campaign(
        {"aum_min": "50000"}, product_keys=("wealth",), channels=("visit",), name="理财"
    )
    deposit = running_campaign(
        {"aum_min": "50000"}, product_keys=("deposit",), channels=("visit",), name="存款"
    )
    today = timezone.localdate()
    draft = services.campaign_create(
        user=bm,
        name="草稿活动",
        objective=CampaignObjective.RETENTION,
        segment=wealth.segment,
        channels=["call"],
        budget=Decimal("1000"),
        start_date=today,
        end_date=today + datetime.timedelta(days=30),
        products=[products["deposit"]],
    )
    targets = {
        (campaign.name, customer): CampaignTarget.objects.get(campaign=campaign, customer=customer)
        for campaign in (wealth, deposit)
        for customer in (mine, other, excluded)
    }
    close = datetime.date(2030, 1, 1)
    lead = services.opportunity_create(
        user=cm1,
        customer=mine,
        product=products["deposit"],
        expected_amount=Decimal("1000"),
        expected_close_date=close,
    )
    lost = services.opportunity_create(
        user=cm1,
        target=targets[("理财", mine)],
        product=products["wealth"],
        expected_amount=Decimal("20000"),
        expected_close_date=close,
    )
    services.opportunity_advance(opportunity=lost, user=cm1, stage=OpportunityStage.LOST)
    foreign = services.opportunity_create(
        user=cm3,
        target=targets[("理财", other)],
        product=products["wealth"],
        expected_amount=Decimal("20000"),
        expected_close_date=close,
    )
    bh_shanghai = make_user("branch_head", "12000", username="bh_shanghai")
    return {
        "mine": mine,
        "other": other,
        "excluded": excluded,
        "wealth": wealth,
        "deposit": deposit,
        "draft": draft,
        "targets": targets,
        "lead": lead,
        "lost": lost,
        "foreign_opportunity": foreign,
        "segments": {
            "head_office": segment_for({"aum_min": "1000000"}, owner=bm, name="高净值客户"),
            "haidian": segment_for({"aum_min": "50000"}, owner=users["demo_bh"], name="海淀理财客户"),
            "shanghai": segment_for({"aum_min": "50000"}, owner=bh_shanghai, name="浦东理财客户"),
        },
        "tasks": _tasks(bm, org),
    }


def _tasks(bm, org):
    def issue(name, indicator):
        task = services.task_create(
            user=bm,
            name=name,
            indicator=indicator,
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 12, 31),
            target=Decimal("100"),
        )
        return services.task_issue(task=task, user=bm)

    def root(task):
        return TaskAllocation.objects.get(task=task, parent__isnull=True)

    haidian = issue("海淀理财任务", library("wealth_sales"))
    services.task_decompose(allocation=root(haidian), user=bm, shares=[(org["11000"], Decimal("100"))])
    beijing = TaskAllocation.objects.get(task=haidian, branch=org["11000"])
    # Beijing has no branch head: head office decomposes its share on its behalf.
    services.task_decompose(allocation=beijing, user=bm, shares=[(org["11100"], Decimal("100"))])
    shanghai = issue("上海代发任务", library("new_payroll"))
    services.task_decompose(allocation=root(shanghai), user=bm, shares=[(org["12000"], Decimal("100"))])
    draft = services.task_create(
        user=bm,
        name="草稿任务",
        indicator=library("sales_amount"),
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
        target=Decimal("100"),
    )
    return {"haidian": haidian, "shanghai": shanghai, "draft": draft}


def rows(response, key="page_obj"):
    assert response.status_code == 200, response.content.decode()[:500]
    return list(response.context[key])


def refused(response, message):
    """The page answers 400, lists nothing and says why."""
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="filter-error"' in body and message in body
    return body


# --- products ------------------------------------------------------------------------------------


def test_products_filter_by_sale_today_and_category(client, world, products, demo_password):
    Product.objects.filter(pk=products["fund"].pk).update(sale_end=datetime.date(2021, 1, 1))
    log_in(client, "demo_cm1", demo_password)
    everything = {p.code for p in rows(client.get("/marketing/products/"), "products")}
    assert everything == {p.code for p in products.values()}
    on_sale = {p.code for p in rows(client.get("/marketing/products/", {"on_sale": "1"}), "products")}
    assert on_sale == everything - {products["fund"].code}
    wealth = rows(client.get("/marketing/products/", {"category": products["wealth"].category}), "products")
    assert [p.code for p in wealth] == [products["wealth"].code]


def test_products_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    refused(client.get("/marketing/products/", {"on_sale": "yes"}), BAD_CHOICE)
    body = refused(client.get("/marketing/products/", {"category": "gold"}), "gold is not one of")
    assert "Category:" in body


# --- segments ------------------------------------------------------------------------------------


def test_segments_filter_by_name_within_the_scope(client, world, demo_password):
    log_in(client, "demo_bh", demo_password)
    segments = world["segments"]
    seen = {s.pk for s in rows(client.get("/marketing/segments/"), "segments")}
    assert {segments["head_office"].pk, segments["haidian"].pk} <= seen
    assert segments["shanghai"].pk not in seen
    found = rows(client.get("/marketing/segments/", {"q": "理财"}), "segments")
    assert [s.pk for s in found] == [segments["haidian"].pk]
    # another branch's segment matches the text, and still never shows
    for q in ("浦东", "理财客户", ""):
        assert segments["shanghai"].pk not in {
            s.pk for s in rows(client.get("/marketing/segments/", {"q": q}), "segments")
        }


def test_segments_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.get("/marketing/segments/", {"q": "x" * 101})
    refused(response, "Ensure this value has at most 100 characters")
    assert list(response.context["segments"]) == []
    refused(client.get("/marketing/segments/", {"q": "理财\x07"}), "Segment:")


# --- campaigns -----------------------------------------------------------------------------------


def test_campaigns_filter_by_status_and_objective(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    running = rows(client.get("/marketing/", {"status": "running"}))
    assert {c.pk for c in running} == {world["wealth"].pk, world["deposit"].pk}
    retention = rows(client.get("/marketing/", {"objective": CampaignObjective.RETENTION}))
    assert [c.pk for c in retention] == [world["draft"].pk]
    response = client.get("/marketing/", {"status": "running"})
    assert response.context["status"] == "running"
    body = response.content.decode()
    assert 'data-testid="filter-bar"' in body and "form-select" in body
    assert ">Submitted for approval</option>" in body  # labels, not codes


def test_campaigns_outside_the_scope_never_show(client, world, demo_password):
    log_in(client, "demo_bh", demo_password)
    for status in ("", "draft", "running"):
        assert world["draft"].pk not in {c.pk for c in rows(client.get("/marketing/", {"status": status}))}


def test_campaigns_refuse_an_unknown_status(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get("/marketing/", {"status": "paused"})
    refused(response, "Status: Select a valid choice. paused is not one of the available choices.")
    assert list(response.context["page_obj"]) == []


# --- a campaign's targets ------------------------------------------------------------------------


def test_targets_filter_by_status_branch_and_exclusion(client, world, org, users, demo_password):
    targets, mine, other = world["targets"], world["mine"], world["other"]
    services.contact_log(
        user=users["demo_cm1"],
        target=targets[("理财", mine)],
        channel="visit",
        outcome=ContactOutcome.NOT_REACHED,
    )
    log_in(client, "demo_bm", demo_password)
    url = f"/marketing/campaigns/{world['wealth'].pk}/targets/"
    assert {t.customer_id for t in rows(client.get(url))} == {mine.pk, other.pk}
    assert [t.customer_id for t in rows(client.get(url, {"status": "not_reached"}))] == [mine.pk]
    assert [t.customer_id for t in rows(client.get(url, {"branch": org["12000"].pk}))] == [other.pk]
    assert [t.customer_id for t in rows(client.get(url, {"branch": org["11100"].pk}))] == [mine.pk]
    excluded = client.get(url, {"excluded": "1"})
    assert [t.customer_id for t in rows(excluded)] == [world["excluded"].pk]
    assert excluded.context["excluded"] is True


def test_another_branchs_targets_never_show_whatever_the_filter(client, world, org, demo_password):
    log_in(client, "demo_bh", demo_password)
    url = f"/marketing/campaigns/{world['wealth'].pk}/targets/"
    for query in ({}, {"excluded": "1"}, {"status": "pending"}, {"branch": org["11100"].pk}):
        assert world["other"].pk not in {t.customer_id for t in rows(client.get(url, query))}
    # a branch outside the scope is not a choice
    refused(client.get(url, {"branch": org["12101"].pk}), f"Branch: {BAD_CHOICE}")


def test_targets_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    url = f"/marketing/campaigns/{world['wealth'].pk}/targets/"
    refused(client.get(url, {"status": "won"}), "won is not one of the available choices")
    refused(client.get(url, {"branch": "beijing"}), f"Branch: {BAD_CHOICE}")
    refused(client.get(url, {"excluded": "yes"}), BAD_CHOICE)


# --- my targets ----------------------------------------------------------------------------------


def test_my_targets_filter_by_campaign_and_status(client, world, users, demo_password):
    targets, mine = world["targets"], world["mine"]
    services.contact_log(
        user=users["demo_cm1"],
        target=targets[("存款", mine)],
        channel="visit",
        outcome=ContactOutcome.NOT_REACHED,
    )
    log_in(client, "demo_cm1", demo_password)
    everything = {t.pk for t in rows(client.get("/marketing/targets/"))}
    assert everything == {
        targets[("理财", mine)].pk,
        targets[("存款", mine)].pk,
        targets[("存款", world["excluded"])].pk,
    }
    deposit = {t.pk for t in rows(client.get("/marketing/targets/", {"campaign": world["deposit"].pk}))}
    assert deposit == {targets[("存款", mine)].pk, targets[("存款", world["excluded"])].pk}
    assert [t.pk for t in rows(client.get("/marketing/targets/", {"status": "not_reached"}))] == [
        targets[("存款", mine)].pk
    ]


def test_another_branchs_targets_never_show_among_mine(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    for query in (
        {},
        {"campaign": world["wealth"].pk},
        {"campaign": world["deposit"].pk},
        {"status": "pending"},
    ):
        assert world["other"].pk not in {
            t.customer_id for t in rows(client.get("/marketing/targets/", query))
        }


def test_my_targets_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_cm1", demo_password)
    refused(client.get("/marketing/targets/", {"campaign": "abc"}), f"Campaign: {BAD_CHOICE}")
    # a campaign that is not running is not a choice, nor a closed status
    refused(client.get("/marketing/targets/", {"campaign": world["draft"].pk}), BAD_CHOICE)
    refused(client.get("/marketing/targets/", {"status": "converted"}), "converted is not one of")


# --- opportunities -------------------------------------------------------------------------------


def test_opportunities_filter_open_closed_stage_product_and_campaign(client, world, products, demo_password):
    lead, lost = world["lead"], world["lost"]
    log_in(client, "demo_cm1", demo_password)
    url = "/marketing/opportunities/"
    response = client.get(url)
    assert [o.pk for o in rows(response)] == [lead.pk] and response.context["open_only"] is True
    response = client.get(url, {"all": "1"})
    assert {o.pk for o in rows(response)} == {lead.pk, lost.pk} and response.context["open_only"] is False
    assert [o.pk for o in rows(client.get(url, {"stage": "lost"}))] == [lost.pk]
    assert [o.pk for o in rows(client.get(url, {"all": "1", "product": products["wealth"].pk}))] == [lost.pk]
    assert [o.pk for o in rows(client.get(url, {"all": "1", "campaign": world["wealth"].pk}))] == [lost.pk]


def test_another_branchs_opportunities_never_show_whatever_the_filter(client, world, products, demo_password):
    foreign = world["foreign_opportunity"]
    queries = (
        {},
        {"all": "1"},
        {"stage": "lead"},
        {"all": "1", "product": products["wealth"].pk},
        {"all": "1", "campaign": world["wealth"].pk},
    )
    for username in ("demo_cm1", "demo_bh"):
        client.logout()
        log_in(client, username, demo_password)
        for query in queries:
            assert foreign.pk not in {o.pk for o in rows(client.get("/marketing/opportunities/", query))}


def test_opportunities_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_bh", demo_password)
    url = "/marketing/opportunities/"
    refused(client.get(url, {"stage": "closed"}), "Stage: Select a valid choice. closed is not one of")
    refused(client.get(url, {"product": "WM-2026A"}), f"Product: {BAD_CHOICE}")
    refused(client.get(url, {"all": "yes"}), BAD_CHOICE)
    # a draft campaign is head office's: not a choice at a branch
    refused(client.get(url, {"campaign": world["draft"].pk}), f"Campaign: {BAD_CHOICE}")


# --- marketing tasks -----------------------------------------------------------------------------


def test_tasks_filter_by_status_and_indicator(client, world, demo_password):
    tasks = world["tasks"]
    log_in(client, "demo_bm", demo_password)
    assert {t.pk for t in rows(client.get("/marketing/tasks/"))} == {t.pk for t in tasks.values()}
    assert [t.pk for t in rows(client.get("/marketing/tasks/", {"status": "draft"}))] == [tasks["draft"].pk]
    payroll = rows(client.get("/marketing/tasks/", {"indicator": "new_payroll"}))
    assert [t.pk for t in payroll] == [tasks["shanghai"].pk]


def test_another_branchs_tasks_never_show_whatever_the_filter(client, world, demo_password):
    tasks = world["tasks"]
    log_in(client, "demo_bh", demo_password)
    assert [t.pk for t in rows(client.get("/marketing/tasks/"))] == [tasks["haidian"].pk]
    for query in (
        {"status": "issued"},
        {"status": "draft"},
        {"indicator": "new_payroll"},
        {"status": "issued", "indicator": "new_payroll"},
    ):
        seen = {t.pk for t in rows(client.get("/marketing/tasks/", query))}
        assert not seen & {tasks["shanghai"].pk, tasks["draft"].pk}


def test_tasks_refuse_bad_input(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get("/marketing/tasks/", {"indicator": "profit"})
    refused(response, "Indicator: Select a valid choice. profit is not one of the available choices.")
    assert list(response.context["page_obj"]) == []
    refused(client.get("/marketing/tasks/", {"status": "1"}), "Status:")


def test_pagination_keeps_the_filter(client, world, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get("/marketing/", {"status": "running", "page": "1"})
    assert {c.pk for c in rows(response)} == {world["wealth"].pk, world["deposit"].pk}

"""The marketing lists' controls (issue 16): every filter whose values are known is a
labelled select with a worded empty choice ("All statuses"), never an unlabelled
"—"; every list pages with a size the user picks (25/50/100), says where it is
("Items 26–30 of 30") and sorts by its columns (core/listing.py); a page runs a
bounded number of queries whatever the rows; an action answers with what it did."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from marketing import services
from marketing.choices import OpportunityStage
from marketing.models import Segment
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

FILTER_BAR = re.compile(r'<form method="get"[^>]*data-testid="filter-bar">(.*?)</form>', re.S)
SELECT = re.compile(r'<select name="(\w+)"[^>]*id="(\w+)"[^>]*>(.*?)</select>', re.S)
EMPTY_OPTION = re.compile(r'<option value=""[^>]*>([^<]*)</option>')


def filter_selects(body: str) -> dict[str, tuple[str, str]]:
    """Each select of the page's filter bar: name -> (its label, its empty choice)."""
    bar = FILTER_BAR.search(body)
    assert bar, "no filter bar"
    found = {}
    for name, element_id, options in SELECT.findall(bar.group(1)):
        label = re.search(rf'<label[^>]*for="{element_id}"[^>]*>([^<]*)</label>', bar.group(1))
        empty = EMPTY_OPTION.search(options)
        found[name] = (label.group(1).strip() if label else "", empty.group(1) if empty else "")
    return found


@pytest.fixture
def lists(users, make_customer, running_campaign, products):
    """A running campaign over two customers of demo_cm1, an opportunity of each."""
    first = make_customer(manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5")
    make_customer(manager=users["demo_cm1"], aum=Decimal("95000"), risk_level="C5")
    campaign = running_campaign({"aum_min": "50000"}, channels=("visit",))
    opportunity = services.opportunity_create(
        user=users["demo_cm1"],
        customer=first,
        product=products["deposit"],
        expected_amount=Decimal("1000"),
        expected_close_date=datetime.date(2030, 1, 1),
    )
    return {"campaign": campaign, "opportunity": opportunity}


# --- filters ----------------------------------------------------------------------------


def test_the_filters_are_labelled_selects_with_worded_empty_choices(client, lists, demo_password):
    pages = {
        "/marketing/": {
            "status": ("Status", "All statuses"),
            "objective": ("Objective", "All objectives"),
            "channel": ("Channel", "All channels"),
            "product": ("Product", "All products"),
        },
        f"/marketing/campaigns/{lists['campaign'].pk}/targets/": {
            "excluded": ("Show", "Targets"),
            "status": ("Status", "All statuses"),
            "branch": ("Branch", "All branches"),
            "manager": ("Client manager", "All managers"),
        },
        "/marketing/opportunities/": {
            "all": ("Show", "Open only"),
            "stage": ("Stage", "All stages"),
            "product": ("Product", "All products"),
            "campaign": ("Campaign", "All campaigns"),
            "manager": ("Owner", "All managers"),
        },
        "/marketing/products/": {
            "on_sale": ("Products", "All products"),
            "category": ("Category", "All categories"),
        },
        "/marketing/indicators/": {"kind": ("Kind", "All kinds"), "active": ("Status", "All statuses")},
        "/marketing/tasks/": {
            "status": ("Status", "All statuses"),
            "indicator": ("Indicator", "All indicators"),
        },
        "/marketing/segments/": {"owner": ("Owner", "All owners")},
    }
    log_in(client, "demo_bm", demo_password)
    for url, expected in pages.items():
        body = client.get(url).content.decode()
        assert filter_selects(body) == expected, url
        assert "---------" not in body and '<option value="">—</option>' not in body, url
    client.logout()
    log_in(client, "demo_cm1", demo_password)
    body = client.get("/marketing/targets/").content.decode()
    assert filter_selects(body) == {
        "campaign": ("Campaign", "All campaigns"),
        "status": ("Status", "All open statuses"),
    }


def test_managers_are_chosen_by_name_within_the_scope(client, users, lists, demo_password):
    cm1, cm3 = users["demo_cm1"], users["demo_cm3"]
    log_in(client, "demo_bh", demo_password)
    body = client.get("/marketing/opportunities/").content.decode()
    assert re.search(rf'<option value="{cm1.employee_no}">{cm1.display_name} · ', body)
    assert f'value="{cm3.employee_no}"' not in body  # Shanghai's manager: outside the scope
    mine = client.get("/marketing/opportunities/", {"manager": cm1.employee_no})
    assert [o.pk for o in mine.context["page_obj"]] == [lists["opportunity"].pk]
    foreign = client.get("/marketing/opportunities/", {"manager": cm3.employee_no})
    assert foreign.status_code == 400
    assert "Select a valid choice." in foreign.content.decode()


def test_campaigns_filter_by_channel_and_product(client, lists, products, demo_password):
    log_in(client, "demo_bm", demo_password)
    pk = lists["campaign"].pk
    assert [c.pk for c in client.get("/marketing/", {"channel": "visit"}).context["page_obj"]] == [pk]
    assert list(client.get("/marketing/", {"channel": "sms"}).context["page_obj"]) == []
    by_product = client.get("/marketing/", {"product": products["wealth"].pk}).context["page_obj"]
    assert [c.pk for c in by_product] == [pk]
    assert list(client.get("/marketing/", {"product": products["fund"].pk}).context["page_obj"]) == []
    assert client.get("/marketing/", {"channel": "pigeon"}).status_code == 400


# --- page size, position, sorting ---------------------------------------------------------------


@pytest.fixture
def many_segments(users):
    return [
        services.segment_save(user=users["demo_bm"], name=f"客群{i:02d}", rules={"aum_min": str(1000 * i)})
        for i in range(30)
    ]


def names_on(response) -> list[str]:
    assert response.status_code == 200
    return [s.name for s in response.context["page_obj"]]


def test_the_page_size_and_the_position(client, many_segments, demo_password):
    log_in(client, "demo_bm", demo_password)
    first = client.get("/marketing/segments/", {"sort": "name"})
    assert names_on(first) == [f"客群{i:02d}" for i in range(25)]
    body = first.content.decode()
    assert "Items 1–25 of 30" in body
    assert 'rel="next"' in body and 'rel="prev"' not in body
    second = client.get("/marketing/segments/", {"sort": "name", "page": "2"})
    assert names_on(second) == [f"客群{i:02d}" for i in range(25, 30)]
    assert "Items 26–30 of 30" in second.content.decode()
    assert len(names_on(client.get("/marketing/segments/", {"size": "50"}))) == 30
    assert len(names_on(client.get("/marketing/segments/", {"size": "7"}))) == 25  # not offered
    sizes = client.get("/marketing/segments/").content.decode()
    assert '<strong aria-current="true">25</strong>' in sizes
    for size in (50, 100):
        assert f'href="?size={size}"' in sizes


def test_sorting_by_a_column(client, many_segments, demo_password):
    log_in(client, "demo_bm", demo_password)
    ascending = client.get("/marketing/segments/", {"sort": "name", "size": "100"})
    assert names_on(ascending) == sorted(s.name for s in many_segments)
    body = ascending.content.decode()
    assert 'aria-sort="ascending"' in body and 'href="?sort=-name&amp;size=100"' in body
    descending = client.get("/marketing/segments/", {"sort": "-name", "size": "100"})
    assert names_on(descending) == sorted((s.name for s in many_segments), reverse=True)
    # a column the page does not offer sorts by the default (latest change first)
    unknown = client.get("/marketing/segments/", {"sort": "rules", "size": "100"})
    assert names_on(unknown) == [s.name for s in reversed(many_segments)]


def test_the_marketing_lists_sort_by_their_columns(client, lists, products, demo_password):
    log_in(client, "demo_bm", demo_password)
    by_name = client.get("/marketing/products/", {"sort": "name"})
    assert [p.name for p in by_name.context["page_obj"]] == sorted(p.name for p in products.values())
    by_minimum = client.get("/marketing/products/", {"sort": "-minimum"})
    assert [p.min_amount for p in by_minimum.context["page_obj"]] == sorted(
        (p.min_amount for p in products.values()), reverse=True
    )
    for url, columns in {
        "/marketing/": ("name", "status", "dates", "targets", "budget"),
        f"/marketing/campaigns/{lists['campaign'].pk}/targets/": ("customer_no", "name", "branch", "status"),
        "/marketing/opportunities/": ("customer", "product", "stage", "expected", "close", "owner"),
        "/marketing/tasks/": ("name", "indicator", "period", "target", "status"),
        "/marketing/indicators/": ("code", "name", "kind", "status"),
    }.items():
        for column in columns:
            for key in (column, f"-{column}"):
                response = client.get(url, {"sort": key})
                assert response.status_code == 200, (url, key)
                assert f'data-sort="{column}"' in response.content.decode(), (url, key)


def test_the_segment_list_runs_a_bounded_number_of_queries(
    client, users, products, demo_password, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for i in range(count):
            services.segment_save(
                user=users["demo_bm"],
                name=f"规则{Segment.objects.count()}",
                rules={
                    "tiers": ["core", "growth"],
                    "branches": ["11100"],
                    "managers": [users["demo_cm1"].employee_no],
                    "holds_products": [products["wealth"].code],
                    "lacks_categories": ["WEALTH"],
                    "dormant_days": 30 + i,
                },
            )

    log_in(client, "demo_bm", demo_password)
    add(3)
    with django_assert_max_num_queries(16):
        body = client.get("/marketing/segments/").content.decode()
    assert "成长级 or above" in body and "holding no Wealth management" in body
    add(20)
    with django_assert_max_num_queries(16):
        assert client.get("/marketing/segments/").status_code == 200


# --- what an action did ------------------------------------------------------------------------


def test_moving_an_opportunity_says_where_it_stands(client, lists, demo_password):
    log_in(client, "demo_cm1", demo_password)
    opportunity = lists["opportunity"]
    response = client.post(
        f"/marketing/opportunities/{opportunity.pk}/", {"stage": OpportunityStage.PROPOSAL}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    stage = OpportunityStage(OpportunityStage.PROPOSAL).label
    assert messages == [
        f"Opportunity of {opportunity.customer.name} for {opportunity.product.name} moved to “{stage}”."
    ]

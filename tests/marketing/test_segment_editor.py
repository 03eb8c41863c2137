"""The segment editor (issue 16): rules are built from selects (tiers by their
names, branches, managers and products of the user's scope), shown in words with
their live count ("白金级 or above, women: 3 customers"), never as the codes they
are kept in; the count is one bounded statement within the user's data scope; a
value that names no tier level is refused on the server, never saved to match no
one."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from marketing.models import Segment
from marketing.segment_words import count_sentence, describe, rule_names
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

PREVIEW = "/marketing/segments/preview/"
CREATE = "/marketing/segments/new/"
TOP_THREE = ["core", "growth", "platinum"]  # 核心级, 成长级, 白金级: "白金级 or above"


def words_of(rules: dict) -> str:
    return describe(rules, rule_names([rules]))


@pytest.fixture
def book(users, make_customer):
    """Platinum women: three of demo_cm1 (Haidian, 11101), one of demo_cm3
    (Shanghai); a platinum man and a gold woman of demo_cm1."""
    cm1, cm3 = users["demo_cm1"], users["demo_cm3"]
    women = [
        make_customer(manager=cm1, tier="platinum", gender="F", aum=Decimal("1200000")) for _ in range(3)
    ]
    women.append(make_customer(manager=cm3, branch="12101", tier="core", gender="F", aum=Decimal("7000000")))
    man = make_customer(manager=cm1, tier="platinum", gender="M", aum=Decimal("1500000"))
    gold = make_customer(manager=cm1, tier="gold", gender="F", aum=Decimal("600000"))
    return {"women": women, "man": man, "gold": gold}


# --- the rules in words ----------------------------------------------------------------------


def test_rules_read_as_words_not_codes(db, users, products, org):
    assert words_of({"tiers": TOP_THREE, "dormant_days": 90, "gender": "F"}) == (
        "白金级 or above, women, 90 days without a transaction"
    )
    assert words_of({"tiers": ["gold", "potential"]}) == "tier 金级 or 潜力级"
    assert words_of({"lacks_categories": ["WEALTH"]}) == "holding no Wealth management"
    product = products["wealth"]
    assert words_of({"holds_categories": ["FUND"], "holds_products": [product.code]}) == (
        f"holding Fund or {product.name}"
    )
    assert words_of({"aum_min": "1000000", "aum_max": "5000000"}) == "AUM 1,000,000.00–5,000,000.00 CNY"
    assert words_of({"age_min": 30, "age_max": 45}) == "aged 30–45"
    assert words_of({"branches": ["11100"]}) == f"in {org['11100'].name} (and the branches below)"
    cm1 = users["demo_cm1"]
    assert words_of({"managers": [cm1.employee_no]}) == f"managed by {cm1.display_name}"
    assert words_of({"trend_direction": "up", "trend_months": 3, "trend_pct": 20}) == (
        "AUM up by at least 20% on 3 months before"
    )
    assert words_of({}) == "all customers"


def test_the_sentence_of_the_live_count():
    rules = {"tiers": TOP_THREE, "dormant_days": 90, "gender": "F"}
    names = rule_names([rules])
    assert count_sentence(rules, names, 1230) == (
        "白金级 or above, women, 90 days without a transaction: 1,230 customers"
    )
    assert count_sentence({}, names, 1) == "all customers: 1 customer"


def test_the_list_and_the_page_of_a_segment_show_the_rules_in_words(
    client, users, segment_for, demo_password
):
    segment = segment_for({"tiers": TOP_THREE, "lacks_categories": ["WEALTH"]}, name="白金无理财")
    log_in(client, "demo_bm", demo_password)
    body = client.get("/marketing/segments/").content.decode()
    assert "白金级 or above, holding no Wealth management" in body
    assert "lacks_categories" not in body and "WEALTH" not in body and "platinum" not in body
    page = client.get(f"/marketing/segments/{segment.pk}/")
    text = page.content.decode()
    assert 'data-testid="segment-rules-words"' in text
    assert 'hx-trigger="load, change' in text  # the live count is asked for as the page opens
    assert "白金级 or above, holding no Wealth management" in text
    # the lowest tier is chosen again in the editor, not three separate tiers
    assert page.context["form"].initial["tier_min"] == "platinum"
    assert re.search(r'<option value="platinum" selected>白金级 or above</option>', text)


# --- the live count ------------------------------------------------------------------------


def test_the_live_count_is_right_and_worded(client, book, demo_password, django_assert_max_num_queries):
    log_in(client, "demo_bm", demo_password)
    with django_assert_max_num_queries(14):
        response = client.post(PREVIEW, {"tier_min": "platinum", "gender": "F"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["preview"].count == 4
    body = response.content.decode()
    assert "白金级 or above, women: 4 customers" in body


def test_the_live_count_stays_within_the_users_scope(client, book, demo_password):
    log_in(client, "demo_cm1", demo_password)
    # a client manager may not build segments (no preview either): their scope is
    # checked through the branch head, whose subtree holds demo_cm1's book only
    response = client.post(PREVIEW, {"tier_min": "platinum", "gender": "F"})
    assert response.status_code == 403
    client.logout()
    log_in(client, "demo_bh", demo_password)
    response = client.post(PREVIEW, {"tier_min": "platinum", "gender": "F"})
    assert response.context["preview"].count == 3  # not Shanghai's platinum woman
    assert "白金级 or above, women: 3 customers" in response.content.decode()


def test_a_client_managers_count_holds_only_their_customers(users, book, make_customer):
    from marketing.selectors import segment_count

    colleague = make_customer(manager=users["demo_cm2"], tier="platinum", gender="F")
    rules = {"tiers": TOP_THREE, "gender": "F"}
    assert segment_count(rules, user=users["demo_cm1"]) == 3
    assert segment_count(rules, user=users["demo_cm2"]) == 1
    assert segment_count(rules, user=users["demo_bm"]) == 5
    assert colleague.pk


def test_the_count_query_does_not_grow_with_the_customers(
    client, users, make_customer, demo_password, django_assert_max_num_queries
):
    log_in(client, "demo_bm", demo_password)
    data = {"tier_min": "gold", "branches": ["11100"], "holds_categories": ["FUND"], "dormant_days": "90"}
    with django_assert_max_num_queries(18) as few:
        assert client.post(PREVIEW, data).status_code == 200
    for _ in range(20):
        make_customer(manager=users["demo_cm1"], tier="platinum")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.post(PREVIEW, data).status_code == 200


# --- refused values ------------------------------------------------------------------------


def test_a_tier_that_is_no_level_is_refused_not_saved(client, users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.post(CREATE, {"name": "白金客户", "tiers": "白金级"})
    assert response.status_code == 400
    assert "“白金级” is not a tier level." in response.content.decode()
    assert not Segment.objects.filter(name="白金客户").exists()
    preview = client.post(PREVIEW, {"tiers": ["platinum", "diamond"]})
    assert preview.status_code == 400
    assert "“diamond” is not a tier level." in preview.content.decode()
    lowest = client.post(CREATE, {"name": "白金客户", "tier_min": "白金级"})
    assert lowest.status_code == 400 and not Segment.objects.filter(name="白金客户").exists()


def test_a_lowest_tier_and_single_tiers_are_not_both_chosen(client, users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.post(CREATE, {"name": "两种等级", "tier_min": "gold", "tiers": ["core"]})
    assert response.status_code == 400
    assert "Choose a lowest tier or single tiers, not both." in response.content.decode()


def test_a_branch_head_chooses_only_branches_and_managers_of_their_scope(client, users, demo_password):
    log_in(client, "demo_bh", demo_password)
    shanghai = client.post(CREATE, {"name": "上海", "branches": ["12000"]})
    assert shanghai.status_code == 400
    assert "“12000” is not a branch of your scope." in shanghai.content.decode()
    other = client.post(CREATE, {"name": "别人的", "managers": [users["demo_cm3"].employee_no]})
    assert other.status_code == 400
    assert "is not a client manager of your scope." in other.content.decode()
    assert not Segment.objects.filter(name__in=["上海", "别人的"]).exists()


# --- saved from selects ----------------------------------------------------------------------


def test_a_segment_saved_from_selects_says_what_it_holds(client, users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.post(
        CREATE,
        {"name": "白金女性", "tier_min": "platinum", "gender": "F", "dormant_days": "90"},
        follow=True,
    )
    segment = Segment.objects.get(name="白金女性")
    assert segment.rules == {"tiers": TOP_THREE, "gender": "F", "dormant_days": 90}
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Segment “白金女性” created: 白金级 or above, women, 90 days without a transaction."]


def test_the_editor_offers_labelled_selects_not_codes(client, users, org, demo_password):
    log_in(client, "demo_bh", demo_password)
    body = client.get(CREATE).content.decode()
    assert '<option value="" selected>Any tier</option>' in body
    assert '<option value="platinum">白金级 or above</option>' in body
    assert f'<option value="11101">{org["11101"].name}</option>' in body
    assert f'<option value="12000">{org["12000"].name}</option>' not in body  # outside the scope
    assert users["demo_cm1"].display_name in body
    assert '<option value="">—</option>' not in body and "---------" not in body
    for name in ("aum_min", "age_min", "dormant_days", "maturing_within_days"):
        assert re.search(rf'<select name="{name}"', body), name
    assert "Tiers (codes)" not in body and "employee numbers" not in body


def test_a_campaign_names_its_segments_rules_in_words(client, running_campaign, demo_password):
    campaign = running_campaign({"tiers": TOP_THREE, "lacks_categories": ["WEALTH"]})
    log_in(client, "demo_bm", demo_password)
    body = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-segment-rules">白金级 or above, holding no Wealth management<' in body
    assert "WEALTH" not in body

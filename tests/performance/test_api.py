"""GET /api/v1/performance/managers/ and /branches/ (docs/performance.md): scoped like
every read, the figures of the version the period shows, managers plus pools equal
each branch and the bank, paged by links."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from performance.services import performance_run

pytestmark = pytest.mark.django_db

MANAGERS = "/api/v1/performance/managers/"
BRANCHES = "/api/v1/performance/branches/"


@pytest.fixture
def computed(world):
    performance_run("2026-11")
    return world


def rows(response):
    assert response.status_code == 200, response.content
    return {(r["employee_no"], r["branch"]): r for r in response.json()["results"]}


def test_head_office_sees_every_manager_and_pool(api, computed, demo_users):
    body = api(demo_users["demo_bm"]).get(MANAGERS, {"period": "2026-11"})
    assert body.status_code == 200
    data = body.json()
    assert data["period"] == "2026-11" and data["status"] == "provisional" and data["version"] == 0
    assert data["counted_days"] == 10 and data["ftp_spreads"]["LOAN_MORTGAGE"] == "0.0100"
    found = rows(body)
    assert set(found) == {
        (computed["m1"].employee_no, "11101"),
        (computed["m2"].employee_no, "11102"),
        (None, "11101"),
    }
    m1 = found[(computed["m1"].employee_no, "11101")]
    assert m1["deposit_avg"] == "7700.00" and m1["contribution"] == {
        "liability": "2.58",
        "asset": "13.70",
        "intermediary": "24.00",
        "total": "40.27",
    }
    assert m1["score"] is None and m1["rank"] is None and m1["indicators"] == []


def test_a_client_manager_sees_only_their_own_row(api, computed):
    found = rows(api(computed["m1"]).get(MANAGERS, {"period": "2026-11"}))
    assert set(found) == {(computed["m1"].employee_no, "11101")}


def test_a_branch_head_sees_their_subtree_with_its_pool(api, computed, demo_users, make_user):
    found = rows(api(demo_users["demo_bh"]).get(MANAGERS, {"period": "2026-11"}))
    assert {key[1] for key in found} == {"11101", "11102"} and (None, "11101") in found
    elsewhere = make_user("branch_head", "12100", username="bh_shanghai")
    assert rows(api(elsewhere).get(MANAGERS, {"period": "2026-11"})) == {}


def test_managers_plus_pools_give_each_branch_and_the_bank(api, computed, demo_users):
    client = api(demo_users["demo_bm"])
    managers = rows(client.get(MANAGERS, {"period": "2026-11"}))
    outlets = {
        r["branch"]: r
        for r in client.get(BRANCHES, {"period": "2026-11", "level": "outlet"}).json()["results"]
    }
    for code in ("11101", "11102"):
        mine = [r for (_e, branch), r in managers.items() if branch == code]
        for figure in ("deposit_avg", "loan_avg", "aum_avg"):
            assert Decimal(outlets[code][figure]) == sum(Decimal(r[figure]) for r in mine), (code, figure)
    bank = client.get(BRANCHES, {"period": "2026-11", "level": "branch"}).json()["results"]
    beijing = next(r for r in bank if r["branch"] == "11000")
    assert Decimal(beijing["deposit_avg"]) == Decimal("9200.00")  # A + D + E, nothing lost or doubled
    assert Decimal(beijing["contribution"]["total"]) == sum(
        Decimal(r["contribution"]["total"]) for r in managers.values()
    )


def test_bad_parameters_and_unknown_periods(api, computed, demo_users):
    client = api(demo_users["demo_bm"])
    assert client.get(MANAGERS).status_code == 400  # the period is required
    bad = client.get(MANAGERS, {"period": "2026-13"})
    assert bad.status_code == 400 and "period" in bad.json()
    assert client.get(MANAGERS, {"period": "2025-01"}).status_code == 404  # never computed
    assert client.get(MANAGERS, {"period": "2026-11", "version": 3}).status_code == 404
    assert client.get(BRANCHES, {"period": "2026-11", "level": "planet"}).status_code == 400
    assert client.get(MANAGERS, {"period": "2026-11", "cursor": "!!"}).status_code == 400


def test_authentication_and_a_scope_are_required(computed, make_user, api):
    assert APIClient().get(MANAGERS, {"period": "2026-11"}).status_code == 401
    nobody = make_user("client_manager", "11101", username="no_roles")
    nobody.groups.clear()
    nobody._role_cache = None
    assert api(nobody).get(MANAGERS, {"period": "2026-11"}).status_code == 403


def test_every_version_stays_readable(api, computed, demo_users, make_user, jobs):
    from performance.publication import publication_decide, publication_propose

    with jobs():
        publication = publication_propose(code="2026-11", by=demo_users["demo_bm"], reason="Month end close")
    publication_decide(publication=publication, by=make_user("business_manager", "10000"), approve=True)
    client = api(demo_users["demo_bm"])
    shown = client.get(MANAGERS, {"period": "2026-11"}).json()
    assert shown["status"] == "published" and shown["version"] == 1
    provisional = client.get(MANAGERS, {"period": "2026-11", "version": 0}).json()
    assert provisional["version"] == 0 and provisional["results"] == shown["results"]


def test_pages_follow_links_both_ways(api, computed, demo_users, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 2}
    client = api(demo_users["demo_bm"])
    first = client.get(MANAGERS, {"period": "2026-11"}).json()
    assert len(first["results"]) == 2 and first["count"] == 3 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert client.get(second["previous"]).json()["results"] == first["results"]


def test_a_client_managers_branch_holds_only_their_own_figures(api, computed):
    outlets = api(computed["m1"]).get(BRANCHES, {"period": "2026-11", "level": "outlet"}).json()["results"]
    assert [(r["branch"], r["deposit_avg"]) for r in outlets] == [("11101", "7700.00")]  # not the pool's 800


# --- scores, ranks, grades (assessment schemes) --------------------------------------------

SCORECARD = "/api/v1/performance/scorecard/"


@pytest.fixture
def scored(computed, make_user):
    from tests.performance.scheme_helpers import approved_scheme

    bms = (make_user("business_manager", "10000"), make_user("business_manager", "10000"))
    managers = {
        "m1": computed["m1"],
        "m2": computed["m2"],
        "m3": make_user("client_manager", "11101", username="m3"),
        "m4": make_user("client_manager", "11101", username="m4"),
        "m5": make_user("client_manager", "11100", username="m5"),
    }
    approved_scheme(bms, managers)  # scores the open period at once
    return {**computed, **managers}


def test_managers_carry_score_rank_grade_and_indicators(
    api, scored, demo_users, django_assert_max_num_queries
):
    client = api(demo_users["demo_bm"])
    with django_assert_max_num_queries(12):
        found = rows(client.get(MANAGERS, {"period": "2026-11"}))
    m1 = found[(scored["m1"].employee_no, "11101")]
    assert (m1["score"], m1["rank"], m1["grade"]) == ("80.00", 1, "A")
    assert m1["indicators"] == [
        {
            "code": "deposit_avg",
            "actual": "7700.00",
            "target": "7700.00",
            "weight": "50.00",
            "score": "50.00",
        },
        {
            "code": "contribution_total",
            "actual": "40.27",
            "target": "60.00",
            "weight": "50.00",
            "score": "30.00",
        },
    ]
    m2 = found[(scored["m2"].employee_no, "11102")]
    assert (m2["score"], m2["rank"], m2["grade"]) == ("75.00", 2, "B")
    pool = found[(None, "11101")]
    assert pool["score"] is None and pool["rank"] is None and pool["indicators"] == []


def test_a_client_manager_sees_only_their_own_score(api, scored):
    found = rows(api(scored["m2"]).get(MANAGERS, {"period": "2026-11"}))
    assert list(found) == [(scored["m2"].employee_no, "11102")]
    assert found[(scored["m2"].employee_no, "11102")]["score"] == "75.00"

    card = api(scored["m2"]).get(SCORECARD, {"period": "2026-11"}).json()

    assert card["employee_no"] == scored["m2"].employee_no and card["score"] == "75.00"
    assert card["rank"] == 2 and card["peers"] == 4 and card["grade"] == "B"
    assert {i["code"] for i in card["indicators"]} == {"deposit_avg", "contribution_total"}
    # 5 points to rank 1: the deposits from 50% to 60% of their target closes it cheapest
    assert card["move"] == {
        "next_rank": 1,
        "gap": "5.00",
        "indicator": "deposit_avg",
        "extra_actual": "140.00",
        "extra_completion": "10.00",
    }


def test_the_first_of_the_group_has_nothing_above_and_a_manager_without_a_scheme_has_no_score(
    api, scored, make_user
):
    assert api(scored["m1"]).get(SCORECARD, {"period": "2026-11"}).json()["move"] is None
    newcomer = make_user("client_manager", "12101", username="newcomer")
    card = api(newcomer).get(SCORECARD, {"period": "2026-11"})
    assert card.status_code == 200
    assert card.json()["score"] is None and card.json()["indicators"] == [] and card.json()["move"] is None
    assert api(newcomer).get(SCORECARD, {"period": "2030-01"}).status_code == 404

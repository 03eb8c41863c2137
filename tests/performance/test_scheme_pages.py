"""The pages of scores and schemes: a client manager's scorecard on /performance/
(only their own), the team board's score columns and completion heat map, the
business manager's scheme pages (create, change, import targets, submit, approve by
another, copy) and the what-if page; who may open what."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from marketing.models import Indicator
from performance.models import ManagerScore, Scheme
from tests.performance import scheme_helpers
from tests.performance.scheme_helpers import approved_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
november = scheme_helpers.november  # fixture
D = Decimal


@pytest.fixture
def as_user(client, login, demo_password):
    def _as(user):
        client.logout()
        return login(user, demo_password) if user.username.startswith("demo_") else login(user)

    return _as


@pytest.fixture
def scored(bms, managers, november):
    return approved_scheme(bms, managers)


def test_a_client_manager_sees_their_own_scorecard(as_user, managers, scored):
    page = as_user(managers["m2"]).get("/performance/")

    assert page.status_code == 200
    assert page.context["score"].manager == managers["m2"]
    text = page.content.decode()
    assert 'data-testid="my-score">75.00<' in text and 'data-testid="my-grade">B<' in text
    assert "2 of 4" in text and 'data-testid="my-level">Junior client manager<' in text
    parts = {p.code: p for p in page.context["score_parts"]}
    assert parts["deposit_avg"].completion == D("50.0") and parts["deposit_avg"].heat == "behind"
    assert parts["contribution_total"].completion == D("116.8") and parts["contribution_total"].heat == "met"
    # what would move the rank: 5 points; 140 more in deposits (10% of the target)
    move = page.context["move"]
    assert (move.gap, move.next_rank, move.indicator, move.extra_actual) == (
        D("5.00"),
        1,
        "deposit_avg",
        D("140.00"),
    )
    assert "140.00 more" in text
    # only their own: nobody else's score is on the page
    assert "80.00" not in text


def test_the_first_of_the_group_is_told_so_and_without_a_scheme_there_is_no_scorecard(
    as_user, managers, november, bms
):
    page = as_user(managers["m1"]).get("/performance/")
    assert page.context["score"] is None and 'data-testid="no-score"' in page.content.decode()
    approved_scheme(bms, managers)
    page = as_user(managers["m1"]).get("/performance/")
    assert "You rank first in your peer group." in page.content.decode()


def test_the_team_board_shows_scores_and_the_heat_map(as_user, managers, scored, demo_users):
    page = as_user(demo_users["demo_bh"]).get("/performance/")

    assert page.status_code == 200 and page.context["scored"]
    rows = {row.employee_no: row for row in page.context["rows"]}
    assert rows[managers["m1"].employee_no].score.score == D("80.00")
    assert rows[managers["m1"].employee_no].score.grade == "A"
    assert rows[""].score is None  # the pool
    heat = page.context["heat"]
    assert [code for code, _name in heat.indicators] == ["deposit_avg", "contribution_total"]
    assert {row.employee_no: [c.heat for c in cells] for row, cells in heat.rows} == {
        managers["m1"].employee_no: ["met", "behind"],  # 40.27 of 60 is 67%
        managers["m2"].employee_no: ["behind", "met"],
    }


def test_the_board_sorts_by_score_and_exports_the_scores(as_user, managers, scored, demo_users):
    from openpyxl import load_workbook

    client = as_user(demo_users["demo_bh"])
    order = [row.employee_no for row in client.get("/performance/?sort=-score").context["rows"]]
    m1, m2 = managers["m1"].employee_no, managers["m2"].employee_no
    # the managers with figures by score (80, 75); the pools, unscored, come last
    assert order[:2] == [m1, m2] and set(order[2:]) == {""}
    ascending = [row.employee_no for row in client.get("/performance/?sort=score").context["rows"]]
    assert ascending[:2] == [m2, m1] and set(ascending[2:]) == {""}
    sheet = load_workbook(io.BytesIO(client.get("/performance/export/?sort=-score").content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(r for r in rows if r and r[0] == "Manager" or (r and r[1] == "Employee no."))
    assert header[-3:] == ["Score", "Rank", "Grade"]
    first = rows[rows.index(header) + 1]
    assert first[1] == m1 and first[-3:] == [80, "1/4", "A"]


def test_the_board_with_scores_reads_a_fixed_number_of_queries(
    as_user, managers, scored, demo_users, django_assert_max_num_queries
):
    client = as_user(demo_users["demo_bm"])
    with django_assert_max_num_queries(17):
        assert client.get("/performance/").status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [("client_manager", 403), ("branch_head", 403), ("auditor", 200), ("business_manager", 200)],
)
def test_who_may_open_the_scheme_pages(as_user, make_user, scored, role, status):
    client = as_user(make_user(role, "10000" if role in ("auditor", "business_manager") else "11101"))
    for url in (
        "/performance/schemes/",
        f"/performance/schemes/{scored.pk}/",
        f"/performance/schemes/{scored.pk}/whatif/",
    ):
        assert client.get(url).status_code == status, url


def test_an_auditor_reads_but_may_not_create(as_user, make_user):
    client = as_user(make_user("auditor", "10000"))
    page = client.get("/performance/schemes/")
    assert page.context["form"] is None
    assert (
        client.post("/performance/schemes/", {"period": "2026-11", "role": "outlet", "name": "X"}).status_code
        == 403
    )
    assert not Scheme.objects.exists()


def _xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "targets.xlsx"
    return buffer


def test_a_business_manager_builds_a_scheme_and_another_approves_it(as_user, bms, managers, november):
    maker, checker = bms
    client = as_user(maker)
    response = client.post(
        "/performance/schemes/", {"period": "2026-11", "role": "client_manager", "name": "CM"}
    )
    scheme = Scheme.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/performance/schemes/{scheme.pk}/"
    url = f"/performance/schemes/{scheme.pk}/"

    bad = client.post(
        url,
        {
            "action": "indicator",
            "indicator": "deposit_avg",
            "weight": "100",
            "formula": "expression",
            "params": '{"expression": "open(1)"}',
            "target_source": "fixed",
            "target": "1000",
        },
    )
    assert bad.status_code == 400 and "is not allowed in a formula" in bad.content.decode()

    for data in (
        {
            "action": "indicator",
            "indicator": "deposit_avg",
            "weight": "60",
            "formula": "completion",
            "params": '{"cap": 120}',
            "target_source": "per_unit",
        },
        {
            "action": "indicator",
            "indicator": "contribution_total",
            "weight": "40",
            "formula": "completion",
            "params": "{}",
            "target_source": "fixed",
            "target": "50",
        },
        {"action": "bands", "bands": "A 25%\nB 100%"},
    ):
        assert client.post(url, data).status_code == 302
    wrong = client.post(
        url,
        {
            "action": "targets",
            "workbook": _xlsx([["indicator", "unit", "target"], ["deposit_avg", "NOBODY", 1]]),
        },
    )
    assert (
        wrong.status_code == 400
        and "line 2: NOBODY is not a unit this scheme assesses." in wrong.content.decode()
    )
    good = client.post(
        url,
        {
            "action": "targets",
            "workbook": _xlsx(
                [["indicator", "unit", "target"], ["deposit_avg", managers["m1"].employee_no, 7700]]
            ),
        },
    )
    assert good.status_code == 302

    client.post(url, {"action": "submit"})
    scheme.refresh_from_db()
    assert scheme.status == "pending"
    own = client.post(url, {"action": "approve"}, follow=True)
    assert "another user must decide" in own.content.decode()
    scheme.refresh_from_db()
    assert scheme.status == "pending"

    as_user(checker).post(url, {"action": "approve"})

    scheme.refresh_from_db()
    assert scheme.status == "approved"
    assert ManagerScore.objects.get(version=november, manager=managers["m1"]).grade == "A"


def test_an_approved_scheme_offers_a_copy_not_a_change(as_user, bms, scored):
    client = as_user(bms[0])
    url = f"/performance/schemes/{scored.pk}/"
    page = client.get(url)
    assert not page.context["editable"] and 'data-testid="copy-scheme"' in page.content.decode()
    refused = client.post(url, {"action": "bands", "bands": "A 10"}, follow=True)
    assert "copy it" in refused.content.decode()
    copied = client.post(url, {"action": "copy", "period": "2026-12"})
    copy = Scheme.objects.exclude(pk=scored.pk).get()
    assert copied["Location"] == f"/performance/schemes/{copy.pk}/"
    assert copy.period.code == "2026-12" and copy.status == "draft" and copy.indicators.count() == 2


def test_the_what_if_page_compares_and_writes_nothing(as_user, bms, managers, scored):
    client = as_user(bms[1])
    url = f"/performance/schemes/{scored.pk}/whatif/"
    before = ManagerScore.objects.count(), Scheme.objects.count()

    page = client.get(url, {"weight_deposit_avg": "80", "weight_contribution_total": "20"})

    assert page.status_code == 200
    rows = {row.manager.username: row for row in page.context["result"].rows}
    assert (rows["m1"].before.score, rows["m1"].after.score) == (D("80.00"), D("92.00"))
    assert 'data-testid="whatif-row"' in page.content.decode()
    assert (ManagerScore.objects.count(), Scheme.objects.count()) == before

    refused = client.get(url, {"weight_deposit_avg": "10"})
    assert refused.status_code == 400 and "add up to 60" in refused.content.decode()


def test_the_navigation_offers_the_schemes_to_whom_may_read_them(as_user, make_user, world):
    assert (
        'data-testid="nav-schemes"'
        in as_user(make_user("business_manager", "10000")).get("/performance/").content.decode()
    )
    assert 'data-testid="nav-schemes"' not in as_user(world["m1"]).get("/performance/").content.decode()
    assert Indicator.objects.filter(code="deposit_avg").exists()


def test_a_refused_creation_shows_on_the_form(as_user, bms, monkeypatch):
    from django.core.exceptions import ValidationError

    from performance import schemes

    def refused(**kwargs):
        raise ValidationError("This period's schemes are closed.")

    monkeypatch.setattr(schemes, "scheme_create", refused)
    response = as_user(bms[0]).post(
        "/performance/schemes/", {"period": "2026-11", "role": "outlet", "name": "X"}
    )
    assert response.status_code == 400
    assert "This period&#x27;s schemes are closed." in response.content.decode()
    assert not Scheme.objects.exists()

"""The figures pages (/performance/): a client manager's own figures, the team board
of a branch head and head office (sorted, searched, filtered by branch, totals equal
to managers plus pools), a manager's customers, the branch ranking, the audited
Excel downloads, the empty state, and query counts that do not grow with the rows."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.models import AuditEvent
from customers.aum import write_daily_figures
from customers.choices import AccountCategory
from customers.models import AccountBalance
from performance.choices import PeriodKind, VersionStatus
from performance.models import ManagerResult, Period, ResultVersion
from performance.selectors import FIGURES, branch_rows
from performance.services import performance_run
from tests.customers.factories import AccountFactory, CustomerAssignmentFactory, CustomerFactory
from tests.performance.conftest import BATCHES

pytestmark = pytest.mark.django_db

FIGURES_URL = "/performance/"
BRANCHES_URL = "/performance/branches/"
EXPORT_URL = "/performance/export/"


def manager_url(user, export: bool = False) -> str:
    return f"/performance/managers/{user.employee_no}/" + ("export/" if export else "")


def board_keys(response) -> list[tuple[str, str]]:
    return [(row.employee_no, row.branch.split()[0]) for row in response.context["rows"]]


def money(value) -> Decimal:
    return Decimal(str(value))


# --- a client manager ----------------------------------------------------------------------


def test_a_client_manager_sees_their_own_figures_and_trend(as_user, computed):
    response = as_user(computed["m1"]).get(FIGURES_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["mine"].manager == computed["m1"]
    assert "rows" not in response.context  # no board
    cards = dict(response.context["cards"])
    assert cards["Deposits, daily average"] == Decimal("7700.00")
    assert cards["Total contribution"] == Decimal("40.27")
    assert 'data-testid="my-total">40.27<' in page
    assert 'data-testid="version-status">Provisional<' in page
    assert "2026-11-10" in page and "10 counted days" in page
    assert response.context["chart"] == {
        "kind": "trend",
        "label": "Total contribution (CNY)",
        "labels": ["2026-11"],
        "values": [40.27],
    }
    assert 'id="performance-chart-data"' in page and "<script>" not in page  # CSP: no inline script


def test_the_trend_follows_the_shown_version_of_each_month(as_user, computed):
    m1 = computed["m1"]
    # an older month, closed with a published version, and an older open one without m1
    for code, start, status, total in (
        ("2026-10", datetime.date(2026, 10, 1), VersionStatus.PUBLISHED, "12.50"),
        ("2026-09", datetime.date(2026, 9, 1), VersionStatus.PROVISIONAL, None),
    ):
        period = Period.objects.create(
            code=code,
            kind=PeriodKind.MONTH,
            start=start,
            end=start + datetime.timedelta(days=29),
            status="closed" if status == VersionStatus.PUBLISHED else "open",
        )
        number = 1 if status == VersionStatus.PUBLISHED else 0
        version = ResultVersion.objects.create(period=period, number=number, status=status, counted_days=30)
        if total is not None:
            ManagerResult.objects.create(version=version, manager=m1, branch=m1.branch, total=Decimal(total))
            # a superseded earlier version is not shown
            old = ResultVersion.objects.create(period=period, number=0, status=VersionStatus.SUPERSEDED)
            ManagerResult.objects.create(version=old, manager=m1, branch=m1.branch, total=Decimal("99"))
    chart = as_user(m1).get(FIGURES_URL).context["chart"]
    assert chart["labels"] == ["2026-09", "2026-10", "2026-11"]
    assert chart["values"] == [None, 12.5, 40.27]


def test_a_client_manager_opens_only_their_own_customers(as_user, computed):
    client = as_user(computed["m1"])
    response = client.get(manager_url(computed["m1"]))
    assert response.status_code == 200
    shown = {c.customer.customer_no: c for c in response.context["customers"]}
    assert set(shown) == {computed[k].customer_no for k in ("a", "b", "c")}
    # B has since moved to M2: still part of M1's figures, but outside M1's customer
    # scope — the name masked, no link to the 360 page
    b = shown[computed["b"].customer_no]
    assert not b.may_open and b.name == computed["b"].name[0] + "*"
    assert f"/customers/{computed['b'].customer_no}/" not in response.content.decode()
    a = shown[computed["a"].customer_no]
    assert a.may_open and a.name == computed["a"].name
    assert f"/customers/{computed['a'].customer_no}/" in response.content.decode()
    # another manager's customers: 404; downloads are for branch heads and head office
    assert client.get(manager_url(computed["m2"])).status_code == 404
    assert client.get(manager_url(computed["m1"], export=True)).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403
    assert client.get(BRANCHES_URL).status_code == 403


def test_the_customers_add_up_to_the_manager(as_user, computed, demo_users):
    response = as_user(demo_users["demo_bm"]).get(manager_url(computed["m2"]))
    result = response.context["result"]
    customers = response.context["customers"]
    totals = [c.row.liability + c.row.asset + c.row.intermediary for c in customers]
    assert totals == sorted(totals, reverse=True)  # largest contribution first
    days = response.context["version"].counted_days
    deposit_days = sum(c.row.deposit_days for c in customers)
    assert (deposit_days / days).quantize(Decimal("0.01")) == result.deposit_avg
    assert sum(totals).quantize(Decimal("0.01")) == result.total


# --- the team board ----------------------------------------------------------------------------


def test_a_branch_head_sees_their_subtree_and_its_pools(as_user, computed, demo_users):
    response = as_user(demo_users["demo_bh"]).get(FIGURES_URL)
    assert response.status_code == 200
    m1, m2 = computed["m1"], computed["m2"]
    assert set(board_keys(response)) == {(m1.employee_no, "11101"), (m2.employee_no, "11102"), ("", "11101")}
    pool = next(row for row in response.context["rows"] if row.is_pool)
    assert pool.label == "Unassigned customers of 11101 中关村网点"
    page = response.content.decode()
    assert 'data-testid="pool-row"' in page and "Unassigned customers of 11101 中关村网点" in page
    assert f"m1 ({m1.employee_no})" in page
    # the totals row is the sum of the rows, and the sub-branch's figures
    rows = response.context["rows"]
    totals = response.context["totals"]
    for position, name in enumerate(FIGURES):
        assert totals[position] == sum(row.figures[name] for row in rows), name
    version = response.context["version"]
    haidian = next(b for b in branch_rows(demo_users["demo_bm"], version, 2) if b.branch.code == "11100")
    assert totals == [haidian.figures[name] for name in FIGURES]
    assert 'data-testid="totals-row"' in page
    # a client manager elsewhere has no figures of their own
    elsewhere = as_user(demo_users["demo_cm3"]).get(FIGURES_URL)
    assert elsewhere.context["mine"] is None and 'data-testid="no-own-figures"' in elsewhere.content.decode()


def test_the_board_sorts_by_any_figure(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bm"])
    for sort in (
        "total",
        "-total",
        "deposit_avg",
        "-loan_avg",
        "-aum_avg",
        "intermediary",
        "asset",
        "liability",
    ):
        rows = client.get(FIGURES_URL, {"sort": sort}).context["rows"]
        values = [row.figures[sort.lstrip("-")] for row in rows]
        assert values == sorted(values, reverse=sort.startswith("-")), sort
    by_manager = client.get(FIGURES_URL, {"sort": "manager"}).context["rows"]
    assert [row.employee_no for row in by_manager] == sorted(
        [computed["m1"].employee_no, computed["m2"].employee_no]
    ) + [""]  # the pool (no manager) last
    columns = {c["key"]: c for c in client.get(FIGURES_URL, {"sort": "-total"}).context["columns"]}
    assert columns["total"]["state"] == "desc" and columns["total"]["sort"] == "total"
    assert columns["deposit_avg"]["sort"] == "-deposit_avg" and columns["manager"]["sort"] == "manager"


def test_the_board_searches_managers_and_filters_branches(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bh"])
    m2 = computed["m2"]
    assert board_keys(client.get(FIGURES_URL, {"q": m2.employee_no})) == [(m2.employee_no, "11102")]
    assert board_keys(client.get(FIGURES_URL, {"q": "M1"})) == [(computed["m1"].employee_no, "11101")]
    response = client.get(FIGURES_URL, {"branch": "11101"})
    assert set(board_keys(response)) == {(computed["m1"].employee_no, "11101"), ("", "11101")}
    # the totals of a branch are its figures
    outlet = next(
        b
        for b in branch_rows(demo_users["demo_bh"], response.context["version"], 3)
        if b.branch.code == "11101"
    )
    assert response.context["totals"] == [outlet.figures[name] for name in FIGURES]
    assert "No manager's figures match." in client.get(FIGURES_URL, {"q": "nobody"}).content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "salary"}, "salary is not a column the figures can be sorted by."),
        ({"period": "1999-01"}, "No figures have been computed for 1999-01."),
        ({"period": "2026-13"}, "No figures have been computed for 2026-13."),
        ({"branch": "12101"}, "12101 is not a branch whose figures you may see."),
        ({"branch": "nope"}, "nope is not a branch whose figures you may see."),
    ],
)
def test_a_bad_parameter_is_a_clear_400(as_user, computed, demo_users, query, message):
    response = as_user(demo_users["demo_bh"]).get(FIGURES_URL, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="figures-error"' in page and message in page
    assert 'data-testid="board-table"' not in page
    export = as_user(demo_users["demo_bh"]).get(EXPORT_URL, query)
    assert export.status_code == 400 and message in export.content.decode()


def test_bad_parameters_of_the_other_pages(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bh"])
    response = client.get(BRANCHES_URL, {"level": "branch"})  # 11000 is above the branch head
    assert response.status_code == 400 and "branch is not a level you may rank." in response.content.decode()
    response = client.get(manager_url(computed["m1"]), {"period": "2027"})
    assert (
        response.status_code == 400 and "No figures have been computed for 2027." in response.content.decode()
    )


def test_the_empty_state(as_user, world, demo_users):
    for user in (demo_users["demo_bm"], world["m1"]):
        response = as_user(user).get(FIGURES_URL)
        assert response.status_code == 200
        assert (
            "No figures have been computed yet: they appear after the next load or"
            in response.content.decode()
        )
        assert "manage.py performance_run" in response.content.decode()
    assert as_user(demo_users["demo_bh"]).get(BRANCHES_URL).status_code == 200
    assert as_user(world["m1"]).get(manager_url(world["m1"])).status_code == 404


# --- the branch ranking --------------------------------------------------------------------------


def test_the_branch_ranking_shares_ranks_on_ties(as_user, org, demo_users):
    period = Period.objects.create(
        code="2026-11",
        kind=PeriodKind.MONTH,
        start=datetime.date(2026, 11, 1),
        end=datetime.date(2026, 11, 30),
    )
    version = ResultVersion.objects.create(period=period, number=0, status=VersionStatus.PROVISIONAL)
    for code, total in (("11101", "30"), ("11102", "20"), ("11201", "20"), ("11202", "5"), ("12101", "40")):
        ManagerResult.objects.create(version=version, manager=None, branch=org[code], total=Decimal(total))
    ranked = as_user(demo_users["demo_bm"]).get(BRANCHES_URL).context["ranked"]
    assert [(r.rank, r.figures.branch.code) for r in ranked if r.figures.figures["total"]] == [
        (1, "12101"),
        (2, "11101"),
        (3, "11102"),
        (3, "11201"),
        (5, "11202"),
    ]
    response = as_user(demo_users["demo_bh"]).get(BRANCHES_URL, {"level": "sub_branch"})
    assert [
        (r.rank, r.figures.branch.code, r.figures.figures["total"]) for r in response.context["ranked"]
    ] == [(1, "11100", Decimal("50"))]
    assert "11100 海淀支行" in response.content.decode()


# --- downloads --------------------------------------------------------------------------------


def _sheet_rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_board_export_holds_the_rows_of_the_page_and_is_audited(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bh"])
    query = {"sort": "-deposit_avg"}
    page_rows = client.get(FIGURES_URL, query).context["rows"]
    response = client.get(EXPORT_URL, query)
    assert response.status_code == 200
    rows = _sheet_rows(response)
    assert rows[0][0].startswith("2026-11, version 0 (Provisional): 10 counted days, through 2026-11-10")
    header = rows[2]
    assert header[:3] == ("Manager", "Employee no.", "Branch") and header[-1] == "Total contribution"
    body = rows[3:-1]
    assert [(r[0], r[1] or "", r[2]) for r in body] == [(r.label, r.employee_no, r.branch) for r in page_rows]
    assert [tuple(money(v) for v in r[3:]) for r in body] == [tuple(r.values) for r in page_rows]
    assert (
        rows[-1][0] == "Total"
        and [money(v) for v in rows[-1][3:]] == client.get(FIGURES_URL, query).context["totals"]
    )
    event = AuditEvent.objects.filter(action="export", actor_username="demo_bh").latest("pk")
    assert event.details["export"] == "performance_board" and event.details["rows"] == len(page_rows)
    assert event.details["period"] == "2026-11" and event.details["sort"] == "-deposit_avg"


def test_the_manager_export_holds_the_rows_of_the_page_and_is_audited(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bh"])
    m1 = computed["m1"]
    page = client.get(manager_url(m1)).context
    response = client.get(manager_url(m1, export=True))
    assert response.status_code == 200
    rows = _sheet_rows(response)
    body = rows[5:-1]
    assert [(r[0], r[1]) for r in body] == [(c.customer.customer_no, c.name) for c in page["customers"]]
    assert [tuple(money(v) for v in r[2:]) for r in body] == [tuple(c.values) for c in page["customers"]]
    assert rows[-1][0] == "Manager's figures" and [money(v) for v in rows[-1][2:]] == page["summary"]
    event = AuditEvent.objects.filter(action="export", actor_username="demo_bh").latest("pk")
    assert event.details == {
        "export": "performance_manager",
        "period": "2026-11",
        "version": 0,
        "employee_no": m1.employee_no,
        "rows": 3,
    }
    # a manager outside the branch head's subtree: 404, nothing audited
    before = AuditEvent.objects.count()
    shanghai = demo_users["demo_cm3"]
    assert client.get(manager_url(shanghai, export=True)).status_code == 404
    assert AuditEvent.objects.count() == before


# --- navigation ---------------------------------------------------------------------------------


def test_the_navigation_offers_the_figures_to_roles_with_a_scope(as_user, demo_users):
    nav = {i["url_name"] for i in as_user(demo_users["demo_cm1"]).get("/").context["nav_items"]}
    assert "performance:figures" in nav and "performance:ftp" not in nav
    nav = {i["url_name"] for i in as_user(demo_users["demo_pm"]).get("/").context["nav_items"]}
    assert {"performance:figures", "performance:ftp"} <= nav


# --- query counts ---------------------------------------------------------------------------------


def _more_managers(world, make_user, n: int) -> None:
    """n more managers at 11101 with a customer each, and their customers."""
    for i in range(n):
        manager = make_user("client_manager", "11101", username=f"extra{i}")
        customer = CustomerFactory(home_branch=world["org"]["11101"], primary_manager=manager)
        CustomerAssignmentFactory(customer=customer, manager=manager, start_date=datetime.date(2026, 1, 1))
        account = AccountFactory(customer=customer, category=AccountCategory.DEP_CUR)
        for day in BATCHES:
            AccountBalance.objects.create(
                business_date=day, account=account, balance=Decimal(1000 + i), cny_balance=Decimal(1000 + i)
            )
        for j in range(3):  # more customers of m1
            other = CustomerFactory(home_branch=world["org"]["11101"], primary_manager=world["m1"])
            CustomerAssignmentFactory(
                customer=other, manager=world["m1"], start_date=datetime.date(2026, 1, 1)
            )
            account = AccountFactory(customer=other, category=AccountCategory.LOAN_CONSUMER)
            AccountBalance.objects.create(
                business_date=BATCHES[1],
                account=account,
                balance=Decimal(50 * j),
                cny_balance=Decimal(50 * j),
            )
    for day in BATCHES:  # what the load derives from the balances
        write_daily_figures(day)


# Each request also reads the session, the user, their roles and permissions and
# saves the session.
PAGES = [
    ("demo_bm", FIGURES_URL, 16),
    ("demo_bh", FIGURES_URL, 16),
    ("m1", FIGURES_URL, 14),
    ("demo_bm", BRANCHES_URL, 13),
    ("demo_bm", "m1", 14),
    ("m1", "m1", 15),
    ("demo_bm", EXPORT_URL, 11),
    ("demo_bh", "m1-export", 13),
]


@pytest.mark.parametrize(("who", "url", "limit"), PAGES)
def test_query_counts_do_not_grow_with_the_rows(
    as_user, world, demo_users, make_user, django_assert_max_num_queries, who, url, limit
):
    user = world["m1"] if who == "m1" else demo_users[who]
    if url.startswith("m1"):
        url = manager_url(world["m1"], export=url.endswith("export"))

    def count() -> int:
        performance_run("2026-11")
        client = as_user(user)
        with django_assert_max_num_queries(limit) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured.captured_queries)

    few, rows = count(), ManagerResult.objects.count()
    _more_managers(world, make_user, 12)
    many = count()
    assert ManagerResult.objects.count() == rows + 12
    assert many == few


def test_the_board_in_chinese(as_user, computed, demo_users, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = as_user(demo_users["demo_bh"]).get(FIGURES_URL).content.decode()
    for text in (
        "团队业绩榜",
        "存款日均",
        "贡献度合计",
        "11101 中关村网点 未分配客户",
        ">临时<",
        "计入 10 天",
    ):
        assert text in page, text


def test_a_managers_customers_page_by_key_forward_and_back(
    as_user, computed, demo_users, make_user, monkeypatch
):
    _more_managers(computed, make_user, 2)  # six more customers of M1
    performance_run("2026-11")
    monkeypatch.setattr("performance.pages.PAGE_SIZE", 3)
    client = as_user(demo_users["demo_bm"])
    url = manager_url(computed["m1"]) + "?period=2026-11"
    whole = client.get(url.replace("?", "export/?"))  # every customer, in the page's order
    assert whole.status_code == 200
    pages, cursor, firsts = [], "", []
    while True:
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""))
        page = response.context["page"]
        pages.append([c.customer.customer_no for c in response.context["customers"]])
        firsts.append(page.first)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    seen = [no for chunk in pages for no in chunk]
    assert len(seen) == len(set(seen)) == page.count > 3  # every customer once
    assert firsts == list(range(1, page.count + 1, 3))
    # back from the last page gives the one before it
    back = client.get(url + f"&cursor={page.previous_cursor}").context
    assert [c.customer.customer_no for c in back["customers"]] == pages[-2]
    assert back["page"].first == firsts[-2]
    # a cursor the portal did not write starts again at the top
    forged = client.get(url + "&cursor=not-a-cursor")
    assert forged.status_code == 200 and forged.context["page"].first == 1
    assert [c.customer.customer_no for c in forged.context["customers"]] == pages[0]

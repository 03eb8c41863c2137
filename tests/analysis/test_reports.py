"""The customer analysis reports (analysis.reports): each section's figures on a small
known book, per branch one level down and per tier, held to the user's scope; the
retention of last year's VIPs from the tier history; refusals of a foreign or
unknown branch and of the roles without the report; the Excel copy (same figures,
audited, for exporters only); the empty state; a bounded number of queries.

The book, analysed as of 2026-05-31 (a year before: 2025-05-31). Under the Haidian
sub-branch (11100, demo_bh's): at the 中关村 outlet (11101) the gold VIP `a1` and the
non-VIP `a2`; at the 五道口 outlet (11102) the platinum VIP `b1` and the gold VIP
`b2`; on the sub-branch itself the non-VIP `h`. In Shanghai (12101) the gold VIP
`far`, outside the branch head's scope. A merged record `merged` at 11101 (merged
into `a1`) has an analysis row and a tier history, and counts nowhere."""

from __future__ import annotations

import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import AuditEvent, Branch, BranchLevel
from analysis.models import CustomerAnalysis
from analysis.reports import analysis_report, year_before
from customers.models import Customer
from tests.customers.conftest import log_in
from tests.customers.factories import CustomerFactory
from vip.choices import TierChangeSource
from vip.models import TierChange

pytestmark = pytest.mark.django_db

URL = "/analysis/reports/"
EXPORT = "/analysis/reports/export/"
AS_OF = datetime.date(2026, 5, 31)
D = datetime.date

# name: branch, tier now, contribution (liability, asset, intermediary), loyalty,
# churn probability, value at risk, kinds of product, satisfaction, tier history
BOOK = {
    "a1": (
        "11101",
        "gold",
        ("600", "300", "100"),
        80,
        "0.6000",
        "600",
        4,
        90,
        [(D(2024, 1, 10), "", "gold")],
    ),
    "a2": (
        "11101",
        "",
        ("-200", "0", "0"),
        19,
        "0.1000",
        "0",
        1,
        50,
        [(D(2025, 1, 1), "", "platinum"), (D(2025, 9, 1), "platinum", "")],
    ),
    "b1": (
        "11102",
        "platinum",
        ("1000", "1500", "500"),
        45,
        "0.3000",
        "900",
        3,
        70,
        [(D(2025, 6, 15), "", "platinum")],
    ),
    "b2": (
        "11102",
        "gold",
        ("0", "0", "500"),
        60,
        "0.5000",
        "250",
        2,
        55,
        [
            (D(2023, 3, 1), "", "gold"),
            (D(2025, 3, 1), "gold", "platinum"),
            (D(2025, 8, 1), "platinum", "gold"),
        ],
    ),
    "h": ("11100", "", ("0", "100", "0"), 20, "0.0000", "0", 0, 80, []),
    "far": (
        "12101",
        "gold",
        ("10000", "0", "0"),
        100,
        "0.9000",
        "9000",
        5,
        30,
        [(D(2024, 5, 1), "", "gold")],
    ),
}


def _analyse(customer: Customer, lines, loyalty, churn, var, depth, satisfaction, as_of=AS_OF) -> None:
    liability, asset, intermediary = (Decimal(x) for x in lines)
    CustomerAnalysis.objects.create(
        customer=customer,
        as_of=as_of,
        contribution=liability + asset + intermediary,
        contribution_liability=liability,
        contribution_asset=asset,
        contribution_intermediary=intermediary,
        loyalty=loyalty,
        churn_probability=Decimal(churn),
        value_at_risk=Decimal(var),
        product_depth=depth,
        satisfaction=satisfaction,
    )


def _history(customer: Customer, changes) -> None:
    for day, from_tier, to_tier in changes:
        TierChange.objects.create(
            customer=customer,
            from_tier=from_tier,
            to_tier=to_tier,
            effective_date=day,
            source=TierChangeSource.UPGRADE,
        )


@pytest.fixture
def book(org, demo_users):
    people = {}
    for name, (branch, tier, lines, loyalty, churn, var, depth, satisfaction, history) in BOOK.items():
        customer = CustomerFactory(home_branch=org[branch], tier=tier)
        _analyse(customer, lines, loyalty, churn, var, depth, satisfaction)
        _history(customer, history)
        people[name] = customer
    merged = CustomerFactory(home_branch=org["11101"], tier="gold", merged_into=people["a1"])
    _analyse(merged, ("5000", "0", "0"), 90, "0.9000", "4500", 5, 10)
    _history(merged, [(D(2024, 1, 1), "", "gold")])
    people["merged"] = merged
    return people


def _rows(rows) -> dict[str, object]:
    return {row.label: row for row in rows}


# --- the figures, section by section ----------------------------------------------------


def test_profitability_per_branch_below_the_branch_heads_own(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    assert report.as_of == AS_OF
    assert [r.label for r in report.by_branch] == ["中关村网点", "五道口网点", "海淀支行 itself"]
    figures = [
        (r.customers, r.contribution, r.liability, r.asset, r.intermediary, r.contribution_per_customer)
        for r in report.by_branch
    ]
    assert figures == [
        (2, Decimal("800"), Decimal("400"), Decimal("300"), Decimal("100"), Decimal("400.00")),
        (2, Decimal("3500"), Decimal("1000"), Decimal("1500"), Decimal("1000"), Decimal("1750.00")),
        (1, Decimal("100"), Decimal("0"), Decimal("100"), Decimal("0"), Decimal("100.00")),
    ]
    totals = report.totals
    assert (totals.customers, totals.contribution, totals.liability, totals.asset, totals.intermediary) == (
        5,
        Decimal("4400"),
        Decimal("1400"),
        Decimal("1900"),
        Decimal("1100"),
    )
    assert totals.contribution_per_customer == Decimal("880.00")


def test_profitability_per_tier_labels_every_active_tier_then_the_others(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    # highest threshold first, a tier nobody holds too, the non-VIPs last
    assert [r.label for r in report.by_segment] == [
        "核心级",
        "成长级",
        "白金级",
        "金级",
        "潜力级",
        "Not a VIP",
    ]
    tiers = _rows(report.by_segment)
    assert (tiers["金级"].customers, tiers["金级"].contribution) == (2, Decimal("1500"))
    assert (tiers["白金级"].customers, tiers["白金级"].contribution) == (1, Decimal("3000"))
    assert (tiers["Not a VIP"].customers, tiers["Not a VIP"].contribution) == (2, Decimal("-100"))
    assert tiers["Not a VIP"].contribution_per_customer == Decimal("-50.00")
    assert tiers["核心级"].customers == 0 and tiers["核心级"].contribution_per_customer is None


def test_loyalty_bands_include_both_ends(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    # 80 → 80-100, 19 → 0-19, 45 → 40-59, 60 → 60-79, 20 → 20-39
    assert report.totals.loyalty == [1, 1, 1, 1, 1]
    tiers = _rows(report.by_segment)
    assert tiers["金级"].loyalty == [0, 0, 0, 1, 1]
    assert tiers["白金级"].loyalty == [0, 0, 1, 0, 0]
    assert tiers["Not a VIP"].loyalty == [1, 1, 0, 0, 0]
    assert [r.loyalty for r in report.by_branch] == [[1, 0, 0, 0, 1], [0, 0, 1, 1, 0], [0, 1, 0, 0, 0]]


def test_churn_by_tier(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    tiers = _rows(report.by_segment)
    # a probability of exactly 0.5 counts as likely to leave
    assert (tiers["金级"].churn_average, tiers["金级"].likely_to_leave, tiers["金级"].value_at_risk) == (
        55.0,
        2,
        Decimal("850"),
    )
    assert (tiers["白金级"].churn_average, tiers["白金级"].likely_to_leave) == (30.0, 0)
    assert (tiers["Not a VIP"].churn_average, tiers["Not a VIP"].value_at_risk) == (5.0, Decimal("0"))
    assert tiers["成长级"].churn_average is None
    totals = report.totals
    assert (totals.churn_average, totals.likely_to_leave, totals.value_at_risk) == (30.0, 2, Decimal("1750"))


def test_cross_sell_and_satisfaction(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    totals = report.totals
    assert (totals.product_kinds_average, totals.cross_sold, totals.cross_sold_share) == (
        Decimal("2.0"),
        2,
        40.0,
    )
    assert (totals.satisfaction_average, totals.unsatisfied) == (Decimal("69.0"), 2)
    assert [(r.product_kinds_average, r.cross_sold_share) for r in report.by_branch] == [
        (Decimal("2.5"), 50.0),
        (Decimal("2.5"), 50.0),
        (Decimal("0.0"), 0.0),
    ]
    assert [(r.satisfaction_average, r.unsatisfied) for r in report.by_branch] == [
        (Decimal("70.0"), 1),
        (Decimal("62.5"), 1),
        (Decimal("80.0"), 0),
    ]


def test_retention_of_last_years_vips_from_the_tier_history(book, demo_users):
    report = analysis_report(user=demo_users["demo_bh"])
    assert report.year_before == D(2025, 5, 31)
    # a1 held gold and still does; a2 held platinum and dropped out; b2 held platinum
    # (moved from gold in March) and holds gold now; b1 came in after the date
    totals = report.retention_totals
    assert (totals.held, totals.kept, totals.rate) == (3, 2, 66.7)
    assert [(r.label, r.held, r.kept, r.rate) for r in report.retention_by_branch] == [
        ("中关村网点", 2, 1, 50.0),
        ("五道口网点", 1, 1, 100.0),
    ]
    tiers = _rows(report.retention_by_tier)
    assert (tiers["白金级"].held, tiers["白金级"].kept, tiers["白金级"].rate) == (2, 1, 50.0)
    assert (tiers["金级"].held, tiers["金级"].kept, tiers["金级"].rate) == (1, 1, 100.0)
    assert tiers["核心级"].rate is None


def test_a_year_before_the_29th_of_february_is_the_28th():
    assert year_before(D(2028, 2, 29)) == D(2027, 2, 28)
    assert year_before(AS_OF) == D(2025, 5, 31)


# --- the scope --------------------------------------------------------------------------


def test_head_office_sees_the_bank_by_branch_and_can_narrow_it(client, book, demo_users, demo_password):
    bank = analysis_report(user=demo_users["demo_bm"])
    assert [(r.label, r.customers, r.contribution) for r in bank.by_branch] == [
        ("北京分行", 5, Decimal("4400")),
        ("上海分行", 1, Decimal("10000")),
    ]
    assert (bank.totals.customers, bank.totals.value_at_risk) == (6, Decimal("10750"))
    assert (bank.retention_totals.held, bank.retention_totals.kept) == (4, 3)

    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, {"branch": "12000"})
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.label, r.customers) for r in report.by_branch] == [("浦东支行", 1), ("黄浦支行", 0)]
    assert report.totals.customers == 1 and report.totals.contribution == Decimal("10000")


def test_a_branch_head_sees_only_their_subtree_and_is_refused_another(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert _figure(html, "profitability-branch", "total", "contribution") == "4,400.00"
    assert _figure(html, "profitability-branch", "中关村网点", "customers") == "2"
    # Shanghai is neither a figure nor a choice
    assert "上海分行" not in html and "陆家嘴网点" not in html
    assert "10,000.00" not in html

    refused = client.get(URL, {"branch": "12000"})
    assert refused.status_code == 400
    assert "No branch with this code in your scope." in refused.content.decode()
    assert refused.context["report"] is None
    assert client.get(EXPORT, {"branch": "12000"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


def test_an_outlet_chosen_is_its_own_row(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    report = client.get(URL, {"branch": "11101"}).context["report"]
    assert [(r.label, r.customers, r.contribution) for r in report.by_branch] == [
        ("中关村网点", 2, Decimal("800"))
    ]
    assert (report.retention_totals.held, report.retention_totals.kept) == (2, 1)


@pytest.mark.parametrize("branch", ["nowhere", "1" * 30, "11100' OR 1=1"])
def test_an_unknown_branch_is_refused_with_the_reason(client, book, demo_password, branch):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, {"branch": branch})
    assert response.status_code == 400
    assert "No branch with this code in your scope." in response.content.decode()
    assert client.get(EXPORT, {"branch": branch}).status_code == 400


@pytest.mark.parametrize("username", ["demo_cm1", "demo_pm", "demo_admin"])
def test_roles_without_the_report_are_refused(client, book, demo_password, username):
    log_in(client, username, demo_password)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


# --- the page ---------------------------------------------------------------------------


def test_the_page_shows_each_section_formatted_and_labelled(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    html = client.get(URL).content.decode()
    assert _figure(html, "profitability-tier", "金级", "contribution") == "1,500.00"
    assert _figure(html, "profitability-branch", "五道口网点", "per_customer") == "1,750.00"
    assert _figure(html, "loyalty-branch", "total", "band4") == "1"
    assert _figure(html, "churn-tier", "金级", "churn_average") == "55.0%"
    assert _figure(html, "churn-tier", "成长级", "churn_average") == "—"
    assert _figure(html, "churn-tier", "total", "value_at_risk") == "1,750.00"
    assert _figure(html, "retention-branch", "中关村网点", "rate") == "50.0%"
    assert _figure(html, "retention-tier", "total", "rate") == "66.7%"
    assert _figure(html, "cross-sell-branch", "total", "cross_sold") == "40.0%"
    assert _figure(html, "satisfaction-tier", "Not a VIP", "unsatisfied") == "1"
    assert _figure(html, "satisfaction-branch", "total", "satisfaction") == "69.0"
    assert "Analysis of 2026-05-31" in html
    # no customer is named: aggregates only
    for customer in book.values():
        assert customer.name not in html and customer.customer_no not in html


def test_the_page_shows_labels_not_codes(client, book, settings, demo_password):
    settings.LANGUAGE_CODE = "zh-hans"
    log_in(client, "demo_bm", demo_password)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    assert "金级" in text and "白金级" in text
    codes = ["core", "growth", "platinum", "gold", "potential", "11000", "12000", "11101"]
    shown = [code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)]
    assert shown == []


def test_the_chart_data_is_on_the_page(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    html = client.get(URL).content.decode()
    match = re.search(r'<script id="analysis-report-data" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    chart = json.loads(match.group(1))
    assert chart["loyalty"]["labels"] == ["0–19", "20–39", "40–59", "60–79", "80–100"]
    series = {s["label"]: s["data"] for s in chart["loyalty"]["series"]}
    assert series == {"白金级": [0, 0, 1, 0, 0], "金级": [0, 0, 0, 1, 1], "Not a VIP": [1, 1, 0, 0, 0]}
    churn = chart["churn"]
    assert churn["average"][churn["labels"].index("金级")] == 55.0
    assert churn["value_at_risk"][churn["labels"].index("白金级")] == 900.0
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/analysis_reports.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_without_analysis_rows_the_page_says_when_they_come(client, org, demo_users, demo_password):
    CustomerFactory(home_branch=org["11101"], tier="gold")  # a customer, not analysed yet
    log_in(client, "demo_bh", demo_password)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "the analysis runs after each nightly load" in html
    assert 'data-testid="profitability-branch"' not in html
    assert 'data-testid="analysis-report-export"' not in html
    assert "analysis_reports.js" not in html
    assert response.context["report"].as_of is None


def test_without_last_years_vips_the_retention_says_so(client, book, demo_password):
    TierChange.objects.all().delete()
    log_in(client, "demo_bh", demo_password)
    html = client.get(URL).content.decode()
    assert "None of these customers held a tier a year before the analysis." in html
    assert 'data-testid="retention-branch"' not in html


# --- the Excel copy ---------------------------------------------------------------------


def test_the_excel_copy_has_the_pages_figures_and_is_audited(client, book, demo_users, demo_password):
    log_in(client, "demo_bh", demo_password)
    page = client.get(URL)
    assert 'data-testid="analysis-report-export"' in page.content.decode()
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customer-analysis-20260531.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    by_branch, by_tier, retention = workbook.worksheets
    rows = list(by_branch.iter_rows(values_only=True))
    assert rows[0] == ("Analysis date", "2026-05-31") + (None,) * (len(rows[0]) - 2)
    assert (
        "五道口网点",
        2,
        3500,
        1000,
        1500,
        1000,
        1750,
        0,
        0,
        1,
        1,
        0,
        40,
        1,
        1150,
        2.5,
        50,
        62.5,
        1,
    ) in rows
    total = next(row for row in rows if row[0] == "Total")
    assert total == ("Total", 5, 4400, 1400, 1900, 1100, 880, 1, 1, 1, 1, 1, 30, 2, 1750, 2, 40, 69, 2)
    money_cell = next(row for row in by_branch.iter_rows() if row[0].value == "Total")[2]
    assert money_cell.number_format == "#,##0.00"
    tiers = {row[0]: row for row in by_tier.iter_rows(values_only=True)}
    assert tiers["金级"][1:3] == (2, 1500) and tiers["Not a VIP"][1] == 2
    kept = [
        row for row in retention.iter_rows(values_only=True) if row[0] in ("中关村网点", "白金级", "Total")
    ]
    assert kept == [
        ("中关村网点", 2, 1, 50),
        ("Total", 3, 2, 66.7),
        ("白金级", 2, 1, 50),
        ("Total", 3, 2, 66.7),
    ]

    event = AuditEvent.objects.get(action="export", actor=demo_users["demo_bh"])
    assert event.target_type == "analysis.report"
    assert event.details["filters"] == {"branch": ""}
    assert event.details["as_of"] == "2026-05-31"
    assert event.details["rows"] == 4 + 7 + 3 + 6  # branches, tiers, retention rows with their totals
    text = " ".join(
        str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row
    )
    assert all(c.name not in text and c.customer_no not in text for c in book.values())


def test_the_export_of_a_branch_records_it(client, book, demo_users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get(EXPORT, {"branch": "11102"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:2] == ("Branch", "五道口网点")
    assert next(row for row in rows if row[0] == "Total")[1:3] == (2, 3500)
    event = AuditEvent.objects.get(action="export", actor=demo_users["demo_bm"])
    assert event.details["filters"] == {"branch": "11102"}


def test_only_exporters_get_the_excel_copy(client, book, demo_password):
    for username, page, export in (("demo_audit", 200, 403), ("demo_bm", 200, 200), ("demo_bh", 200, 200)):
        client.logout()
        log_in(client, username, demo_password)
        response = client.get(URL)
        assert response.status_code == page, username
        assert ('data-testid="analysis-report-export"' in response.content.decode()) is (export == 200)
        assert client.get(EXPORT).status_code == export, username
    exporters = set(AuditEvent.objects.filter(action="export").values_list("actor__username", flat=True))
    assert exporters == {"demo_bm", "demo_bh"}


# --- the number of queries ----------------------------------------------------------------

# session, user, permissions (2) and roles, the user's branch, the scope's subtree;
# the filter's branch and its choices; the rows' branches, the chosen branch's
# subtree, the analysis groups, the tier levels, the retention groups; the session's
# save (3)
QUERY_LIMIT = 17


def _more_outlets(org, count: int) -> None:
    """`count` outlets more under the Haidian sub-branch, each with an analysed VIP
    who held a tier a year before."""
    for i in range(count):
        outlet = Branch.objects.create(
            code=f"1110{3 + i}", name=f"新网点{i}", level=BranchLevel.OUTLET, parent=org["11100"]
        )
        customer = CustomerFactory(home_branch=outlet, tier="gold")
        _analyse(customer, ("100", "0", "0"), 50, "0.2000", "20", 2, 75)
        _history(customer, [(D(2024, 1, 1), "", "gold")])


def _queries(client, branch: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"branch": branch} if branch else {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["demo_bm", "demo_bh", "demo_audit"])
def test_the_query_count_does_not_grow_with_the_branches(
    client, book, org, demo_password, django_assert_max_num_queries, username
):
    log_in(client, username, demo_password)
    client.get(URL)  # the first request of a session reads what later ones keep
    before = {branch: _queries(client, branch) for branch in ("", "11100")}
    _more_outlets(org, 6)
    after = {branch: _queries(client, branch) for branch in ("", "11100")}
    assert after == before
    for query in ({}, {"branch": "11100"}):
        with django_assert_max_num_queries(QUERY_LIMIT):
            response = client.get(URL, query)
    # the Haidian sub-branch's rows: its 8 outlets and itself
    assert len(response.context["report"].by_branch) == 9


def _figure(html: str, table: str, row: str, figure: str) -> str:
    """The text of one figure cell of a row of one table of the page."""
    found = re.search(rf'<table[^>]*data-testid="{re.escape(table)}".*?</table>', html, re.S)
    assert found is not None, table
    line = re.search(rf'<tr[^>]*data-row="{re.escape(row)}".*?</tr>', found.group(0), re.S)
    assert line is not None, (table, row)
    cell = re.search(rf'data-figure="{figure}">([^<]*)<', line.group(0))
    assert cell is not None, (table, row, figure)
    return cell.group(1).strip()

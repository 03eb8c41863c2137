"""The credit-risk reports page (/credit/reports/) and its Excel copy on the known
book of tests/credit/test_risk_figures.py (figures rebuilt as of 4 December 2026):
the overdue rate and the NPL ratio per branch, product line and month, the
roll-rate matrix, the vintages; held to the user's scope (a foreign or unknown
branch refused, 400); refusals of the roles without the report; the export
audited; the empty state; labels, never codes; a bounded number of queries."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import AuditEvent, Branch, BranchLevel
from credit.reports import credit_report, figure_months
from credit.risk_figures import risk_figures_rebuild
from customers.choices import AccountCategory
from tests.credit.test_risk_figures import AS_OF, D, _balances, build_book
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

URL = "/credit/reports/"
EXPORT = "/credit/reports/export/"
NOVEMBER = {"month": "2026-11"}


@pytest.fixture
def book(org, demo_users, new_customer, add_account):
    accounts = build_book(org, new_customer, add_account)
    risk_figures_rebuild(as_of=AS_OF)
    return accounts


def _figure(html: str, table: str, row: str, figure: str) -> str:
    """The text of one figure cell of a row of one table of the page."""
    found = re.search(rf'<table[^>]*data-testid="{re.escape(table)}".*?</table>', html, re.S)
    assert found is not None, table
    line = re.search(rf'<tr[^>]*data-row="{re.escape(row)}".*?</tr>', found.group(0), re.S)
    assert line is not None, (table, row)
    cell = re.search(rf'data-figure="{figure}">(.*?)</td>', line.group(0), re.S)
    assert cell is not None, (table, row, figure)
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


# --- the figures --------------------------------------------------------------------------


def test_head_office_sees_the_overdue_rate_and_npl_ratio_of_the_bank(book, demo_users):
    report = credit_report(user=demo_users["demo_bm"], months=figure_months(), month=D(2026, 11, 1))
    assert [(r.label, r.accounts, r.outstanding) for r in report.by_branch] == [
        ("北京分行", 2, Decimal("504000")),
        ("上海分行", 1, Decimal("20000")),
    ]
    totals = report.totals
    # past due: the mortgage (31-60) and the card (90+), whole balances
    assert (totals.outstanding, totals.past_due_balance, totals.non_performing_balance) == (
        Decimal("524000"),
        Decimal("504000"),
        Decimal("10000"),
    )
    assert (totals.overdue_rate, totals.npl_ratio) == (96.18, 1.91)
    assert totals.overdue_amount == Decimal("8500")
    by_product = {r.label: (r.accounts, r.overdue_rate, r.npl_ratio) for r in report.by_product}
    assert by_product == {
        "Mortgage loan": (1, 100.0, 0.0),
        "Consumer loan": (1, 0.0, 0.0),
        "Business loan": (0, None, None),
        "Credit card": (1, 100.0, 100.0),
    }
    # the month by month trend of the whole selection, oldest first
    trend = {r.label: (r.outstanding, r.overdue_rate, r.npl_ratio) for r in report.by_month}
    assert trend["2026-08"] == (Decimal("520000"), 0.0, 0.0)
    assert trend["2026-09"] == (Decimal("528000"), 96.21, 1.89)
    assert trend["2026-12"] == (Decimal("523000"), 1.91, 1.91)
    assert report.as_of == D(2026, 11, 30)


def test_the_newest_month_is_shown_unless_another_is_chosen(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    report = client.get(URL).context["report"]
    assert (report.month, report.as_of) == (D(2026, 12, 1), AS_OF)
    html = client.get(URL, NOVEMBER).content.decode()
    assert _figure(html, "buckets-branch", "total", "overdue_rate") == "96.18%"
    assert _figure(html, "classes-branch", "total", "npl_ratio") == "1.91%"
    assert _figure(html, "buckets-branch", "北京分行", "bucket-2") == "494,000.00"
    assert _figure(html, "trend", "2026-09", "npl_ratio") == "1.89%"


def test_the_roll_rate_matrix_of_the_month_chosen(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    html = client.get(URL, {"month": "2026-09"}).content.decode()
    # the mortgage moved from current to 1-30; the card was not on book in August
    assert _figure(html, "roll-rates", "Current", "to-1") == "1 (100.0%)"
    assert _figure(html, "roll-rates", "total", "accounts") == "1"
    october = client.get(URL, {"month": "2026-10"}).context["report"]
    assert {r.label: r.to for r in october.rolls if r.accounts} == {
        "1–30 days": [0, 0, 1, 0, 0],
        "90+ days": [0, 0, 0, 0, 1],
    }
    # no row in November: the mortgage carried its status over, 31-60 to 31-60
    november = client.get(URL, NOVEMBER).context["report"]
    assert {r.label: r.to for r in november.rolls if r.accounts} == {
        "31–60 days": [0, 0, 1, 0, 0],
        "90+ days": [0, 0, 0, 0, 1],
    }


def test_the_vintages_of_mortgages_and_cards(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    report = client.get(URL, NOVEMBER).context["report"]
    mortgages, cards = report.vintages
    assert (mortgages.label, cards.label) == ("Mortgage loan", "Credit card")
    [august] = mortgages.rows
    # up to the month chosen: months on book 0 to 3
    assert (august.label, august.accounts, august.ever_shares) == ("2026-08", 1, [0.0, 0.0, 100.0, 100.0])
    assert {r.label: r.ever_shares[:3] for r in cards.rows} == {
        "2026-01": [0.0, 0.0, 100.0],
        "2026-09": [100.0, 100.0, 100.0],
    }
    html = client.get(URL, NOVEMBER).content.decode()
    assert _figure(html, "vintage-loan_mortgage", "2026-08", "mob-1") == "100.0%"  # 3 months on book
    assert _figure(html, "vintage-loan_mortgage", "2026-08", "mob-2") == "—"  # 6: not yet


# --- scope and filters --------------------------------------------------------------------


def test_a_branch_head_sees_only_their_subtree_and_is_refused_another(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.get(URL, NOVEMBER)
    assert response.status_code == 200
    html = response.content.decode()
    assert _figure(html, "buckets-branch", "total", "outstanding") == "504,000.00"
    assert _figure(html, "buckets-branch", "中关村网点", "outstanding") == "494,000.00"
    assert "上海分行" not in html and "20,000.00" not in html

    refused = client.get(URL, {"branch": "12000"})
    assert refused.status_code == 400
    assert "No branch with this code in your scope." in refused.content.decode()
    assert refused.context["report"] is None
    assert client.get(EXPORT, {"branch": "12000"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


def test_a_branch_and_a_product_line_narrow_every_figure(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    report = client.get(URL, {**NOVEMBER, "branch": "11102", "category": "CREDIT_CARD"}).context["report"]
    assert [(r.label, r.outstanding, r.npl_ratio) for r in report.by_branch] == [
        ("五道口网点", Decimal("10000"), 100.0)
    ]
    assert [r.label for r in report.by_product] == ["Credit card"]
    assert [t.label for t in report.vintages] == ["Credit card"]
    consumer = client.get(URL, {**NOVEMBER, "category": "LOAN_CONSUMER"}).context["report"]
    assert consumer.totals.outstanding == Decimal("20000") and consumer.vintages == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"branch": "nowhere"}, "No branch with this code in your scope."),
        ({"month": "2019-01"}, "No credit-risk figures for this month."),
        ({"category": "DEP_CUR"}, "Select a valid choice."),
    ],
)
def test_an_unknown_filter_is_refused_with_the_reason(client, book, demo_password, query, message):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert client.get(EXPORT, query).status_code == 400


@pytest.mark.parametrize("username", ["demo_cm1", "demo_pm", "demo_admin"])
def test_roles_without_the_report_are_refused(client, book, demo_password, username):
    log_in(client, username, demo_password)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_labels_not_codes_and_its_charts(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    html = client.get(URL, NOVEMBER).content.decode()
    for code in ("LOAN_MORTGAGE", "CREDIT_CARD", "LOAN_CONSUMER"):
        assert f">{code}<" not in html and f'data-row="{code}"' not in html
    for label in ("Mortgage loan", "Credit card", "Substandard", "Doubtful", "90+ days", "31–60 days"):
        assert label in html
    data = json.loads(re.search(r'id="credit-report-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["trend"]["labels"][-1] == "2026-12" and len(data["trend"]["labels"]) == 24
    assert data["trend"]["npl_ratio"][data["trend"]["labels"].index("2026-11")] == 1.91
    assert [v["id"] for v in data["vintages"]] == [
        "credit-vintage-loan_mortgage",
        "credit-vintage-credit_card",
    ]
    assert 'id="credit-vintage-loan_mortgage"' in html and "js/credit_reports.js" in html


def test_without_figures_the_page_says_when_they_come(client, org, demo_users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="credit-report-empty"' in html
    assert "computed after each nightly load" in html
    assert 'data-testid="credit-report-export"' not in html and "credit_reports.js" not in html


def test_a_product_line_without_accounts_is_an_empty_month(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    html = client.get(URL, {"category": "LOAN_BUSINESS"}).content.decode()
    assert "No loans or cards of these branches and this product line in the month chosen." in html


# --- the Excel copy -----------------------------------------------------------------------


def test_the_excel_copy_has_the_pages_figures_and_is_audited(client, book, demo_users, demo_password):
    log_in(client, "demo_bh", demo_password)
    assert 'data-testid="credit-report-export"' in client.get(URL, NOVEMBER).content.decode()
    response = client.get(EXPORT, NOVEMBER)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="credit-risk-20261130.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["By month", "By branch", "By product line", "Roll rates", "Vintages"]
    by_branch = list(workbook["By branch"].iter_rows(values_only=True))
    assert by_branch[0][:2] == ("Month", "2026-11") and by_branch[3][:2] == (
        "Product line",
        "All loans and cards",
    )
    total = next(row for row in by_branch if row[0] == "Total")
    # accounts, outstanding, balances per bucket, past due, overdue rate, amount past due
    assert total[:11] == ("Total", 2, 504000, 0, 0, 494000, 0, 10000, 504000, 100, 8500)
    # then balances per class, non-performing, NPL ratio, accounts per bucket
    assert total[11:] == (0, 494000, 0, 10000, 0, 10000, 1.98, 0, 0, 1, 0, 1)
    money_cell = next(row for row in workbook["By branch"].iter_rows() if row[0].value == "Total")[2]
    assert money_cell.number_format == "#,##0.00"
    rolls = list(workbook["Roll rates"].iter_rows(values_only=True))
    assert ("31–60 days", 0, 0, 1, 0, 0, 1) in rolls
    vintages = list(workbook["Vintages"].iter_rows(values_only=True))
    assert ("2026-08", 1, 0, 0, 100, 100) in [row[:6] for row in vintages]
    assert not any("LOAN_MORTGAGE" in str(v) for row in vintages for v in row)

    event = AuditEvent.objects.get(action="export", actor=demo_users["demo_bh"])
    assert event.target_type == "credit.report"
    assert event.details["filters"] == {"branch": "", "category": "", "month": "2026-11"}
    assert event.details["as_of"] == "2026-11-30"
    assert event.details["rows"] == 8 + 3 + 5 + 6 + 3  # months, branches, products, rolls, vintages


def test_only_exporters_get_the_excel_copy(client, book, demo_password):
    for username, page, export in (("demo_audit", 200, 403), ("demo_bm", 200, 200), ("demo_bh", 200, 200)):
        client.logout()
        log_in(client, username, demo_password)
        response = client.get(URL)
        assert response.status_code == page, username
        assert ('data-testid="credit-report-export"' in response.content.decode()) is (export == 200)
        assert client.get(EXPORT).status_code == export, username
    exporters = set(AuditEvent.objects.filter(action="export").values_list("actor__username", flat=True))
    assert exporters == {"demo_bm", "demo_bh"}


# --- the number of queries ----------------------------------------------------------------

# session, user, permissions (2), the months with figures, roles, the scope's
# branches for the filter (and the chosen branch); the rows' branches, the branches
# counted (the chosen one's subtree or the scope's), the figures by month, by branch,
# the roll rates, the vintages; the session's save (3)
QUERY_LIMIT = 18


def _more_outlets(org, new_customer, add_account, count: int) -> None:
    """`count` outlets more under the Haidian sub-branch, each booking a card."""
    for i in range(count):
        outlet = Branch.objects.create(
            code=f"1110{3 + i}", name=f"新网点{i}", level=BranchLevel.OUTLET, parent=org["11100"]
        )
        org[outlet.code] = outlet
        customer = new_customer(branch=outlet.code)
        card = add_account(customer, category=AccountCategory.CREDIT_CARD, open_date=D(2026, 10, 1))
        _balances(card, ["", "", "3000", "3000", "3000"])
    # history written behind the loads' back: the month ends are read again
    risk_figures_rebuild(as_of=AS_OF, from_history=True)


def _queries(client, query: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, query).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["demo_bm", "demo_bh", "demo_audit"])
def test_the_query_count_does_not_grow_with_the_branches(
    client, book, org, new_customer, add_account, demo_password, django_assert_max_num_queries, username
):
    log_in(client, username, demo_password)
    client.get(URL)  # the first request of a session reads what later ones keep
    queries = ({}, {"branch": "11100"}, {**NOVEMBER, "category": "CREDIT_CARD"})
    before = [_queries(client, q) for q in queries]
    _more_outlets(org, new_customer, add_account, 6)
    assert [_queries(client, q) for q in queries] == before
    for query in queries:
        with django_assert_max_num_queries(QUERY_LIMIT):
            response = client.get(URL, query)
    # the cards on book in November: 五道口's and the new outlets'
    assert response.context["report"].totals.accounts == 1 + 6

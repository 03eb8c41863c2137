"""Channel results (marketing.channel_report): each figure on a small known book,
held to the user's scope, the adoption of a channel by branch, refusals of bad
filters, the Excel copy (same totals, audited) and a bounded number of queries.

The book, all in May 2026 unless said: at 11101 (Haidian sub-branch, cm1) the VIP
`vip_a` and the non-VIP `plain`; at 11102 (cm2) the VIPs `vip_b` and `vip_c`; in
Shanghai (12101, cm3) the VIP `far`, outside the Haidian branch head's scope."""

from __future__ import annotations

import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEvent
from customers.choices import AccountCategory
from customers.models import TransactionSummary
from marketing.channel_report import channel_adoption, channel_results, parse_period
from marketing.choices import ContactOutcome, SaleSource, TargetStatus
from marketing.models import CampaignTarget, Channel, MarketingContact, Sale
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

URL = "/marketing/channels/results/"
EXPORT = "/marketing/channels/results/export/"
MAY = {"period": "2026-05"}
MAY_START, MAY_END = datetime.date(2026, 5, 1), datetime.date(2026, 5, 31)


def _at(day: int, month: int = 5) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, month, day, 10, 0))


@pytest.fixture
def book(users, make_customer, running_campaign):
    cm1, cm2, cm3 = users["demo_cm1"], users["demo_cm2"], users["demo_cm3"]
    vip = {"tier": "gold", "aum": Decimal("900000"), "risk_level": "C5"}
    people = {
        "vip_a": make_customer(branch="11101", manager=cm1, **vip),
        "plain": make_customer(branch="11101", manager=cm1, aum=Decimal("90000"), risk_level="C5"),
        "vip_b": make_customer(branch="11102", manager=cm2, **vip),
        "vip_c": make_customer(branch="11102", manager=cm2, **vip),
        "far": make_customer(branch="12101", manager=cm3, **vip),
    }
    campaign = running_campaign({"aum_min": "50000"})
    target = CampaignTarget.objects.get(campaign=campaign, customer=people["vip_a"])
    CampaignTarget.objects.filter(pk=target.pk).update(status=TargetStatus.CONVERTED)
    channels = {c.code: c for c in Channel.objects.all()}

    def contact(who, via, when, manager):
        MarketingContact.objects.create(
            customer=people[who],
            channel=channels[via].contact_channel,
            via=channels[via],
            occurred_at=when,
            outcome=ContactOutcome.INTERESTED,
            manager=manager,
        )

    contact("vip_a", "call", _at(3), cm1)
    contact("vip_a", "call", _at(10), cm1)
    contact("plain", "call", _at(12), cm1)
    contact("vip_b", "sms", _at(4), cm2)
    contact("far", "call", _at(5), cm3)
    contact("vip_a", "call", _at(30, month=4), cm1)  # April: outside the period

    def sale(who, channel, amount, day, **link):
        customer = people[who]
        Sale.objects.create(
            customer=customer,
            category=AccountCategory.WEALTH,
            amount=Decimal(amount),
            sale_date=day,
            branch=customer.home_branch,
            manager=customer.primary_manager,
            source=SaleSource.OPPORTUNITY,
            channel=channels[channel],
            **link,
        )

    sale("vip_a", "mobile", "10000.00", datetime.date(2026, 5, 6))
    sale("plain", "mobile", "2500.50", datetime.date(2026, 5, 7))
    sale("vip_a", "call", "50000.00", datetime.date(2026, 5, 15), target=target, campaign=campaign)
    sale("far", "counter", "7000.00", datetime.date(2026, 5, 8))
    sale("vip_a", "mobile", "999.00", datetime.date(2026, 6, 1))  # June: outside the period

    def txn(who, code, day, count, amount, month=5):
        TransactionSummary.objects.create(
            customer=people[who],
            business_date=datetime.date(2026, month, day),
            channel=code,
            txn_count=count,
            txn_amount=Decimal(amount),
        )

    txn("vip_a", "MOBILE", 5, 3, "300.00")
    txn("vip_a", "MOBILE", 20, 1, "100.00")
    txn("vip_b", "MOBILE", 6, 2, "2000.00")
    txn("plain", "MOBILE", 7, 5, "50.00")
    txn("far", "MOBILE", 8, 1, "1.00")
    txn("vip_a", "COUNTER", 9, 1, "5000.00")
    txn("vip_a", "MOBILE", 30, 9, "9.00", month=4)  # April: outside the period
    return {"people": people, "target": target, "channels": channels}


def _rows(results) -> dict[str, object]:
    return {row.channel.code: row for row in results.rows}


def test_each_figure_per_channel_for_a_branch_head(book, users):
    results = channel_results(user=users["demo_bh"], start=MAY_START, end=MAY_END)
    rows = _rows(results)
    call, sms, mobile, counter = rows["call"], rows["sms"], rows["mobile"], rows["counter"]

    assert (call.contacts, call.contacted, call.conversions, call.sales, call.amount) == (
        3,
        2,
        1,
        1,
        Decimal("50000.00"),
    )
    assert not call.has_transactions and call.vip_share is None
    assert (sms.contacts, sms.contacted, sms.conversions, sms.sales) == (1, 1, 0, 0)
    assert (mobile.contacts, mobile.conversions, mobile.sales, mobile.amount) == (
        0,
        0,
        2,
        Decimal("12500.50"),
    )
    assert (mobile.transacting, mobile.txn_count, mobile.txn_amount) == (3, 11, Decimal("2450.00"))
    assert (mobile.vip_transacting, mobile.vips, mobile.vip_share) == (2, 3, 66.7)
    assert (counter.sales, counter.transacting, counter.txn_count, counter.txn_amount) == (
        0,
        1,
        1,
        Decimal("5000.00"),
    )
    assert counter.vip_share == 33.3
    assert results.vips == 3

    totals = results.totals
    assert (totals.contacts, totals.contacted, totals.conversions, totals.sales) == (4, 3, 1, 3)
    assert totals.amount == Decimal("62500.50")
    # a customer who used two channels counts once among the customers
    assert (totals.transacting, totals.txn_count, totals.txn_amount) == (3, 12, Decimal("7450.00"))
    assert (totals.vip_transacting, totals.vip_share) == (2, 66.7)


def test_the_channels_in_order_a_switched_off_one_only_with_figures(book, users):
    Channel.objects.filter(code__in=["sms", "email"]).update(is_active=False)
    results = channel_results(user=users["demo_bh"], start=MAY_START, end=MAY_END)
    codes = [row.channel.code for row in results.rows]
    assert codes == list(
        Channel.objects.filter(code__in=codes).order_by("position", "code").values_list("code", flat=True)
    )
    assert "sms" in codes and _rows(results)["sms"].switched_off
    assert "email" not in codes


def test_head_office_sees_the_other_branch_and_a_branch_head_does_not(client, book, users, demo_password):
    bank = _rows(channel_results(user=users["demo_bm"], start=MAY_START, end=MAY_END))
    assert (bank["call"].contacts, bank["counter"].sales, bank["counter"].amount) == (
        4,
        1,
        Decimal("7000.00"),
    )
    assert (bank["mobile"].transacting, bank["mobile"].vip_transacting, bank["mobile"].vips) == (4, 3, 4)

    log_in(client, "demo_bh", demo_password)
    response = client.get(URL, MAY)
    assert response.status_code == 200
    html = response.content.decode()
    assert _figure(html, "channel-row-counter", "sales") == "0"
    assert _figure(html, "channel-row-call", "contacts") == "3"
    assert _figure(html, "channel-totals", "amount") == "62,500.50"
    # Shanghai is not a choice, and asking for it is refused with the reason
    assert "上海分行" not in html
    refused = client.get(URL, {**MAY, "branch": "12000"})
    assert refused.status_code == 400
    assert "No branch with this code in your scope." in refused.content.decode()


def test_a_branch_narrows_head_office_to_it(client, book, users, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, {**MAY, "branch": "11100"})
    assert response.status_code == 200
    rows = _rows(response.context["results"])
    assert (rows["call"].contacts, rows["counter"].sales, rows["mobile"].vips) == (3, 0, 3)


def test_a_client_manager_sees_their_own_customers_figures_only(client, book, users, demo_password):
    log_in(client, "demo_cm1", demo_password)
    response = client.get(URL, MAY)
    assert response.status_code == 200
    rows = _rows(response.context["results"])
    assert (rows["call"].contacts, rows["call"].contacted, rows["sms"].contacts) == (3, 2, 0)
    assert (rows["mobile"].sales, rows["mobile"].transacting, rows["mobile"].vips) == (2, 2, 1)
    assert rows["mobile"].vip_share == 100.0
    # no customer is named: aggregates only
    html = response.content.decode()
    for customer in book["people"].values():
        assert customer.name not in html and customer.customer_no not in html


def test_adoption_by_branch_of_mobile_banking_and_of_another_channel(client, book, users, demo_password):
    mobile = book["channels"]["mobile"]
    adoption = channel_adoption(user=users["demo_bh"], channel=mobile, start=MAY_START, end=MAY_END)
    assert [(r.label, r.vips, r.transacting, r.share) for r in adoption.rows] == [
        ("中关村网点", 1, 1, 100.0),
        ("五道口网点", 2, 1, 50.0),
    ]
    assert (adoption.totals.vips, adoption.totals.transacting, adoption.totals.share) == (3, 2, 66.7)

    bank = channel_adoption(user=users["demo_bm"], channel=mobile, start=MAY_START, end=MAY_END)
    assert [(r.label, r.vips, r.transacting) for r in bank.rows] == [("北京分行", 3, 2), ("上海分行", 1, 1)]

    log_in(client, "demo_bh", demo_password)
    default = client.get(URL, MAY)
    assert default.context["adoption"].channel.code == "mobile"
    counter = client.get(URL, {**MAY, "channel": "counter"})
    assert [(r.vips, r.transacting) for r in counter.context["adoption"].rows] == [(1, 1), (2, 0)]
    assert "VIP adoption of 柜面 by branch" in counter.content.decode()
    # a channel without transactions has no adoption
    refused = client.get(URL, {**MAY, "channel": "call"})
    assert refused.status_code == 400
    assert "No channel with this code whose transactions core banking reports" in refused.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2026-13"}, "is not a month (YYYY-MM) or a quarter"),
        ({"period": "May"}, "is not a month (YYYY-MM) or a quarter"),
        ({"period": "2026-05", "start": "2026-05-01", "end": "2026-05-31"}, "not both"),
        ({"start": "2026-05-01"}, "Give both the from and the to date."),
        ({"start": "2026-05-31", "end": "2026-05-01"}, "The to date is before the from date."),
        ({"start": "2024-01-01", "end": "2026-05-01"}, "A period of at most 366 days"),
        ({"start": "2026-02-30", "end": "2026-05-01"}, "Enter a valid date."),
    ],
)
def test_bad_filters_are_refused_with_the_reason(client, book, demo_password, query, message):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "results" not in response.context
    assert client.get(EXPORT, query).status_code == 400


def test_a_quarter_and_dates_give_the_same_figures_as_the_month(client, book, demo_password):
    assert parse_period("2026-Q2") == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))
    log_in(client, "demo_bh", demo_password)
    by_dates = client.get(URL, {"start": "2026-05-01", "end": "2026-05-31"}).context["results"]
    month = client.get(URL, MAY).context["results"]
    assert by_dates.totals == month.totals
    quarter = client.get(URL, {"period": "2026-Q2"}).context["results"]
    # the quarter holds April's contact and transactions and June's sale too
    assert (quarter.totals.contacts, quarter.totals.sales, quarter.totals.txn_count) == (5, 4, 21)


def test_the_default_period_is_the_month_of_the_latest_business_date(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.get(URL)
    assert response.status_code == 200
    yesterday = timezone.localdate() - datetime.timedelta(days=1)  # nothing loaded: yesterday
    assert response.context["results"].date_from == yesterday.replace(day=1)
    # the adoption shown is mobile banking's, and its select says so
    assert response.context["adoption"].channel.code == "mobile"
    assert '<option value="mobile" selected>' in response.content.decode()


def test_a_period_without_figures_says_so(client, book, demo_password):
    log_in(client, "demo_bm", demo_password)
    response = client.get(URL, {"period": "2020-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No figures for this period." in html
    assert 'data-testid="channel-results"' not in html
    assert 'data-testid="channel-report-export"' not in html
    # an older month than the select offers stays chosen
    assert '<option value="2020-01" selected>2020-01</option>' in html


def test_the_chart_data_is_on_the_page(client, book, demo_password):
    log_in(client, "demo_bh", demo_password)
    html = client.get(URL, MAY).content.decode()
    match = re.search(r'<script id="channel-report-data" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    chart = json.loads(match.group(1))
    labels = chart["channels"]["labels"]
    assert chart["channels"]["amount"][labels.index("手机银行")] == 12500.5
    assert chart["channels"]["contacts"][labels.index("客户经理电话")] == 3
    assert chart["adoption"]["labels"] == ["中关村网点", "五道口网点"]
    assert chart["adoption"]["share"] == [100.0, 50.0]
    assert "js/channel_report.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_the_excel_copy_has_the_same_totals_and_is_audited(client, book, users, demo_password):
    log_in(client, "demo_bh", demo_password)
    response = client.get(EXPORT, MAY)
    assert response.status_code == 200
    book_ = load_workbook(io.BytesIO(response.content))
    results, adoption = book_.worksheets
    totals = next(row for row in results.iter_rows(values_only=True) if row[0] == "Total")
    assert totals == ("Total", 4, 3, 1, 3, 62500.5, 3, 12, 7450, 2, 66.7)
    money_cell = next(row for row in results.iter_rows() if row[0].value == "Total")[5]
    assert money_cell.number_format == "#,##0.00"
    rows = list(adoption.iter_rows(values_only=True))
    assert ("中关村网点", 1, 1, 100) in rows and ("Total", 3, 2, 66.7) in rows
    event = AuditEvent.objects.get(action="export", actor=users["demo_bh"])
    assert event.target_type == "marketing.channel_report"
    assert event.details["filters"] == {
        "from": "2026-05-01",
        "to": "2026-05-31",
        "branch": "",
        "channel": "mobile",
    }
    # no personal data in the workbook
    text = " ".join(
        str(v) for sheet in book_.worksheets for row in sheet.iter_rows(values_only=True) for v in row
    )
    assert all(c.name not in text for c in book["people"].values())


def test_who_may_export(client, book, demo_password):
    for username, status in (("demo_cm1", 403), ("demo_audit", 403), ("demo_pm", 403), ("demo_bm", 200)):
        client.logout()
        log_in(client, username, demo_password)
        assert client.get(EXPORT, MAY).status_code == status, username
    assert not AuditEvent.objects.filter(action="export").exclude(actor__username="demo_bm").exists()
    client.logout()
    log_in(client, "demo_pm", demo_password)
    assert client.get(URL, MAY).status_code == 403


@pytest.mark.parametrize("extra", [0, 20])
def test_the_query_count_does_not_grow_with_the_data(
    client, book, users, make_customer, demo_password, django_assert_max_num_queries, extra
):
    mobile = book["channels"]["mobile"]
    for i in range(extra):
        customer = make_customer(branch="11102", manager=users["demo_cm2"], tier="gold")
        TransactionSummary.objects.create(
            customer=customer,
            business_date=datetime.date(2026, 5, 1 + i % 28),
            channel="MOBILE",
            txn_count=1,
            txn_amount=Decimal("1"),
        )
        Sale.objects.create(
            customer=customer,
            category=AccountCategory.WEALTH,
            amount=Decimal("1"),
            sale_date=datetime.date(2026, 5, 2),
            branch=customer.home_branch,
            source=SaleSource.OPPORTUNITY,
            channel=mobile,
        )
    for username in ("demo_bm", "demo_bh", "demo_cm1"):
        client.logout()
        log_in(client, username, demo_password)
        with django_assert_max_num_queries(QUERY_LIMIT):
            assert client.get(URL, MAY).status_code == 200
        with django_assert_max_num_queries(QUERY_LIMIT):
            assert client.get(URL, {**MAY, "branch": users[username].branch.code}).status_code == 200


# session, user, permissions and roles, the business date (2), the filters' branches
# and channels, four families of figures, the adoption's branches and two groups,
# a branch's subtree; the session's save
QUERY_LIMIT = 24


def _figure(html: str, testid: str, figure: str) -> str:
    """The text of one figure cell of a row of the page."""
    row = re.search(rf'data-testid="{testid}".*?</tr>', html, re.S)
    assert row is not None, testid
    cell = re.search(rf'data-figure="{figure}">([^<]*)<', row.group(0))
    assert cell is not None, (testid, figure)
    return cell.group(1).strip()


def test_the_page_shows_labels_not_codes(client, book, settings, demo_password):
    settings.LANGUAGE_CODE = "zh-hans"
    log_in(client, "demo_bm", demo_password)
    html = client.get(URL, {**MAY, "channel": "counter"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    assert "手机银行" in text and "柜面" in text
    codes = [*Channel.objects.values_list("code", flat=True), "MOBILE", "COUNTER", "ONLINE", "gold"]
    shown = [code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)]
    assert shown == []

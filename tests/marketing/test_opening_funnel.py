"""The account-opening funnel: requested → appointed → opened → sold, with the
cancelled and the overdue, per branch (where the request was recorded) and per
requesting manager, on known data; each role's scope; the page, its period and its
audited Excel export."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.audit import Action
from accounts.models import AuditEvent
from marketing.choices import OpeningStatus, SaleSource
from marketing.models import Sale
from marketing.opening_funnel import opening_funnel
from tests.marketing.world_opening_reports import opening_request

pytestmark = pytest.mark.django_db
D = Decimal
START, END = datetime.date(2026, 5, 1), datetime.date(2026, 5, 31)
TODAY = datetime.date(2026, 5, 20)  # with 7 days: open requests due before 2026-05-13 are overdue
URL = "/marketing/openings/funnel/"
PERIOD = {"start": "2026-05-01", "end": "2026-05-31"}


def at(month: int, day: int, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, month, day, hour))


@pytest.fixture
def book(settings, users, make_customer, products, org):
    """Requests of May 2026 at 中关村网点 (cm1's customer), 五道口网点 (cm2's) and
    陆家嘴网点 (cm3's); one by cm2 for cm1's customer at 中关村网点; two outside May."""
    settings.OPENING_OVERDUE_DAYS = 7
    cm1, cm2, cm3 = users["demo_cm1"], users["demo_cm2"], users["demo_cm3"]
    c1 = make_customer(manager=cm1)
    c2 = make_customer(manager=cm2, branch="11102")
    c3 = make_customer(manager=cm3, branch="12101")
    product = products["deposit"]

    def req(customer, manager, created, *, appointment=None, status=None, amount=None, **fields):
        if status is not None:
            fields["status"] = status
        request = opening_request(
            customer=customer,
            product=product,
            manager=manager,
            created=created,
            appointment=appointment,
            **fields,
        )
        if amount is not None:
            request.status = OpeningStatus.OPENED
            request.sale = Sale.objects.create(
                customer=customer,
                product=product,
                product_code=product.code,
                category=product.category,
                amount=D(amount),
                sale_date=created.date(),
                manager=manager,
                branch=manager.branch,
                source=SaleSource.OPENING,
            )
            request.save()
        return request

    req(c1, cm1, at(5, 15))  # requested
    req(c1, cm1, at(5, 2), appointment=at(5, 18))  # appointed, not due yet
    req(c1, cm1, at(5, 3), appointment=at(5, 5), amount="50000")  # appointed, opened, sold
    req(c1, cm1, at(5, 4), amount="0")  # opened, not sold
    req(c1, cm1, at(5, 4), status=OpeningStatus.CANCELLED)
    req(c1, cm1, at(5, 5))  # overdue by the rule
    req(c2, cm2, at(5, 6), appointment=at(5, 12, 9), flagged_at=at(5, 20, 1))  # overdue, flagged
    req(c2, cm2, at(5, 19), flagged_at=at(5, 20, 1))  # flagged (by hand, say): overdue
    req(c2, cm2, at(5, 7), amount="20000")  # opened, sold
    req(c3, cm3, at(5, 18))
    req(c1, cm2, at(5, 16))  # cm2 recorded it for cm1's customer at 中关村网点
    req(c1, cm1, at(4, 30, 23))  # before May
    req(c1, cm1, timezone.make_aware(datetime.datetime(2026, 6, 1)))  # after May
    return {"cm1": cm1, "cm2": cm2, "cm3": cm3}


def figures(row) -> tuple:
    return (row.requested, row.appointed, row.opened, row.sold, row.cancelled, row.overdue, row.amount)


class TestFigures:
    def test_per_branch_and_per_manager_on_known_data(self, book, users):
        funnel = opening_funnel(users["demo_bm"], start=START, end=END, today=TODAY)
        by_branch = {r.label: figures(r) for r in funnel.by_branch}
        assert by_branch == {
            "中关村网点": (7, 2, 2, 1, 1, 1, D("50000")),
            "五道口网点": (3, 1, 1, 1, 0, 2, D("20000")),
            "陆家嘴网点": (1, 0, 0, 0, 0, 0, D("0")),
        }
        by_manager = {(r.label, r.branch): figures(r) for r in funnel.by_manager}
        assert by_manager == {
            ("王经理", "中关村网点"): (6, 2, 2, 1, 1, 1, D("50000")),
            ("李经理", "五道口网点"): (4, 1, 1, 1, 0, 2, D("20000")),
            ("陈经理", "陆家嘴网点"): (1, 0, 0, 0, 0, 0, D("0")),
        }
        assert figures(funnel.total) == (11, 3, 3, 2, 1, 3, D("70000"))
        zgc = funnel.by_branch[0]
        assert (zgc.label, zgc.appointed_rate, zgc.opened_rate, zgc.sold_rate) == (
            "中关村网点",
            28.6,
            28.6,
            14.3,
        )

    @pytest.mark.parametrize("role", ["demo_bm", "demo_bh", "demo_cm1"])
    def test_one_grouped_query_per_table(self, book, users, role, django_assert_num_queries):
        user = users[role]
        opening_funnel(user, start=START, end=END, today=TODAY)  # the user's roles and scope, read once
        with django_assert_num_queries(2):
            opening_funnel(user, start=START, end=END, today=TODAY)


class TestScope:
    def test_a_client_manager_sees_their_own_requests(self, book, users):
        funnel = opening_funnel(users["demo_cm1"], start=START, end=END, today=TODAY)
        assert [(r.label, r.requested) for r in funnel.by_manager] == [("王经理", 6)]
        assert [(r.label, r.requested) for r in funnel.by_branch] == [("中关村网点", 6)]

    def test_a_client_manager_does_not_count_a_request_for_a_customer_not_theirs(self, book, users):
        funnel = opening_funnel(users["demo_cm2"], start=START, end=END, today=TODAY)
        assert [(r.label, r.requested) for r in funnel.by_manager] == [("李经理", 3)]

    def test_a_branch_head_sees_the_branches_they_oversee(self, book, users):
        funnel = opening_funnel(users["demo_bh"], start=START, end=END, today=TODAY)
        assert {r.label: r.requested for r in funnel.by_branch} == {"中关村网点": 7, "五道口网点": 3}
        assert funnel.total.requested == 10

    def test_head_office_sees_every_branch(self, book, users):
        funnel = opening_funnel(users["demo_audit"], start=START, end=END, today=TODAY)
        assert funnel.total.requested == 11


class TestPage:
    def test_the_page_names_branches_and_managers_with_a_chart(
        self, client, book, users, django_assert_max_num_queries
    ):
        client.force_login(users["demo_bm"])
        with django_assert_max_num_queries(12):
            response = client.get(URL, PERIOD)
        assert response.status_code == 200
        page = response.content.decode()
        tables = page.split('data-testid="funnel-by-branch"')[1].split("</table>")[0]
        assert "中关村网点" in tables and "11101" not in tables
        managers = page.split('data-testid="funnel-by-manager"')[1].split("</table>")[0]
        assert "王经理" in managers and "E1101" not in managers and "demo_cm1" not in managers
        assert 'id="marketing-chart-data"' in page and "js/marketing_charts.js" in page
        assert response.context["chart"]["values"] == [11, 3, 3, 2]
        assert "70,000.00" in page

    def test_this_month_by_default(self, client, users, make_customer, products):
        cm1 = users["demo_cm1"]
        opening_request(customer=make_customer(manager=cm1), product=products["deposit"], manager=cm1)
        client.force_login(cm1)
        response = client.get(URL)
        assert response.status_code == 200
        funnel = response.context["funnel"]
        assert funnel.start == timezone.localdate().replace(day=1) and funnel.total.requested == 1

    @pytest.mark.parametrize("query", [{"start": "2026-02-30"}, {"start": "2026-05-02", "end": "2026-05-01"}])
    def test_a_bad_period_is_a_400_saying_why(self, client, users, query):
        client.force_login(users["demo_bm"])
        response = client.get(URL, query)
        assert response.status_code == 400
        assert response.context["funnel"] is None

    def test_the_excel_export_is_the_page_and_audited(self, client, book, users):
        client.force_login(users["demo_bh"])
        response = client.get(URL + "export/", PERIOD)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        workbook = load_workbook(io.BytesIO(response.content))
        rows = list(workbook["By branch"].iter_rows(values_only=True))
        assert rows[0][0] == "Recorded 2026-05-01 – 2026-05-31"
        assert rows[1][:5] == ("Branch", "Requested", "Appointed", "Opened", "Sold")
        body = {r[0]: r[1:5] for r in rows[2:]}
        assert body == {"中关村网点": (7, 2, 2, 1), "五道口网点": (3, 1, 1, 1), "Total": (10, 3, 3, 2)}
        managers = {r[0]: r[1] for r in workbook["By manager"].iter_rows(min_row=3, values_only=True)}
        assert managers == {"王经理": "中关村网点", "李经理": "五道口网点", "Total": None}
        [event] = AuditEvent.objects.filter(action=Action.EXPORT)
        assert event.actor == users["demo_bh"]
        assert event.details["export"] == "opening_funnel" and event.details["start"] == "2026-05-01"

    def test_a_client_manager_may_not_export(self, client, book, users):
        client.force_login(users["demo_cm1"])
        assert client.get(URL + "export/", PERIOD).status_code == 403
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()

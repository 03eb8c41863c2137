"""The VIP list pages' filters (vip.filters): values checked on the server, applied
after the data scope, and one set of filters for the report and its export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.test import RequestFactory
from openpyxl import load_workbook

from customers.models import Customer
from tests.customers.conftest import log_in
from vip.filters import BookFilterSet, PoolFilterSet, ReportFilterSet
from vip.models import TierChange, VipProspect
from vip.services import prospect_close, prospect_create, vip_liquidate, vip_register

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestBook:
    def test_an_unknown_tier_is_said_and_filters_nothing(self, client, users, new_customer, demo_password):
        gold = new_customer(manager=users["demo_cm1"], aum="900000", tier="gold")
        plain = new_customer(manager=users["demo_cm1"], aum="1000")
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/my/", {"tier": "diamond"})
        assert page.status_code == 200
        assert any("diamond" in m for m in _messages(page))
        assert page.context["tier"] == ""
        assert {r.customer.pk for r in page.context["book"].rows} == {gold.pk, plain.pk}

    def test_a_withdrawn_level_still_held_is_a_valid_tab(self, client, users, new_customer, demo_password):
        from vip.models import TierLevel

        TierLevel.objects.filter(code="growth").update(is_active=False)
        held = new_customer(manager=users["demo_cm1"], aum="500000", tier="growth")
        new_customer(manager=users["demo_cm1"], aum="1000")
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/my/", {"tier": "growth"})
        assert _messages(page) == []
        assert [r.customer.pk for r in page.context["book"].rows] == [held.pk]

    def test_the_tier_filter_narrows_rows_already_in_the_scope(self, users, new_customer, org):
        mine = new_customer(manager=users["demo_cm1"], tier="gold")
        new_customer(branch="12101", manager=users["demo_cm3"], tier="gold")  # outside the scope
        filters = BookFilterSet({"tier": "gold"}, queryset=Customer.objects.visible_to(users["demo_cm1"]))
        assert filters.is_valid()
        assert list(filters.qs) == [mine]

    def test_the_per_tier_summary_counts_the_whole_book(self, client, users, new_customer, demo_password):
        new_customer(manager=users["demo_cm1"], aum="900000", tier="gold")
        new_customer(manager=users["demo_cm1"], aum="1000")
        log_in(client, "demo_cm1", demo_password)
        book = client.get("/vip/my/", {"tier": "none"}).context["book"]
        assert len(book.rows) == 1 and book.total == 2


class TestPool:
    def test_a_branch_outside_the_scope_is_said_and_the_whole_pool_shown(
        self, client, users, new_customer, demo_password
    ):
        haidian = [new_customer(branch="11101"), new_customer(branch="11102")]
        new_customer(branch="12101")  # Shanghai
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/pool/", {"branch": "12101"})
        assert page.status_code == 200
        assert _messages(page) == ["No branch with this code in your scope."]
        assert page.context["branch"] is None
        assert {c.pk for c in page.context["customers"]} == {c.pk for c in haidian}

    def test_a_branch_shows_its_subtree(self, client, users, new_customer, demo_password):
        outlet = new_customer(branch="11102")
        new_customer(branch="11101")
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/pool/", {"branch": "11102"})
        assert page.context["branch"].code == "11102"
        assert [c.pk for c in page.context["customers"]] == [outlet.pk]
        assert 'value="11102"' in page.content.decode()  # the filter form keeps the value
        subtree = client.get("/vip/pool/", {"branch": "11100"})
        assert len(subtree.context["customers"]) == 2

    def test_the_branch_choices_are_the_users_branches(self, users, org):
        request = RequestFactory().get("/vip/pool/")
        request.user = users["demo_bh"]
        filters = PoolFilterSet(
            {"branch": "12000"}, queryset=Customer.objects.visible_to(users["demo_bh"]), request=request
        )
        assert not filters.is_valid() and "branch" in filters.errors


class TestProspects:
    @pytest.fixture
    def prospects(self, users):
        cm1 = users["demo_cm1"]
        open_one = prospect_create(
            by=cm1, name="周先生", source="referral", estimated_assets=Decimal("2000000")
        )
        lost = prospect_create(by=cm1, name="吴女士", source="event", estimated_assets=Decimal("900000"))
        prospect_close(prospect=lost, by=cm1, won=False, note="went elsewhere")
        return {"open": open_one, "lost": lost}

    def test_by_status_and_source(self, client, users, prospects, demo_password):
        log_in(client, "demo_cm1", demo_password)
        every = client.get("/vip/prospects/")
        assert {p.pk for p in every.context["prospects"]} == {p.pk for p in VipProspect.objects.all()}
        lost = client.get("/vip/prospects/", {"status": "lost"})
        assert [p.pk for p in lost.context["prospects"]] == [prospects["lost"].pk]
        referred = client.get("/vip/prospects/", {"source": "referral"})
        assert [p.pk for p in referred.context["prospects"]] == [prospects["open"].pk]
        assert 'data-testid="prospect-filters"' in every.content.decode()

    def test_an_unknown_status_is_a_400_with_the_reason(self, client, users, prospects, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/prospects/", {"status": "maybe"})
        assert page.status_code == 400
        assert "status" in page.context["filter_form"].errors
        assert list(page.context["prospects"]) == []
        assert "maybe" in page.content.decode()


class TestReport:
    @pytest.fixture
    def history(self, users, new_customer):
        """Tier changes and VIP registrations in May and June 2026, in Beijing and
        Shanghai."""

        def change(customer, old, new, day):
            TierChange.objects.create(
                customer=customer,
                from_tier=old,
                to_tier=new,
                effective_date=datetime.date(2026, *day),
                source="upgrade",
            )
            customer.tier = new
            customer.save(update_fields=["tier"])

        cm1, bm = users["demo_cm1"], users["demo_bm"]
        a, b, c = (new_customer(manager=cm1, aum=aum) for aum in ("1200000", "350000", "7000000"))
        s = new_customer(branch="12101", manager=users["demo_cm3"], aum="600000")
        change(a, "", "gold", (5, 10))
        change(b, "", "potential", (4, 1))
        change(c, "", "core", (6, 1))
        change(s, "", "gold", (4, 1))
        vip_register(customer=a, by=bm, benefits="lounge", registered_on=datetime.date(2026, 5, 20))
        vip_register(customer=c, by=bm, benefits="lounge", registered_on=datetime.date(2026, 6, 11))
        vip_register(customer=s, by=bm, benefits="lounge", registered_on=datetime.date(2026, 6, 12))
        vip_liquidate(customer=c, by=bm, reason="moved abroad", liquidated_on=datetime.date(2026, 6, 30))
        return {"a": a, "b": b, "c": c, "s": s}

    @pytest.mark.parametrize(
        "query",
        [
            {
                "level": "1",
                "month_from": "2026-05",
                "month_to": "2026-06",
                "start": "2026-06-01",
                "end": "2026-06-30",
            },
            {
                "level": "2",
                "month_from": "2026-04",
                "month_to": "2026-06",
                "start": "2026-05-01",
                "end": "2026-06-15",
            },
        ],
    )
    def test_the_export_holds_the_rows_the_page_shows(self, client, users, history, demo_password, query):
        log_in(client, "demo_bm", demo_password)
        page = client.get("/vip/reports/", query)
        export = client.get("/vip/reports/export/", query)
        assert page.status_code == 200 and export.status_code == 200
        book = load_workbook(io.BytesIO(export.content))
        by_branch, matrix, won_lost = (list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets)
        report = page.context["by_branch"]
        assert [(row[0], row[-3], row[-1]) for row in by_branch[1:]] == [
            (r["branch"].code, r["n"], r["registered"]) for r in report.rows
        ]
        shown = page.context["matrix"]
        assert [list(row[1:-1]) for row in matrix[1:-1]] == shown.cells
        exported = [row[1] for row in won_lost[5:]]
        assert exported == [change.customer.customer_no for change in page.context["won_lost"].rows]
        start, end = (datetime.date.fromisoformat(query[k]) for k in ("start", "end"))
        assert all(start <= change.effective_date <= end for change in page.context["won_lost"].rows)

    def test_the_period_narrows_won_and_lost_in_both(self, client, users, history, demo_password):
        log_in(client, "demo_bm", demo_password)
        query = {"start": "2026-06-01", "end": "2026-06-30"}
        won_lost = client.get("/vip/reports/", query).context["won_lost"]
        assert (won_lost.registered, won_lost.liquidated) == (2, 1)  # not A's, registered in May
        exported = list(
            load_workbook(io.BytesIO(client.get("/vip/reports/export/", query).content))
            .worksheets[2]
            .iter_rows(values_only=True)
        )
        assert history["a"].customer_no not in [row[1] for row in exported[5:]]
        assert len(exported[5:]) == 3

    @pytest.mark.parametrize(
        "query, field",
        [
            ({"start": "2026-06-30", "end": "2026-06-01"}, "end"),
            ({"month_from": "2026-06", "month_to": "2026-05"}, "month_to"),
            ({"start": "yesterday"}, "start"),
            ({"level": "9"}, "level"),
        ],
    )
    def test_bad_filters_are_a_400_on_the_page_and_the_export(
        self, client, users, demo_password, query, field
    ):
        log_in(client, "demo_bm", demo_password)
        page = client.get("/vip/reports/", query)
        assert page.status_code == 400
        assert field in page.context["form"].errors
        assert "by_branch" not in page.context
        assert 'class="invalid-feedback d-block"' in page.content.decode()
        assert client.get("/vip/reports/export/", query).status_code == 400

    def test_missing_values_take_the_defaults(self):
        filters = ReportFilterSet({})
        assert filters.is_valid()
        params = filters.params
        assert params["level"] == 1 and params["start"].day == 1 and params["start"] <= params["end"]
        assert params["month_from"] < params["month_to"]
        assert not filters.qs.exists()  # no rows of its own: it narrows the report's histories

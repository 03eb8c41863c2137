"""The VIP pages: scope and masking, bounded query counts, and the actions through
their forms. Who may open and post what, role by role, is the roles × URLs harness's
(tests/test_url_harness.py, table in tests/url_table.py)."""

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.audit import Action
from accounts.models import AuditEvent
from customers.models import Interaction
from tests.care.world_alerts import make_alert
from tests.customers.conftest import log_in, search_settings_statements
from vip.choices import VipStatus
from vip.models import TierChange, TierOverride, TransferRequest, VipProspect
from vip.services import transfer_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(users, new_customer):
    return {
        "own": new_customer(manager=users["demo_cm1"], name="王小明", aum="800000", tier="gold"),
        "other": new_customer(branch="11102", manager=users["demo_cm2"], name="王大明", aum="90000"),
        "shanghai": new_customer(branch="12101", manager=users["demo_cm3"], name="王明远", aum="10000"),
    }


def test_a_client_manager_cannot_open_a_colleagues_book_or_customer(client, users, book, demo_password):
    log_in(client, "demo_cm1", demo_password)
    assert client.get("/vip/my/", {"manager": "E1102"}).status_code == 404
    assert client.get(f"/vip/customers/{book['other'].customer_no}/").status_code == 404


class TestMyCustomers:
    def test_by_tier_with_last_contact_and_next_due(self, client, users, new_customer, demo_password):
        cm1 = users["demo_cm1"]
        gold = new_customer(manager=cm1, aum="900000", tier="gold", name="甲")
        plain = new_customer(manager=cm1, aum="1000", name="乙")
        long_ago = timezone.now() - datetime.timedelta(days=120)
        Interaction.objects.create(
            customer=gold, kind="call", subject="hello", occurred_at=long_ago, manager=cm1
        )
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/my/")
        rows = {row.customer.pk: row for row in page.context["book"].rows}
        assert rows[gold.pk].last_contact == long_ago
        # gold: every 90 days from the last contact: overdue
        assert rows[gold.pk].next_due == timezone.localtime(long_ago).date() + datetime.timedelta(days=90)
        assert rows[gold.pk].overdue and rows[gold.pk].major
        # 2 customers, top 20% rounded up is 1: the small one is not major
        assert not rows[plain.pk].major and rows[plain.pk].next_due is None
        tiers = {t["code"]: t["count"] for t in page.context["book"].tiers}
        assert tiers == {"gold": 1, "": 1}
        only_gold = client.get("/vip/my/", {"tier": "gold"})
        assert [r.customer.pk for r in only_gold.context["book"].rows] == [gold.pk]
        no_tier = client.get("/vip/my/", {"tier": "none"})
        assert [r.customer.pk for r in no_tier.context["book"].rows] == [plain.pk]

    def test_query_count_does_not_grow_with_the_book(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        cm1 = users["demo_cm1"]
        for i in range(30):
            customer = new_customer(manager=cm1, aum=str(10000 * (i + 1)), tier="gold" if i % 3 else "")
            Interaction.objects.create(customer=customer, kind="visit", subject="s", manager=cm1)
            make_alert(
                assignee=cm1, customer=customer, kind="tier_change", figures={"from": "", "to": "gold"}
            )
        log_in(client, "demo_cm1", demo_password)
        with django_assert_max_num_queries(22):
            page = client.get("/vip/my/")
        assert len(page.context["book"].rows) == 25 and page.context["book"].page.next_cursor
        with django_assert_max_num_queries(22):
            client.get("/vip/my/", {"cursor": page.context["book"].page.next_cursor})

    def test_a_branch_head_opens_a_managers_book(self, client, users, book, demo_password):
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/my/", {"manager": "E1102"})
        assert [r.customer.pk for r in page.context["book"].rows] == [book["other"].pk]
        assert client.get("/vip/my/", {"manager": "E1201"}).status_code == 404  # Shanghai


class TestPages:
    def test_pool_lists_and_assigns_the_ticked_customers(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        pool = [new_customer(branch="11101", aum=str(1000 * i)) for i in range(1, 8)]
        new_customer(branch="12101")  # another region's pool
        log_in(client, "demo_bh", demo_password)
        # (+2 on PostgreSQL: the page's keyset read sets its planner settings and
        # resets them; no plan is asked for)
        with django_assert_max_num_queries(16 + search_settings_statements()):
            page = client.get("/vip/pool/")
        assert {c.pk for c in page.context["customers"]} == {c.pk for c in pool}
        response = client.post(
            "/vip/pool/",
            {
                "customer": [pool[0].customer_no, pool[1].customer_no],
                "manager": "E1101",
                "reason": "new accounts",
            },
        )
        assert response.status_code == 302
        assert {c.pk for c in users["demo_cm1"].primary_customers.all()} == {pool[0].pk, pool[1].pk}

    def test_approvals_page_lists_transfers_in_scope_with_bounded_queries(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        for _ in range(8):
            customer = new_customer(manager=users["demo_cm1"])
            transfer_request(
                customer=customer, to_manager=users["demo_cm2"], by=users["demo_cm1"], reason="handover"
            )
        shanghai = new_customer(branch="12101", manager=users["demo_cm3"])
        transfer_request(
            customer=shanghai, to_manager=users["cm_12102"], by=users["demo_cm3"], reason="handover"
        )
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(16):
            page = client.get("/vip/approvals/")
        assert len(page.context["transfers"]) == 8  # not the Shanghai one
        first = page.context["transfers"][0]
        assert client.post(f"/vip/transfers/{first.pk}/approve/", {"note": ""}).status_code == 302
        first.refresh_from_db()
        assert first.status == "approved"
        # the branch head cannot decide a transfer outside their subtree
        other = TransferRequest.objects.get(customer=shanghai)
        assert client.post(f"/vip/transfers/{other.pk}/approve/").status_code == 404
        other.refresh_from_db()
        assert other.status == "pending"

    def test_a_client_manager_requests_a_transfer_through_the_page(self, client, users, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        client.post(
            f"/vip/customers/{book['own'].customer_no}/transfer/",
            {"manager": "E1102", "reason": "moving away"},
        )
        transfer = TransferRequest.objects.get()
        assert transfer.proposed_by == users["demo_cm1"] and transfer.status == "pending"
        # and cannot approve it
        assert client.post(f"/vip/transfers/{transfer.pk}/approve/").status_code == 403
        client.post(f"/vip/transfers/{transfer.pk}/cancel/")
        transfer.refresh_from_db()
        assert transfer.status == "cancelled"

    def test_override_register_and_liquidate_through_the_customer_page(
        self, client, users, book, demo_password
    ):
        customer = book["own"]
        log_in(client, "demo_bm", demo_password)
        page = client.get(f"/vip/customers/{customer.customer_no}/")
        assert "override_form" in page.context and "register_form" in page.context
        until = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
        client.post(
            f"/vip/customers/{customer.customer_no}/override/",
            {"tier": "core", "expires_on": until, "reason": "board decision"},
        )
        customer.refresh_from_db()
        assert customer.tier == "core"
        client.post(
            f"/vip/customers/{customer.customer_no}/register/",
            {"benefits": "airport lounge", "registered_on": timezone.localdate().isoformat()},
        )
        customer.refresh_from_db()
        assert customer.vip_status == VipStatus.REGISTERED
        bad = client.post(
            f"/vip/customers/{customer.customer_no}/liquidate/", {"reason": "", "liquidated_on": ""}
        )
        assert bad.status_code == 302
        customer.refresh_from_db()
        assert customer.vip_status == VipStatus.REGISTERED
        client.post(
            f"/vip/customers/{customer.customer_no}/liquidate/",
            {"reason": "moved abroad", "liquidated_on": timezone.localdate().isoformat()},
        )
        customer.refresh_from_db()
        assert customer.vip_status == VipStatus.LIQUIDATED
        client.post(
            f"/vip/customers/{customer.customer_no}/override/end/", {"end-reason": "board changed its mind"}
        )
        assert not TierOverride.objects.filter(ended_on__isnull=True).exists()
        page = client.get(f"/vip/customers/{customer.customer_no}/")
        assert len(page.context["view"].tier_changes) == 2 and len(page.context["view"].vip_changes) == 2

    def test_a_customer_without_a_tier_cannot_be_registered(self, client, users, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        client.post(
            f"/vip/customers/{book['other'].customer_no}/register/",
            {"benefits": "x", "registered_on": "2026-01-01"},
        )
        book["other"].refresh_from_db()
        assert book["other"].vip_status == ""

    def test_the_book_shows_reminders(self, client, users, book, demo_password):
        reminder = make_alert(
            assignee=users["demo_cm1"],
            customer=book["own"],
            kind="tier_change",
            figures={"from": "", "to": "gold"},
        )
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/my/").content.decode()
        assert "/care/alerts/panel/" in page  # the reminders (keep close's alerts) load themselves
        panel = client.get("/care/alerts/panel/").content.decode()
        assert 'data-testid="alerts-due"' in panel and "Tier changed" in panel
        assert book["own"].customer_no in panel
        done = client.post(
            f"/care/alerts/{reminder.pk}/done/", {"outcome": "not_needed", "next": "https://evil.example/"}
        )
        assert done["Location"] == f"/care/alerts/{reminder.pk}/"
        reminder.refresh_from_db()
        assert reminder.status == "done" and reminder.closed_at is not None

    def test_the_home_page_shows_approvals(self, client, users, book, demo_password):
        transfer_request(
            customer=book["own"], to_manager=users["demo_cm2"], by=users["demo_cm1"], reason="handover"
        )
        log_in(client, "demo_bh", demo_password)
        # the home page's "waiting for your decision" widget (lazy) counts the transfer
        assert "/home/widgets/decisions/" in client.get("/").content.decode()
        assert client.get("/home/widgets/decisions/").context["ctx"]["total"] == 1

    def test_a_reminder_about_a_customer_who_moved_away_is_not_shown(
        self, client, users, book, demo_password
    ):
        make_alert(assignee=users["demo_cm1"], customer=book["other"], kind="tier_change")
        log_in(client, "demo_cm1", demo_password)
        panel = client.get("/care/alerts/panel/")
        assert panel.context["rows"] == [] and panel.context["total"] == 0

    def test_prospects_are_registered_masked_and_scoped(self, client, users, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            "/vip/prospects/",
            {
                "name": "周先生",
                "mobile": "13912345678",
                "source": "referral",
                "estimated_assets": "2000000",
                "held_at": "他行",
            },
        )
        assert response.status_code == 302
        prospect = VipProspect.objects.get()
        assert prospect.mobile == "13912345678" and "13912345678" not in prospect.mobile_enc
        page = client.get("/vip/prospects/").content.decode()
        assert "139****5678" in page and "13912345678" not in page
        # a customer with assets elsewhere becomes "to be won"
        client.post(
            "/vip/prospects/",
            {
                "customer_no": book["own"].customer_no,
                "source": "assets_elsewhere",
                "estimated_assets": "500000",
            },
        )
        book["own"].refresh_from_db()
        assert book["own"].vip_status == VipStatus.TO_BE_WON
        # another manager's customer cannot be named
        assert (
            client.post(
                "/vip/prospects/",
                {
                    "customer_no": book["other"].customer_no,
                    "source": "assets_elsewhere",
                    "estimated_assets": "500000",
                },
            ).status_code
            == 404
        )
        client.logout()
        log_in(client, "demo_cm2", demo_password)
        assert list(client.get("/vip/prospects/").context["prospects"]) == []


class TestReports:
    @pytest.fixture
    def history(self, users, new_customer):
        """A known history (dates in 2026):
        A: none → gold 10 May → platinum 5 June
        B: potential since April
        C: gold since March → none 20 June
        D: never changed
        E: none → core 1 June
        S: a Shanghai customer, gold since April (outside the branch head's scope)"""

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

        cm1 = users["demo_cm1"]
        a, b, c, d, e = (new_customer(manager=cm1, aum=str(x)) for x in (1200000, 350000, 100, 100, 7000000))
        s = new_customer(branch="12101", manager=users["demo_cm3"], aum="600000")
        change(a, "", "gold", (5, 10))
        change(a, "gold", "platinum", (6, 5))
        change(b, "", "potential", (4, 1))
        change(c, "", "gold", (3, 1))
        change(c, "gold", "", (6, 20))
        change(e, "", "core", (6, 1))
        change(s, "", "gold", (4, 1))
        return {"a": a, "b": b, "c": c, "d": d, "e": e, "s": s}

    def test_the_migration_matrix_on_a_known_history(self, client, users, history, demo_password):
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/reports/", {"month_from": "2026-05", "month_to": "2026-06"})
        assert page.status_code == 200
        matrix = page.context["matrix"]
        assert matrix.codes == ["core", "growth", "platinum", "gold", "potential", ""]
        cells = {
            (matrix.codes[i], matrix.codes[j]): n
            for i, row in enumerate(matrix.cells)
            for j, n in enumerate(row)
            if n
        }
        assert cells == {
            ("gold", "platinum"): 1,  # A
            ("potential", "potential"): 1,  # B
            ("gold", ""): 1,  # C
            ("", ""): 1,  # D (Shanghai's S is outside the scope)
            ("", "core"): 1,  # E
        }
        assert matrix.total == 5
        # head office sees S too: gold → gold
        client.logout()
        log_in(client, "demo_bm", demo_password)
        matrix = client.get("/vip/reports/", {"month_from": "2026-05", "month_to": "2026-06"}).context[
            "matrix"
        ]
        assert matrix.cells[matrix.codes.index("gold")][matrix.codes.index("gold")] == 1 and matrix.total == 6

    def test_counts_and_aum_by_tier_per_branch_and_won_and_lost(self, client, users, history, demo_password):
        from vip.services import vip_liquidate, vip_register

        vip_register(
            customer=history["a"],
            by=users["demo_bm"],
            benefits="lounge",
            registered_on=datetime.date(2026, 6, 10),
        )
        vip_register(
            customer=history["e"],
            by=users["demo_bm"],
            benefits="lounge",
            registered_on=datetime.date(2026, 6, 11),
        )
        vip_liquidate(
            customer=history["e"],
            by=users["demo_bm"],
            reason="left",
            liquidated_on=datetime.date(2026, 6, 30),
        )
        log_in(client, "demo_bm", demo_password)
        page = client.get("/vip/reports/", {"level": "1", "start": "2026-06-01", "end": "2026-06-30"})
        report = page.context["by_branch"]
        rows = {row["branch"].code: row for row in report.rows}
        assert set(rows) == {"11000", "12000"}
        columns = [c["code"] for c in report.levels]
        beijing = dict(zip(columns, rows["11000"]["cells"], strict=True))
        assert beijing["platinum"]["n"] == 1 and beijing["core"]["n"] == 1 and beijing["potential"]["n"] == 1
        assert rows["11000"]["n"] == 3 and rows["11000"]["registered"] == 1
        assert rows["12000"]["n"] == 1
        won = page.context["won_lost"]
        assert (won.registered, won.liquidated) == (2, 1)
        assert (won.entered, won.left) == (1, 1)  # E came in, C left (in June)
        assert "vip-branch-data" in page.content.decode()  # the chart's data, no inline script

    def test_the_excel_export_is_audited_and_neutralised(self, client, users, history, demo_password):
        history["a"].name = "=HYPERLINK(1)"
        history["a"].save(update_fields=["name"])
        from vip.services import vip_register

        vip_register(customer=history["a"], by=users["demo_bm"], benefits="lounge")
        log_in(client, "demo_bh", demo_password)
        response = client.get("/vip/reports/export/", {"month_from": "2026-05", "month_to": "2026-06"})
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        assert len(book.sheetnames) == 3
        values = [cell for row in book.worksheets[2].iter_rows(values_only=True) for cell in row]
        assert "'=HYPERLINK(1)" in values and "=HYPERLINK(1)" not in values
        event = AuditEvent.objects.get(action=Action.EXPORT)
        assert event.actor == users["demo_bh"] and event.details["report"] == "vip"

    def test_report_pages_run_a_bounded_number_of_queries(
        self, client, users, history, demo_password, django_assert_max_num_queries
    ):
        log_in(client, "demo_bm", demo_password)
        with django_assert_max_num_queries(25):
            client.get("/vip/reports/")

    def test_bad_filters_say_what_is_wrong(self, client, users, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.get("/vip/reports/", {"month_from": "2026-06", "month_to": "2026-05"})
        assert response.status_code == 400
        assert client.get("/vip/reports/export/", {"start": "yesterday"}).status_code == 400


class TestApi:
    def test_tier_status_and_manager_of_record_with_history(self, client, users, book):
        from accounts.services import api_token_issue

        customer = book["own"]
        TierChange.objects.create(
            customer=customer,
            from_tier="",
            to_tier="gold",
            effective_date=datetime.date(2026, 6, 1),
            source="upgrade",
        )
        token = api_token_issue(user=users["demo_cm1"])
        response = client.get(
            f"/api/v1/customers/{customer.customer_no}/vip/", HTTP_AUTHORIZATION=f"Token {token}"
        )
        assert response.status_code == 200
        data = response.json()
        assert data["tier"] == "gold" and data["tier_name"] == "金级" and data["vip_status"] is None
        assert data["manager"] == "E1101"
        assert data["tier_history"][0]["to_tier"] == "gold"
        assert data["assignments"][0]["manager"] == "E1101" and data["assignments"][0]["end_date"] is None
        # the 360 API carries the same codes
        summary = client.get(
            f"/api/v1/customers/{customer.customer_no}/", HTTP_AUTHORIZATION=f"Token {token}"
        ).json()
        assert (summary["tier"], summary["manager"], summary["vip_status"]) == ("gold", "E1101", None)
        # outside the scope: 404, like a customer that does not exist
        other = client.get(
            f"/api/v1/customers/{book['other'].customer_no}/vip/", HTTP_AUTHORIZATION=f"Token {token}"
        )
        assert other.status_code == 404
        assert client.get(f"/api/v1/customers/{customer.customer_no}/vip/").status_code in (401, 403)


def test_the_360_view_shows_the_viewers_open_reminders_about_the_customer(client, users, book, demo_password):
    own = book["own"]
    today = timezone.localdate()
    mine = make_alert(
        assignee=users["demo_cm1"],
        customer=own,
        kind="tier_change",
        day=today,
        figures={"from": "growth", "to": "gold"},
    )
    make_alert(assignee=users["demo_cm1"], customer=own, kind="contact_overdue", day=today, status="done",
               figures={"tier": "gold"})  # fmt: skip
    make_alert(assignee=users["demo_bh"], customer=own, kind="potential_vip", day=today)
    log_in(client, "demo_cm1", demo_password)
    page = client.get(f"/customers/{own.customer_no}/").content.decode()
    assert 'data-testid="reminders"' in page
    assert "Tier changed" in page and "Contact overdue" not in page  # done ones are gone
    assert "potential VIP" not in page  # another user's reminder
    mine.status = "dismissed"
    mine.save()
    assert "No open reminders." in client.get(f"/customers/{own.customer_no}/").content.decode()

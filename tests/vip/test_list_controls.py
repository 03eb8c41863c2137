"""The VIP list pages' controls as a bank user meets them: filters that are labelled
selects of names (never a box for an employee number or a code), a manager outside
one's scope refused with the reason, page size, position and sorting by a column,
and approving or rejecting several transfers at once with one note."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.roles import Role
from tests.customers.conftest import log_in, search_settings_statements
from vip.models import ParameterProposal, TransferRequest
from vip.services import parameter_propose, prospect_close, prospect_create, transfer_reject, transfer_request

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _text(response) -> str:
    """The page's text without its tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _options(response, name: str) -> list[str]:
    """The texts of a select's options, in order."""
    html = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r"<option[^>]*>(.*?)</option>", select[1], re.S)
    ]


def _position(response) -> str:
    found = re.search(r'data-testid="page-position">([^<]*)<', response.content.decode())
    return found[1] if found else ""


# --- filters: labelled selects of names -----------------------------------------------------


class TestManagerFilter:
    def test_a_branch_head_chooses_a_manager_by_name(self, client, users, new_customer, demo_password):
        theirs = new_customer(branch="11102", manager=users["demo_cm2"], name="周小平")
        new_customer(manager=users["demo_cm1"], name="吴大海")
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/my/")
        options = _options(page, "manager")
        assert options[0] == "My own customers"
        assert "王经理 (E1101) · " + users["demo_cm1"].branch.name in options
        assert any(o.startswith("李经理 (E1102)") for o in options)
        assert not any("陈经理" in o for o in options)  # Shanghai: not in the branch head's scope
        assert "Manager (employee no.)" not in page.content.decode()
        assert '<label class="form-label small mb-0" for="id_manager">Client manager</label>' in (
            page.content.decode()
        )

        chosen = client.get("/vip/my/", {"manager": "E1102"})
        assert chosen.status_code == 200
        assert [r.customer.pk for r in chosen.context["book"].rows] == [theirs.pk]
        assert re.search(r'<option value="E1102" selected>', chosen.content.decode())
        assert "Customers of 李经理 (E1102)" in _text(chosen)

    def test_a_manager_outside_the_scope_is_refused_with_the_reason(
        self, client, users, new_customer, demo_password
    ):
        new_customer(branch="12101", manager=users["demo_cm3"], name="上海客户")
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/my/", {"manager": "E1201"})
        assert page.status_code == 404
        message = "E1201 is not a client manager whose customers you may see: choose one from the list."
        assert message in _text(page)
        assert "上海客户" not in page.content.decode()
        assert page.context["book"].rows == []
        assert _options(page, "manager")  # the list to choose from is still there

    def test_a_client_manager_has_no_manager_to_choose_and_no_colleague(
        self, client, users, new_customer, demo_password
    ):
        new_customer(manager=users["demo_cm1"], name="吴大海")
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/my/")
        assert 'name="manager"' not in page.content.decode()
        colleague = client.get("/vip/my/", {"manager": "E1102"})
        assert colleague.status_code == 404
        assert "E1102 is not a client manager whose customers you may see" in _text(colleague)


class TestWordedSelects:
    def test_the_pool_branch_is_chosen_by_name(self, client, users, new_customer, demo_password):
        new_customer(branch="11102", name="池中人")
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/pool/")
        options = _options(page, "branch")
        assert options[0] == "All my branches"
        assert any(o.endswith(users["demo_cm2"].branch.name) for o in options)
        assert not any(o.strip().isdigit() for o in options)  # names, not codes
        assert 'placeholder="Branch code"' not in page.content.decode()
        # the tier of a pooled customer by its name, never its code
        new_customer(branch="11102", name="金卡客户", tier="gold")
        assert ">gold<" not in client.get("/vip/pool/").content.decode()

    def test_prospect_status_and_source_have_worded_empty_choices(self, client, users, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/prospects/")
        assert _options(page, "status")[0] == "All statuses"
        assert _options(page, "source")[0] == "All sources"
        assert "---------" not in page.content.decode()

    def test_the_assign_and_transfer_forms_name_their_empty_choice(
        self, client, users, new_customer, demo_password
    ):
        new_customer(branch="11101", name="池中人")
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/pool/")
        assert _options(page, "manager")[0] == "Choose a client manager"
        assert "---------" not in page.content.decode()


# --- page size, position, sorting -----------------------------------------------------------


@pytest.fixture
def thirty(users, new_customer):
    """30 customers of demo_cm1, AUM 10,000 to 300,000, names 客户00 ... 客户29
    (the name order is the reverse of the AUM order)."""
    return [
        new_customer(manager=users["demo_cm1"], aum=str(10000 * (i + 1)), name=f"客户{29 - i:02d}")
        for i in range(30)
    ]


class TestBookPages:
    def test_position_page_size_and_the_next_and_previous_pages(self, client, thirty, demo_password):
        log_in(client, "demo_cm1", demo_password)
        first = client.get("/vip/my/")
        assert len(first.context["book"].rows) == 25
        assert _position(first) == "Items 1–25 of 30"
        position = first.context["position"]
        second = client.get("/vip/my/", {"cursor": position.next_cursor, "at": position.next_at})
        assert [r.customer.aum for r in second.context["book"].rows] == [
            Decimal(10000 * i) for i in (5, 4, 3, 2, 1)
        ]
        assert _position(second) == "Items 26–30 of 30"
        back = second.context["position"]
        again = client.get("/vip/my/", {"cursor": back.previous_cursor, "at": back.previous_at})
        assert _position(again) == "Items 1–25 of 30"
        assert len(again.context["book"].rows) == 25

        everything = client.get("/vip/my/", {"size": "50"})
        assert len(everything.context["book"].rows) == 30 and _position(everything) == "Items 1–30 of 30"
        assert 'data-testid="page-sizes"' in first.content.decode()
        assert client.get("/vip/my/", {"size": "100000"}).context["position"].per_page == 25

    def test_sorted_by_a_column(self, client, thirty, demo_password):
        log_in(client, "demo_cm1", demo_password)
        by_name = client.get("/vip/my/", {"sort": "name", "size": "50"})
        names = [r.customer.name for r in by_name.context["book"].rows]
        assert names == sorted(names) and names[0] == "客户00"
        assert 'aria-sort="ascending"' in by_name.content.decode()
        reverse = client.get("/vip/my/", {"sort": "-name", "size": "50"})
        assert [r.customer.name for r in reverse.context["book"].rows] == names[::-1]
        smallest = client.get("/vip/my/", {"sort": "aum"})
        assert smallest.context["book"].rows[0].customer.aum == Decimal("10000")
        # the page's next link keeps the sort; its cursor belongs to it
        position = by_name.context["position"]
        page = client.get("/vip/my/", {"sort": "name"})
        nxt = page.context["position"]
        second = client.get("/vip/my/", {"sort": "name", "cursor": nxt.next_cursor, "at": nxt.next_at})
        assert [r.customer.name for r in second.context["book"].rows] == [f"客户{i}" for i in range(25, 30)]
        assert position.is_first

    def test_a_cursor_of_another_sort_starts_again_at_the_first_page(self, client, thirty, demo_password):
        log_in(client, "demo_cm1", demo_password)
        by_aum = client.get("/vip/my/").context["position"]
        page = client.get("/vip/my/", {"sort": "name", "cursor": by_aum.next_cursor, "at": by_aum.next_at})
        assert _position(page) == "Items 1–25 of 30"
        assert page.context["book"].rows[0].customer.name == "客户00"

    def test_the_tier_tab_counts_its_own_rows(self, client, users, new_customer, demo_password):
        for i in range(3):
            new_customer(manager=users["demo_cm1"], aum="900000", tier="gold", name=f"金{i}")
        new_customer(manager=users["demo_cm1"], aum="100")
        log_in(client, "demo_cm1", demo_password)
        assert _position(client.get("/vip/my/", {"tier": "gold"})) == "Items 1–3 of 3"

    def test_a_page_of_100_runs_a_bounded_number_of_queries(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        for i in range(110):
            new_customer(manager=users["demo_cm1"], aum=str(1000 + i), tier="gold" if i % 2 else "")
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(24):
            page = client.get("/vip/my/", {"manager": "E1101", "size": "100", "sort": "name"})
        assert len(page.context["book"].rows) == 100 and _position(page) == "Items 1–100 of 110"


class TestPoolPages:
    def test_size_position_and_sort(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        for i in range(30):
            new_customer(branch="11101", aum=str(1000 * (i + 1)), name=f"池{29 - i:02d}")
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(17 + search_settings_statements()):
            page = client.get("/vip/pool/", {"size": "25"})
        assert len(page.context["customers"]) == 25 and _position(page) == "Items 1–25 of 30"
        by_name = client.get("/vip/pool/", {"sort": "name", "size": "50"})
        assert [c.name for c in by_name.context["customers"]][:2] == ["池00", "池01"]
        position = page.context["position"]
        rest = client.get("/vip/pool/", {"cursor": position.next_cursor, "at": position.next_at})
        assert _position(rest) == "Items 26–30 of 30"

    def test_assigning_says_what_happened_to_each_customer(self, client, users, new_customer, demo_password):
        mine = new_customer(branch="11101", name="池甲")
        shanghai = new_customer(branch="12101", name="池乙")
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            "/vip/pool/",
            {
                "customer": [mine.customer_no, shanghai.customer_no],
                "manager": "E1101",
                "reason": "new accounts",
            },
        )
        assert _messages(response) == [
            "1 customer assigned to 王经理.",
            "1 ticked customer is not in your scope: nothing was done with them.",
        ]


class TestManagersAndProspects:
    def test_the_managers_sorted_by_the_size_of_their_books(self, client, users, new_customer, demo_password):
        for _ in range(3):
            new_customer(branch="11102", manager=users["demo_cm2"])
        new_customer(manager=users["demo_cm1"])
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/managers/", {"sort": "-customers"})
        managers = list(page.context["managers"])
        assert [m.employee_no for m in managers[:2]] == ["E1102", "E1101"]
        assert [m.book_size for m in managers[:2]] == [3, 1]
        assert _position(page) == f"Items 1–{len(managers)} of {len(managers)}"
        by_name = client.get("/vip/managers/", {"sort": "name"})
        names = [m.display_name for m in by_name.context["managers"]]
        assert names == sorted(names)

    def test_prospects_open_first_then_sorted_and_paged(self, client, users, demo_password):
        cm1 = users["demo_cm1"]
        lost = prospect_create(by=cm1, name="吴女士", source="event", estimated_assets=Decimal("900000"))
        prospect_close(prospect=lost, by=cm1, won=False, note="went elsewhere")
        for i in range(27):
            prospect_create(
                by=cm1, name=f"潜{i:02d}", source="referral", estimated_assets=Decimal(100000 + i)
            )
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/vip/prospects/")
        assert len(page.context["prospects"]) == 25 and _position(page) == "Items 1–25 of 28"
        last = client.get("/vip/prospects/", {"page": "2"})
        assert [p.name for p in last.context["prospects"]][-1] == "吴女士"  # the lost one after the open ones
        richest = client.get("/vip/prospects/", {"sort": "-assets"})
        assert richest.context["prospects"][0].name == "吴女士"


# --- approving several at once --------------------------------------------------------------


@pytest.fixture
def pending(users, new_customer):
    """Three transfers demo_cm1 asked for (to demo_cm2), one the branch head asked for
    himself, and one in Shanghai."""
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    transfers = [
        transfer_request(
            customer=new_customer(manager=cm1, name=name), to_manager=cm2, by=cm1, reason="closer to home"
        )
        for name in ("钱七", "孙八", "周九")
    ]
    own = transfer_request(
        customer=new_customer(manager=cm1, name="郑十"),
        to_manager=cm2,
        by=users["demo_bh"],
        reason="workload",
    )
    shanghai = transfer_request(
        customer=new_customer(branch="12101", manager=users["demo_cm3"], name="沪一"),
        to_manager=users["cm_12102"],
        by=users["demo_cm3"],
        reason="closer to home",
    )
    return {"transfers": transfers, "own": own, "shanghai": shanghai}


def _statuses(*transfers) -> list[str]:
    return [TransferRequest.objects.get(pk=t.pk).status for t in transfers]


class TestBulkDecision:
    def test_several_transfers_approved_at_once_each_audited(self, client, users, pending, demo_password):
        log_in(client, "demo_bh", demo_password)
        page = client.get("/vip/approvals/")
        assert page.content.decode().count('form="bulk-decision"') == 3
        assert 'data-testid="bulk-approve"' in page.content.decode()
        response = client.post(
            "/vip/approvals/decide/",
            {"transfer": [t.pk for t in pending["transfers"]], "decision": "approve", "note": "同意"},
        )
        assert response.status_code == 302 and response["Location"] == "/vip/approvals/"
        assert _messages(response) == [
            "3 transfers approved: the transfer of 钱七 to 李经理, the transfer of "
            "孙八 to 李经理, the transfer of 周九 to 李经理."
        ]
        assert _statuses(*pending["transfers"]) == ["approved"] * 3
        assert all(
            t.customer.primary_manager == users["demo_cm2"]
            for t in TransferRequest.objects.filter(
                pk__in=[t.pk for t in pending["transfers"]]
            ).select_related("customer")
        )
        events = AuditEvent.objects.filter(
            actor=users["demo_bh"], action=Action.ASSIGNMENT_CHANGED, details__decision="approved"
        )
        assert sorted(e.details["transfer"] for e in events) == sorted(t.pk for t in pending["transfers"])
        assert {e.details["note"] for e in events} == {"同意"}

    def test_refused_items_are_said_and_the_others_still_decided(self, client, users, pending, demo_password):
        transfer_reject(transfer=pending["transfers"][2], by=users["demo_bm"], note="not now")
        log_in(client, "demo_bh", demo_password)
        ticked = [*pending["transfers"], pending["own"], pending["shanghai"]]
        response = client.post(
            "/vip/approvals/decide/",
            {"transfer": [t.pk for t in ticked], "decision": "approve", "note": ""},
        )
        assert response.status_code == 302
        said = _messages(response)
        assert (
            said[0] == "2 transfers approved: the transfer of 钱七 to 李经理, the transfer of 孙八 to 李经理."
        )
        assert said[1] == "3 requests not decided: they still wait for a decision."
        assert (
            "The transfer of 周九 to 李经理 was not decided: This transfer request can be approved only when it "
            "is Waiting for approval; it is Rejected now."
        ) in said
        assert (
            "The transfer of 郑十 to 李经理 was not decided: You cannot decide on your own transfer request: "
            "another user must decide on it."
        ) in said
        # another region's transfer: not found, without saying whose
        assert (
            f"Transfer request #{pending['shanghai'].pk} was not decided: It is not a transfer request of your "
            "customers."
        ) in said
        assert not any("沪一" in m for m in said)
        assert _statuses(*ticked) == ["approved", "approved", "rejected", "pending", "pending"]
        assert not AuditEvent.objects.filter(
            actor=users["demo_bh"],
            details__has_key="decision",
            details__transfer__in=[pending["own"].pk, pending["shanghai"].pk],
        ).exists()

    def test_rejected_at_once_with_one_reason(self, client, users, pending, demo_password):
        log_in(client, "demo_bh", demo_password)
        ticked = pending["transfers"][:2]
        response = client.post(
            "/vip/approvals/decide/",
            {"transfer": [t.pk for t in ticked], "decision": "reject", "note": "客户未同意"},
        )
        assert _messages(response) == [
            "2 transfers rejected: the transfer of 钱七 to 李经理, the transfer of 孙八 to 李经理."
        ]
        assert _statuses(*ticked) == ["rejected", "rejected"]
        assert {t.decision_note for t in TransferRequest.objects.filter(pk__in=[t.pk for t in ticked])} == {
            "客户未同意"
        }

    @pytest.mark.parametrize(
        ("data", "said"),
        [
            ({"decision": "approve", "note": "ok"}, "Tick at least one request to approve or reject."),
            (
                {"transfer": "x", "decision": "approve"},
                "A ticked row is not one of this page: reload it and tick again.",
            ),
            (
                {"transfer": "TRANSFERS", "decision": "reject", "note": ""},
                "Give a reason (at least 4 characters).",
            ),
            ({"transfer": "TRANSFERS", "decision": "maybe"}, "Decision: Select a valid choice."),
        ],
    )
    def test_nothing_is_decided_on_a_bad_request(self, client, users, pending, demo_password, data, said):
        log_in(client, "demo_bh", demo_password)
        if data.get("transfer") == "TRANSFERS":
            data = {**data, "transfer": [t.pk for t in pending["transfers"]]}
        response = client.post("/vip/approvals/decide/", data)
        assert response.status_code == 400
        assert said in _text(response)
        assert response.context["transfers"]  # back on the page, the transfers still listed
        # its sort and page links (relative to this address) lead back to the approvals page
        back = client.get("/vip/approvals/decide/", {"sort": "customer"})
        assert back.status_code == 302 and back["Location"] == "/vip/approvals/?sort=customer"
        assert _statuses(*pending["transfers"]) == ["pending"] * 3
        assert not AuditEvent.objects.filter(actor=users["demo_bh"], details__has_key="decision").exists()

    @pytest.mark.parametrize("username", ["demo_cm1", "demo_audit"])
    def test_a_role_that_decides_nothing_is_refused(self, client, users, pending, demo_password, username):
        log_in(client, username, demo_password)
        response = client.post(
            "/vip/approvals/decide/",
            {"transfer": [t.pk for t in pending["transfers"]], "decision": "approve", "note": "ok"},
        )
        assert response.status_code == 403
        assert _statuses(*pending["transfers"]) == ["pending"] * 3

    def test_a_parameter_approver_decides_proposals_not_transfers(
        self, client, users, pending, make_user, demo_password
    ):
        proposal = parameter_propose(
            proposed_by=make_user(Role.PARAMETER_MANAGER, "10000"),
            reason="market review",
            levels={"gold": {"aum_threshold": "550000"}},
        )
        log_in(client, "demo_pm", demo_password)
        response = client.post(
            "/vip/approvals/decide/",
            {"proposal": [proposal.pk], "transfer": [pending["transfers"][0].pk], "decision": "approve"},
        )
        said = _messages(response)
        assert said[0] == (
            f"1 tier parameter proposal approved: tier parameter proposal #{proposal.pk}. The new parameters "
            "apply from the next evaluation."
        )
        assert ParameterProposal.objects.get(pk=proposal.pk).status == "approved"
        assert _statuses(pending["transfers"][0]) == ["pending"]
        assert said[1] == "1 request not decided: it still waits for a decision."

    def test_the_approvals_page_pages_and_sorts_with_bounded_queries(
        self, client, users, new_customer, demo_password, django_assert_max_num_queries
    ):
        for i in range(30):
            transfer_request(
                customer=new_customer(manager=users["demo_cm1"], name=f"转{i:02d}"),
                to_manager=users["demo_cm2"],
                by=users["demo_cm1"],
                reason="handover",
            )
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(17):
            page = client.get("/vip/approvals/")
        assert len(page.context["transfers"]) == 25 and _position(page) == "Items 1–25 of 30"
        by_customer = client.get("/vip/approvals/", {"sort": "-customer", "size": "50"})
        assert [t.customer.name for t in by_customer.context["transfers"]][:2] == ["转29", "转28"]

    def test_a_bulk_decision_runs_a_bounded_number_of_queries_per_item(
        self, client, users, pending, new_customer, demo_password, django_assert_max_num_queries
    ):
        more = [
            transfer_request(
                customer=new_customer(manager=users["demo_cm1"]),
                to_manager=users["demo_cm2"],
                by=users["demo_cm1"],
                reason="handover",
            )
            for _ in range(7)
        ]
        log_in(client, "demo_bh", demo_password)
        ticked = [*pending["transfers"], *more]
        with django_assert_max_num_queries(8 + 30 * len(ticked)):
            client.post(
                "/vip/approvals/decide/",
                {"transfer": [t.pk for t in ticked], "decision": "reject", "note": "not now"},
            )
        assert _statuses(*ticked) == ["rejected"] * 10

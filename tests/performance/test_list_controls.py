"""The controls of the performance lists (the team board, the periods, a period's
changes, the disputes): labelled selects with worded "all" choices, a branch or a
manager outside the user's scope refused with a message, a page size, the position
and sorting by column; a sorted board still shows each manager's own rank; the
answers of the actions say what happened."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from performance.choices import DisputeClaim
from performance.disputes import dispute_raise
from performance.models import Period
from performance.scoring import score_version
from performance.services import performance_run
from tests.performance import scheme_helpers
from tests.performance.conftest import D
from tests.performance.scheme_helpers import approved_scheme

pytestmark = pytest.mark.django_db
bms = scheme_helpers.bms  # fixture
managers = scheme_helpers.managers  # fixture
november = scheme_helpers.november  # fixture

BOARD = "/performance/"
PERIODS = "/performance/periods/"
DISPUTES = "/performance/disputes/"


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, f"no select {name}"
    return [
        (value, label.strip())
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    ]


class TestBoard:
    def test_the_branch_select_is_worded_and_by_name(self, as_user, computed, demo_users):
        html = as_user(demo_users["demo_bh"]).get(BOARD).content.decode()
        branches = options(html, "branch")
        assert branches[0] == ("", "All branches")
        org = computed["org"]
        assert ("11100", org["11100"].name) in branches  # the head's branch, then its outlets
        assert ("11101", f"· {org['11101'].name}") in branches
        assert all(not label.startswith("11101") for _, label in branches)  # names, not codes
        assert all(value != "12101" for value, _ in branches)  # Shanghai is not the head's

    def test_a_branch_outside_the_scope_is_refused(self, as_user, computed, demo_users):
        response = as_user(demo_users["demo_bh"]).get(BOARD, {"branch": "12101"})
        assert response.status_code == 400
        assert "12101 is not a branch whose figures you may see." in response.content.decode()
        assert "rows" not in response.context

    def test_page_size_and_position(self, as_user, computed, demo_users, django_assert_max_num_queries):
        client = as_user(demo_users["demo_bm"])
        with django_assert_max_num_queries(16):  # the board's pin in test_pages.py
            response = client.get(BOARD, {"size": 100})
        page = response.context["page_obj"]
        assert page.paginator.per_page == 100
        assert client.get(BOARD).context["page_obj"].paginator.per_page == 50  # the board's default
        count = page.paginator.count
        assert f"Items 1–{count} of {count}" in response.content.decode()

    def test_a_sorted_board_shows_each_managers_own_rank(self, as_user, bms, managers, november, demo_users):
        approved_scheme(bms, managers)
        score_version(november)
        client = as_user(demo_users["demo_bm"])
        ranks = {}
        for sort in ("-score", "score", "manager", "-manager", "branch"):
            response = client.get(BOARD, {"sort": sort, "period": "2026-11"})
            assert response.status_code == 200
            shown = {
                row.employee_no: (row.score.rank, row.score.peers)
                for row in response.context["rows"]
                if row.score
            }
            ranks.setdefault("first", shown)
            assert shown == ranks["first"], sort  # the order changes, the ranks do not
        by_name = {m.employee_no: name for name, m in managers.items()}
        # the managers with figures on the board, with the ranks scoring gave them
        assert {by_name[no]: rank for no, (rank, _) in ranks["first"].items() if no in by_name} == {
            "m1": 1,
            "m2": 2,
        }


class TestPeriods:
    @pytest.fixture
    def three(self, computed):
        for code in ("2026-Q4", "2026"):
            performance_run(code)

    def test_sort_size_and_the_worded_filters(
        self, as_user, three, demo_users, django_assert_max_num_queries
    ):
        client = as_user(demo_users["demo_bm"])
        with django_assert_max_num_queries(13):  # the list's pin in test_publication_pages.py
            response = client.get(PERIODS, {"sort": "kind", "size": 50})
        assert [row["period"].kind for row in response.context["rows"]] == ["month", "quarter", "year"]
        html = response.content.decode()
        assert 'aria-sort="ascending"' in html and "Items 1–3 of 3" in html
        assert options(html, "kind")[0] == ("", "All kinds")
        assert options(html, "status")[0] == ("", "Open and closed")
        newest = client.get(PERIODS).context["rows"]
        starts = [row["period"].start for row in newest]
        assert starts == sorted(starts, reverse=True)  # newest first by default
        oldest = client.get(PERIODS, {"sort": "period"}).context["rows"]
        assert [row["period"].start for row in oldest] == sorted(starts)


class TestDisputes:
    @pytest.fixture
    def disputed(self, computed):
        nov = Period.objects.get(code="2026-11")
        made = []
        for manager, customer in (("m1", "d"), ("m2", "d")):
            made.append(
                dispute_raise(
                    by=computed[manager],
                    period=nov,
                    customer=computed[customer],
                    claim=DisputeClaim.MINE,
                    first_day=D(2026, 11, 2),
                    last_day=D(2026, 11, 6),
                    reason="I opened this customer's account on 2 November",
                )
            )
        return made

    def test_filters_by_manager_and_period_and_refuses_others(self, as_user, disputed, computed, demo_users):
        client = as_user(demo_users["demo_bh"])
        html = client.get(DISPUTES).content.decode()
        managers = options(html, "manager")
        assert managers[0] == ("", "All managers")
        m1 = computed["m1"]
        assert (m1.employee_no, f"{m1.display_name} · {m1.branch.name}") in managers
        assert all(value != "E1201" for value, _ in managers)
        assert options(html, "period") == [("", "All periods"), ("2026-11", "2026-11")]
        assert options(html, "status")[0] == ("", "Any status")
        only = client.get(DISPUTES, {"manager": m1.employee_no})
        assert [d.proposed_by for d, _ in only.context["rows"]] == [m1]
        refused = client.get(DISPUTES, {"manager": "E1201"})
        assert refused.status_code == 400
        assert "This manager is not in your branches: choose one from the list." in refused.content.decode()
        assert client.get(DISPUTES, {"period": "2031-01"}).status_code == 400

    def test_sort_and_position(self, as_user, disputed, demo_users):
        client = as_user(demo_users["demo_bh"])
        newest = client.get(DISPUTES)
        assert [d.pk for d, _ in newest.context["rows"]] == [disputed[1].pk, disputed[0].pk]
        assert "Items 1–2 of 2" in newest.content.decode()
        oldest = client.get(DISPUTES, {"sort": "raised"})
        assert [d.pk for d, _ in oldest.context["rows"]] == [disputed[0].pk, disputed[1].pk]
        assert 'data-sort="manager"' in oldest.content.decode()

    def test_a_rejection_says_whose_dispute_stays_as_it_was(self, as_user, disputed, demo_users):
        dispute = disputed[0]
        client = as_user(demo_users["demo_bh"])
        response = client.post(
            f"/performance/disputes/{dispute.pk}/reject/", {"note": "Not so", "manager": ""}
        )
        said = [str(m) for m in get_messages(response.wsgi_request)]
        assert said == [
            f"Dispute #{dispute.pk} of {dispute.proposed_by.display_name} rejected: "
            "the days stay credited as they were."
        ]

"""Issue 16, "Controls", on the customer list and the data-quality queue: the filters
whose values are known are selects of names (tier levels, the user's branches and
managers), a value outside the user's scope is refused with a message, and the
lists have a page size, previous/next with the position, and sorting by column."""

from __future__ import annotations

import re

import pytest

from customers import quality
from customers.models import DataQualityIssue
from tests.customers.conftest import log_in, search_settings_statements

pytestmark = pytest.mark.django_db

LIST = "/customers/"
QUEUE = "/customers/quality/"


def _names(response) -> list[str]:
    return [c.name for c in response.context["customers"]]


def _options(html: str, name: str) -> dict[str, str]:
    """value -> shown text of the options of the select `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


def _link(html: str, testid: str) -> str:
    match = re.search(rf'href="(\?[^"]*)" data-testid="{testid}"', html)
    assert match, f"no link {testid}"
    return LIST + match.group(1).replace("&amp;", "&")


@pytest.fixture
def book(demo_users, new_customer):
    """Customers of two managers in Haidian (11101, 11102) and one in Shanghai."""
    return {
        "platinum": new_customer(
            manager=demo_users["demo_cm1"], name="白金甲", tier="platinum", aum="2000000"
        ),
        "gold": new_customer(manager=demo_users["demo_cm1"], name="金乙", tier="gold", aum="600000"),
        "other": new_customer(manager=demo_users["demo_cm2"], branch="11102", name="丙", aum="1000"),
        "shanghai": new_customer(
            manager=demo_users["demo_cm3"], branch="12101", name="沪丁", tier="platinum", aum="3000000"
        ),
    }


class TestFilterSelects:
    def test_the_selects_show_names_and_words_never_codes_nor_dashes(self, client, book, demo_password):
        log_in(client, "demo_bh", demo_password)  # Haidian sub-branch 11100
        html = client.get(LIST).content.decode()
        tiers = _options(html, "tier")
        assert tiers[""] == "All tiers" and tiers["platinum"] == "白金级" and tiers["gold"] == "金级"
        branches = _options(html, "branch")
        assert branches[""] == "All branches" and branches["11101"] == "11101 中关村网点"
        assert "12101" not in branches  # Shanghai: outside the branch head's subtree
        managers = _options(html, "manager")
        assert managers[""] == "All managers" and managers["E1101"] == "王经理 (E1101)"
        assert "E1201" not in managers
        assert _options(html, "status")[""] == "All statuses"
        assert _options(html, "product")[""] == "Any product"
        for name in ("tier", "branch", "manager", "status", "product"):
            assert "—" not in _options(html, name).values(), name
        # every filter has a label of its own, no placeholder in its place
        for name in ("branch", "tier", "manager", "status", "product"):
            assert re.search(rf'<label class="form-label[^"]*" for="id_{name}">[^<]+</label>', html), name

    def test_filtering_by_the_chosen_tier_branch_and_manager(self, client, book, demo_password):
        log_in(client, "demo_bm", demo_password)
        assert set(_names(client.get(LIST, {"tier": "platinum"}))) == {"白金甲", "沪丁"}
        assert set(_names(client.get(LIST, {"tier": "gold"}))) == {"金乙"}
        assert set(_names(client.get(LIST, {"branch": "11102"}))) == {"丙"}
        assert set(_names(client.get(LIST, {"branch": "11100"}))) == {"白金甲", "金乙", "丙"}  # and below
        assert set(_names(client.get(LIST, {"manager": "E1101"}))) == {"白金甲", "金乙"}
        assert set(_names(client.get(LIST, {"manager": "E1201", "tier": "platinum"}))) == {"沪丁"}
        # the selected option stays selected on the results page
        html = client.get(LIST, {"tier": "gold"}).content.decode()
        assert re.search(r'<option value="gold" selected>金级</option>', html)

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"branch": "12101"}, "Branch 12101 is outside the branches you may see"),
            ({"manager": "E1201"}, "Employee E1201 is not a client manager of the branches you may see"),
            ({"tier": "白金级"}, "No tier level has the code 白金级"),
        ],
    )
    def test_a_value_outside_the_scope_is_refused_with_a_message(
        self, client, book, demo_password, params, message
    ):
        log_in(client, "demo_bh", demo_password)
        response = client.get(LIST, params)
        html = response.content.decode()
        assert response.status_code == 400
        assert message in html and 'data-testid="search-error"' in html
        assert "沪丁" not in html

    def test_the_live_search_refuses_it_too(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)  # outlet 11101; E1102 is at 11102
        live = client.post(
            "/customers/search/", {"manager": "E1102"}, headers={"HX-Request": "true"}, follow=True
        )
        html = live.content.decode()
        assert live.status_code == 400 and "<html" not in html
        assert "Employee E1102 is not a client manager of the branches you may see" in html

    def test_a_client_manager_chooses_among_their_outlets_managers(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        html = client.get(LIST).content.decode()
        assert set(_options(html, "branch")) == {"", "11101"}
        assert "E1101" in _options(html, "manager") and "E1102" not in _options(html, "manager")
        response = client.get(LIST, {"manager": "E1102"})
        assert response.status_code == 400 and "Employee E1102" in response.content.decode()

    def test_the_api_still_takes_the_codes(self, api, book, demo_users):
        response = api(demo_users["demo_bm"]).get(
            "/api/v1/customers/", {"tier": "platinum", "manager": "E1201"}
        )
        assert response.status_code == 200
        assert [row["name"] for row in response.json()["results"]] == ["沪丁"]


class TestListControls:
    @pytest.fixture
    def many(self, demo_users, new_customer):
        return [
            new_customer(
                manager=demo_users["demo_cm1"], name=f"李{i:02d}", aum=str(1000 + i), customer_no=f"8{i:09d}"
            )
            for i in range(60)
        ]

    def test_page_size_previous_next_and_position(self, client, many, demo_password):
        log_in(client, "demo_cm1", demo_password)
        first = client.get(LIST, {"q": "李"})
        html = first.content.decode()
        assert len(first.context["customers"]) == 25
        assert "Items 1–25 of 60" in html and 'data-testid="previous-page"' not in html
        second = client.get(_link(html, "next-page"))
        html = second.content.decode()
        assert "Items 26–50 of 60" in html and len(second.context["customers"]) == 25
        third = client.get(_link(html, "next-page"))
        assert "Items 51–60 of 60" in third.content.decode() and len(third.context["customers"]) == 10
        back = client.get(_link(third.content.decode(), "previous-page"))
        assert "Items 26–50 of 60" in back.content.decode()
        assert _names(back) == _names(second)
        # 50 a page: the size links start again at the first page, and the size is kept
        fifty = re.search(r'href="\?([^"]*size=50[^"]*)"', html).group(1).replace("&amp;", "&")
        assert "cursor" not in fifty
        page = client.get(f"{LIST}?{fifty}")
        assert len(page.context["customers"]) == 50 and "Items 1–50 of 60" in page.content.decode()
        assert 'name="size" value="50"' in page.content.decode()  # a new search keeps it
        last = client.get(_link(page.content.decode(), "next-page"))
        assert "Items 51–60 of 60" in last.content.decode()

    def test_a_link_without_a_true_position_shows_the_page_without_one(self, client, many, demo_password):
        log_in(client, "demo_cm1", demo_password)
        cursor = client.get(LIST, {"q": "李"}).context["page"].next_cursor
        for at in ("", "²", "abc", "-5", "1", "999999999999"):
            response = client.get(LIST, {"q": "李", "cursor": cursor, "at": at})
            assert response.status_code == 200 and len(response.context["customers"]) == 25, at
            assert 'data-testid="page-position"' not in response.content.decode(), at
            assert 'data-testid="next-page"' in response.content.decode()

    def test_a_page_size_not_offered_is_the_default(self, client, many, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.get(LIST, {"q": "李", "size": "100000"})
        assert response.status_code == 200 and len(response.context["customers"]) == 25

    def test_sorting_by_the_column_headers(self, client, many, demo_password):
        log_in(client, "demo_cm1", demo_password)
        html = client.get(LIST, {"q": "李"}).content.decode()
        # AUM, highest first by default, is marked; the name sorts among a search's matches
        assert re.search(r'<th class="text-end" aria-sort="descending"><a class="sort-link', html)
        by_name = re.search(r'href="\?([^"]*)" data-sort="name"', html).group(1).replace("&amp;", "&")
        response = client.get(f"{LIST}?{by_name}")
        assert _names(response) == [f"李{i:02d}" for i in range(25)]
        html = response.content.decode()
        assert 'aria-sort="ascending"' in html and "▲" in html
        desc = re.search(r'href="\?([^"]*)" data-sort="name"', html).group(1).replace("&amp;", "&")
        assert _names(client.get(f"{LIST}?{desc}")) == [f"李{i:02d}" for i in range(59, 34, -1)]
        by_no = client.get(LIST, {"q": "李", "sort": "-customer_no"})
        assert _names(by_no)[:2] == ["李59", "李58"]
        lowest = client.get(LIST, {"q": "李", "sort": "-aum"})
        assert _names(lowest)[:2] == ["李00", "李01"]
        # a sort link starts again at the first page (a cursor of another order is no position)
        second = client.get(_link(html, "next-page"))
        for link in re.findall(r'href="\?([^"]*)" data-sort=', second.content.decode()):
            assert "cursor" not in link and "at=" not in link

    def test_without_a_search_the_name_is_not_offered_as_a_sort(self, client, many, demo_password):
        # the name has no index in its order: sorting a whole scope by it is a sort
        # of every customer in it
        log_in(client, "demo_cm1", demo_password)
        html = client.get(LIST).content.decode()
        assert 'data-sort="name"' not in html and 'data-sort="customer_no"' in html

    def test_the_list_reads_a_bounded_number_of_queries(
        self, client, many, book, demo_password, django_assert_max_num_queries
    ):
        log_in(client, "demo_bm", demo_password)
        # session, user, permissions (2), roles, the search's keys and rows, the
        # filters' lists (branches and managers in one read, the tier levels, also
        # naming the rows), the session saved, and the planner settings
        with django_assert_max_num_queries(14 + search_settings_statements()):
            response = client.get(LIST, {"size": "100"})
        assert len(response.context["customers"]) == 64
        with django_assert_max_num_queries(14 + search_settings_statements()):
            client.get(LIST, {"tier": "platinum", "branch": "11100", "manager": "E1101"})


class TestQueueControls:
    @pytest.fixture
    def issues(self, demo_users, new_customer):
        for i in range(30):
            new_customer(manager=demo_users["demo_cm1"], name=f"周{i:02d}", mobile="")
        new_customer(manager=demo_users["demo_cm3"], branch="12101", name="沪周", mobile="")
        quality.quality_scan()
        return DataQualityIssue.objects.count()

    def test_page_size_position_and_sort(self, client, issues, demo_password):
        assert issues == 31
        log_in(client, "demo_bm", demo_password)
        first = client.get(QUEUE, {"size": "25"})
        html = first.content.decode()
        assert len(first.context["page"].object_list) == 25 and "Items 1–25 of 31" in html
        second = client.get(QUEUE, {"size": "25", "page": "2"})
        assert "Items 26–31 of 31" in second.content.decode()
        default = client.get(QUEUE)
        assert len(default.context["page"].object_list) == 31  # 50 a page, the queue's default
        ids = [issue.pk for issue in default.context["page"].object_list]
        assert ids == sorted(ids, reverse=True)  # newest first
        oldest = client.get(QUEUE, {"sort": "detected"})
        assert [issue.pk for issue in oldest.context["page"].object_list] == sorted(ids)
        by_customer = client.get(QUEUE, {"sort": "-customer"})
        numbers = [issue.customer.customer_no for issue in by_customer.context["page"].object_list]
        assert numbers == sorted(numbers, reverse=True)
        assert 'aria-sort="descending"' in by_customer.content.decode()
        assert client.get(QUEUE, {"sort": "password"}).status_code == 200  # not a column: the default

    def test_the_branch_filter_is_a_select_and_refuses_another_scope(self, client, issues, demo_password):
        log_in(client, "demo_bh", demo_password)
        html = client.get(QUEUE).content.decode()
        branches = _options(html, "branch")
        assert branches[""] == "All branches" and branches["11101"] == "11101 中关村网点"
        assert "12101" not in branches
        inside = client.get(QUEUE, {"branch": "11101"})
        assert inside.status_code == 200 and inside.context["page"].paginator.count == 30
        outside = client.get(QUEUE, {"branch": "12101"})
        assert outside.status_code == 400
        assert "Branch 12101 is outside the branches you may see" in outside.content.decode()
        assert "沪周" not in outside.content.decode()

    def test_the_queue_reads_a_bounded_number_of_queries(
        self, client, issues, demo_password, django_assert_max_num_queries
    ):
        log_in(client, "demo_bm", demo_password)
        with django_assert_max_num_queries(13):
            client.get(QUEUE, {"sort": "-customer", "size": "100"})

"""Every search kind on a known data set, under each role's scope."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.search import (
    COUNT_CAP,
    CustomerSearch,
    SearchFilters,
    classify_query,
    customer_search,
    keyset_page,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_users, new_customer, add_account):
    cm1, cm2, cm3 = demo_users["demo_cm1"], demo_users["demo_cm2"], demo_users["demo_cm3"]
    made = {
        "zhangsan": new_customer(
            manager=cm1, name="张三", mobile="13811112222", aum="300000", birth_date=datetime.date(1980, 3, 1)
        ),
        "zhangsanfeng": new_customer(
            manager=cm2,
            name="张三丰",
            mobile="13933334444",
            aum="9000000",
            birth_date=datetime.date(1950, 3, 1),
        ),
        "ouyang": new_customer(
            manager=cm3,
            branch="12101",
            name="欧阳娜娜",
            mobile="13755556666",
            aum="120000",
            birth_date=datetime.date(1995, 3, 1),
        ),
        "shan": new_customer(manager=cm1, name="单田芳", mobile="13677778888", aum="50000"),
        "anna": new_customer(manager=cm3, branch="12101", name="Anna Li", mobile="13599990000", aum="10"),
    }
    add_account(made["zhangsan"], category="FUND", account_no="6217000011112222333")
    add_account(made["ouyang"], category="DEP_TIME", account_no="622202123456789012")
    return made


def names(user, q="", **filters):
    return {c.name for c in customer_search(user=user, q=q, filters=SearchFilters(**filters))}


def all_pages(user, q="", *, sort="aum", size=2, **filters):
    """Every page of a search, following its cursors: ([(names, count, capped) per
    page], the SQL the pages ran)."""
    pages, sqls, cursor = [], [], ""
    while True:
        search = CustomerSearch(user=user, q=q, filters=SearchFilters(**filters), sort=sort)
        with CaptureQueriesContext(connection) as captured:
            page = keyset_page(search, cursor=cursor, size=size)
        sqls += [query["sql"] for query in captured.captured_queries]
        pages.append(([c.name for c in page.rows], page.count, page.count_capped))
        cursor = page.next_cursor
        if not cursor:
            return pages, sqls


def seen_and_counts(pages):
    return [name for rows, _count, _capped in pages for name in rows], {count for _rows, count, _c in pages}


def selects(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


@pytest.mark.parametrize(
    ("q", "kind"),
    [
        ("13811112222", "mobile"),
        ("2222", "mobile_suffix"),
        ("11010519491231002X", "id_number"),
        ("31002X", "id_suffix"),
        ("123456", "id_suffix"),
        ("900000000019", "number"),
        ("zs", "pinyin"),
        ("张三", "name"),
        ("Anna Li", "name"),
    ],
)
def test_what_was_typed(q, kind):
    assert classify_query(q) == kind


class TestKindsAtHeadOffice:
    def test_each_kind_finds_the_right_customer(self, people, demo_users):
        bm = demo_users["demo_bm"]
        z = people["zhangsan"]
        assert names(bm, z.customer_no) == {"张三"}
        assert names(bm, "6217000011112222333") == {"张三"}
        assert names(bm, "622202123456789012") == {"欧阳娜娜"}  # 18 digits, yet an account
        assert names(bm, z.id_number) == {"张三"}
        assert names(bm, z.id_number.lower()) == {"张三"}
        assert names(bm, z.id_number[-6:]) == {"张三"}
        assert names(bm, "13811112222") == {"张三"}
        assert names(bm, "+86 138-1111-2222") == {"张三"}
        assert names(bm, "2222") == {"张三"}

    def test_name_substrings_of_every_length(self, people, demo_users):
        bm = demo_users["demo_bm"]
        assert names(bm, "张") == {"张三", "张三丰"}
        assert names(bm, "张三") == {"张三", "张三丰"}
        assert names(bm, "三丰") == {"张三丰"}
        assert names(bm, "张三丰") == {"张三丰"}
        assert names(bm, "阳娜") == {"欧阳娜娜"}
        assert names(bm, "欧阳娜娜") == {"欧阳娜娜"}
        assert names(bm, "娜欧") == set()  # the pieces exist, the substring does not

    def test_pinyin_initials_and_full_pinyin(self, people, demo_users):
        bm = demo_users["demo_bm"]
        assert names(bm, "zs") == {"张三", "张三丰"}
        assert names(bm, "zsf") == {"张三丰"}
        assert names(bm, "zhangsan") == {"张三", "张三丰"}
        assert names(bm, "ZhangSanF") == {"张三丰"}
        assert names(bm, "oynn") == {"欧阳娜娜"}
        assert names(bm, "shantianfang") == {"单田芳"}  # the surname's own reading
        assert names(bm, "anna") == {"Anna Li"}

    def test_filters_combine(self, people, demo_users):
        bm = demo_users["demo_bm"]
        assert names(bm, "zs", aum_min=Decimal("1000000")) == {"张三丰"}
        assert names(bm, "", product="FUND") == {"张三"}
        assert names(bm, "", age_min=60) == {"张三丰"}
        assert names(bm, "", age_min=20, age_max=35) == {"欧阳娜娜"}
        assert names(bm, "", branch="12000") == {"欧阳娜娜", "Anna Li"}
        assert names(bm, "张", manager="E1102") == {"张三丰"}
        assert names(bm, "", branch="99999") == set()


class TestPinyinPlacesReadApart:
    """From two letters on, a pinyin search reads the initials range, the pinyin
    range and the names with more tokens (a second surname reading, Latin words)
    apart and merges them (PostgreSQL); pages and counts are those of the plain
    query, under every scope."""

    QUERIES = [
        "zs",
        "zsf",
        "zhangsan",
        "zhangsanf",
        "shantianfang",
        "dantf",
        "dtf",
        "stf",
        "li",
        "an",
        "z",
        "oy",
    ]

    @pytest.mark.parametrize("username", ["demo_bm", "demo_bh", "demo_cm1", "demo_cm3"])
    def test_pages_and_counts_are_the_plain_querys(self, people, demo_users, username):
        user = demo_users[username]
        for q in self.QUERIES:
            expected = [c.name for c in customer_search(user=user, q=q)]
            seen, counts = seen_and_counts(all_pages(user, q, size=1)[0])
            assert seen == expected, q
            assert counts <= {len(expected)}, q

    def test_a_second_word_and_a_second_reading_are_found(self, people, demo_users):
        bm = demo_users["demo_bm"]
        assert names(bm, "li") == {"Anna Li"}
        assert names(bm, "shan") == {"单田芳"} and names(bm, "dan") == {"单田芳"}
        assert names(bm, "stf") == {"单田芳"} and names(bm, "dtf") == {"单田芳"}

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the union is PostgreSQL's")
    def test_two_letters_read_the_places_apart_one_letter_walks(self, people, demo_users):
        search = CustomerSearch(user=demo_users["demo_bm"], q="zs")
        with CaptureQueriesContext(connection) as two:
            page = keyset_page(search)
        assert [c.name for c in page.rows] == ["张三丰", "张三"]
        assert " UNION " in two.captured_queries[1]["sql"]
        assert "name_initials" in two.captured_queries[1]["sql"]
        with CaptureQueriesContext(connection) as one:
            keyset_page(CustomerSearch(user=demo_users["demo_bm"], q="z"))
        assert not any(" UNION " in query["sql"] for query in one.captured_queries)

    def test_a_manager_sees_shared_customers_in_the_page_and_the_count(self, people, demo_users):
        from guardian.shortcuts import assign_perm

        cm1 = demo_users["demo_cm1"]
        assign_perm("customers.view_customer", cm1, people["ouyang"])
        for q in ("", "oy", "欧阳"):
            user = type(cm1).objects.get(pk=cm1.pk)  # a new request: grants read afresh
            expected = [c.name for c in customer_search(user=user, q=q)]
            seen, counts = seen_and_counts(all_pages(user, q, size=1)[0])
            assert "欧阳娜娜" in expected and seen == expected and counts == {len(expected)}, q

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the partial index is PostgreSQL's")
    def test_the_partial_index_covers_the_names_the_query_names(self):
        from customers.search_text import EXTRA_TOKEN_NAMES

        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'customer_extra_tokens'")
            (definition,) = cursor.fetchone()
        for pattern in EXTRA_TOKEN_NAMES:
            assert f"(name)::text ~ '{pattern}'::text" in definition


class TestOneCharacter:
    """One character is the surname (the name's prefix index) or a later character
    (its own token); together exactly the names holding it, in every scope."""

    @pytest.fixture
    def li(self, demo_users, new_customer):
        cm1 = demo_users["demo_cm1"]
        for name, aum in (("李雷", 5), ("韩李", 4), ("李李", 3), ("Anna李", 2), ("王小李", 1), ("王雷", 0)):
            new_customer(manager=cm1, name=name, aum=str(aum * 1000))
        new_customer(branch="12101", manager=demo_users["demo_cm3"], name="李四", aum="9000")
        return demo_users

    def test_the_tokens_mark_later_characters(self):
        from customers.search_text import name_search

        assert set(name_search("李李").tokens.split()) >= {"李", "2李"}
        assert "2李" not in name_search("李雷").tokens.split()
        assert "2李" in name_search("Anna李").tokens.split()

    @pytest.mark.parametrize("username", ["demo_bm", "demo_bh", "demo_cm1", "demo_cm3"])
    def test_pages_and_counts_hold_every_name_with_the_character(self, li, username):
        user = li[username]
        everyone = {"李雷", "韩李", "李李", "Anna李", "王小李", "李四"}
        expected = [c.name for c in customer_search(user=user, q="李")]
        assert set(expected) == everyone & {c.name for c in customer_search(user=user)}
        seen, counts = seen_and_counts(all_pages(user, "李")[0])
        assert seen == expected and counts == {len(expected)}

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the union is PostgreSQL's")
    def test_the_two_places_are_read_apart(self, li):
        search = CustomerSearch(user=li["demo_bm"], q="李")
        with CaptureQueriesContext(connection) as captured:
            page = keyset_page(search)
        assert [c.name for c in page.rows] == ["李四", "李雷", "韩李", "李李", "Anna李", "王小李"]
        keys = captured.captured_queries[1]["sql"]
        assert " UNION " in keys and "LIKE '李%'" in keys and "'2李'" in keys


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the per-branch walks are PostgreSQL's")
class TestABranchHeadsWalkPerBranch:
    """A branch head's search that PostgreSQL would answer by walking the bank's AUM
    index walks each branch's own index instead; pages and counts are unchanged."""

    @pytest.fixture
    def spread(self, demo_users, new_customer, monkeypatch):
        monkeypatch.setattr("customers.search.paging.COUNT_CAP", 4)
        for i in range(9):
            branch = ["11100", "11101", "11102", "12101"][i % 4]
            new_customer(branch=branch, name=f"周{i}", aum=str(1000 * (i % 5)))
        return demo_users["demo_bh"]

    def _expected(self, user, q, **filters):
        names = [c.name for c in customer_search(user=user, q=q, filters=SearchFilters(**filters))]
        pages = [names[i : i + 2] for i in range(0, len(names), 2)] or [[]]
        return [(page, min(len(names), 4), len(names) > 4) for page in pages]

    def test_pages_and_counts_whichever_way_it_is_read(self, spread):
        for q, filters, walks in (
            ("", {}, True),  # browsing: each branch's AUM index, as far as the page
            ("z", {}, True),  # one letter matches a tenth of the bank: the same walk
            ("周", {}, False),  # the two places of one character, each for all branches
            ("", {"branch": "11100"}, True),
            ("周", {"aum_min": Decimal("1000")}, False),
            ("周3", {}, False),  # a selective text fetches its matches once
        ):
            seen, sqls = all_pages(spread, q, **filters)
            assert seen == self._expected(spread, q, **filters), (q, filters)
            per_branch = any(re.search(r'"home_branch_id" IN \(\d+\)', sql) for sql in sqls)
            assert per_branch == walks, (q, filters)

    def test_one_branch_is_one_walk_already(self, spread):
        seen, sqls = all_pages(spread, "", branch="11101")
        assert seen == self._expected(spread, "", branch="11101")
        assert not any("UNION" in sql for sql in sqls)

    def test_the_way_is_chosen_from_the_parameters_without_asking_for_a_plan(self, spread):
        for q, filters, sort in (("", {}, "aum"), ("周3", {}, "aum"), ("", {}, "name"), ("z", {}, "-aum")):
            with CaptureQueriesContext(connection) as captured:
                keyset_page(CustomerSearch(user=spread, q=q, filters=SearchFilters(**filters), sort=sort))
            assert not any("EXPLAIN" in query["sql"].upper() for query in captured.captured_queries), q
        assert len(CustomerSearch(user=spread, sort="name").parts()[0]) == 1  # by name: one ordered read

    def test_more_branches_than_the_bound_are_one_read(self, spread, monkeypatch):
        monkeypatch.setattr("customers.search.plan.BRANCH_PARTS_MAX", 2)
        seen, sqls = all_pages(spread, "")
        assert seen == self._expected(spread, "")
        assert not any("UNION" in sql for sql in sqls)


class TestPreviousPages:
    """A page also links back: `previous_cursor` reads the page before it in the same
    order, so that a client following only links (the API) can walk both ways."""

    @pytest.mark.parametrize("username", ["demo_bm", "demo_bh", "demo_cm1"])
    @pytest.mark.parametrize("sort", ["aum", "-aum", "name", "customer_no"])
    def test_walking_back_gives_the_same_pages(self, demo_users, new_customer, username, sort):
        for i in range(11):
            branch = ["11101", "11102"][i % 2]
            new_customer(manager=demo_users["demo_cm1"], branch=branch, name=f"冯{i}", aum=str(100 * (i % 3)))
        user = demo_users[username]
        for q in ("", "冯"):
            search = CustomerSearch(user=user, q=q, sort=sort)
            forward, page = [], keyset_page(search, size=3)
            assert page.is_first and not page.previous_cursor
            while True:
                forward.append([c.pk for c in page.rows])
                if not page.next_cursor:
                    break
                page = keyset_page(search, size=3, cursor=page.next_cursor)
            backward = [[c.pk for c in page.rows]]
            while page.previous_cursor:
                page = keyset_page(search, size=3, cursor=page.previous_cursor)
                backward.append([c.pk for c in page.rows])
            assert backward[::-1] == forward, (q, sort)
            assert page.is_first and not page.previous_cursor and page.next_cursor


class TestScope:
    @pytest.mark.parametrize(
        ("username", "expected"),
        [
            ("demo_cm1", {"张三"}),
            ("demo_cm2", {"张三丰"}),
            ("demo_cm3", set()),
            ("demo_bh", {"张三", "张三丰"}),
            ("demo_bm", {"张三", "张三丰"}),
        ],
    )
    def test_every_kind_respects_the_scope(self, people, demo_users, username, expected):
        user = demo_users[username]
        for q in ("张", "zs", "zhangsan"):
            assert names(user, q) == expected, q
        zsf = people["zhangsanfeng"]
        for q in (zsf.customer_no, zsf.id_number, zsf.id_number[-6:], zsf.mobile, zsf.mobile[-4:]):
            assert names(user, q) == expected & {"张三丰"}, q

    def test_counts_never_include_what_the_scope_hides(self, people, demo_users):
        page = keyset_page(CustomerSearch(user=demo_users["demo_cm1"], q="张"))
        assert page.count == 1 and [c.name for c in page.rows] == ["张三"]


class TestKeysetPagination:
    def test_pages_are_stable_and_complete_even_with_equal_sort_values(self, demo_users, new_customer):
        for i in range(23):
            new_customer(manager=demo_users["demo_cm1"], name=f"钱{i}", aum=str(1000 * (i % 4)))
        user = demo_users["demo_cm1"]
        for sort in ("aum", "-aum", "name", "customer_no"):
            seen, _counts = seen_and_counts(all_pages(user, "钱", sort=sort, size=5)[0])
            expected = list(customer_search(user=user, q="钱", sort=sort).values_list("name", flat=True))
            assert seen == expected, sort
            assert len(set(seen)) == 23

    def test_a_broken_cursor_starts_again_at_the_first_page(self, demo_users, new_customer):
        new_customer(manager=demo_users["demo_cm1"], name="孙一")
        page = keyset_page(CustomerSearch(user=demo_users["demo_cm1"], q="孙"), cursor="!!garbage")
        assert page.is_first and [c.name for c in page.rows] == ["孙一"]

    @pytest.mark.parametrize(
        ("sort", "forged"),
        [
            ("aum", ["abc", 5]),  # not an amount
            ("aum", ["NaN", 5]),
            ("aum", [{"a": 1}, 2]),
            ("aum", [1000, "x"]),  # not an id
            ("aum", [1000, True]),
            ("aum", [None, None]),
            ("aum", [1000, 2, 3]),
            ("name", [1000, 2]),  # a name is text
            ("name", ["孙", 2.5]),
        ],
    )
    def test_a_forged_cursor_starts_again_at_the_first_page(
        self, client, demo_users, demo_password, new_customer, sort, forged
    ):
        import base64
        import json

        from tests.customers.conftest import log_in

        new_customer(manager=demo_users["demo_cm1"], name="孙一")
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        page = keyset_page(CustomerSearch(user=demo_users["demo_cm1"], q="孙", sort=sort), cursor=cursor)
        assert page.is_first and [c.name for c in page.rows] == ["孙一"]
        log_in(client, "demo_cm1", demo_password)
        response = client.get("/customers/", {"q": "孙", "sort": sort, "cursor": cursor})
        assert response.status_code == 200 and "孙一" in response.content.decode()

    def test_the_count_is_capped(self, demo_users, new_customer, monkeypatch):
        monkeypatch.setattr("customers.search.paging.COUNT_CAP", 3)
        for i in range(5):
            new_customer(manager=demo_users["demo_cm1"], name=f"周{i}")
        page = keyset_page(CustomerSearch(user=demo_users["demo_cm1"], q="周"))
        assert page.count_capped and page.count == 3
        assert COUNT_CAP == 500


def test_the_list_page_shows_the_next_page_link_and_search_errors(
    client, demo_users, demo_password, new_customer
):
    from tests.customers.conftest import log_in

    for i in range(30):
        new_customer(manager=demo_users["demo_cm1"], name=f"吴{i}")
    log_in(client, "demo_cm1", demo_password)
    response = client.get("/customers/", {"q": "wu"})
    assert b'data-testid="next-page"' in response.content
    bad = client.get("/customers/", {"age_min": "50", "age_max": "20"})
    assert bad.status_code == 400 and "The lower age bound is above the upper one." in bad.content.decode()


class TestOnePassOverTheMatches:
    """The first page reads the keys of the first COUNT_CAP + 1 matches in order
    (its count and its page at once) and then the page's rows by primary key; a
    later page counts apart. Planner settings never outlive the page."""

    @pytest.fixture
    def many(self, demo_users, new_customer, monkeypatch):
        monkeypatch.setattr("customers.search.paging.COUNT_CAP", 3)
        for i in range(8):
            new_customer(manager=demo_users["demo_cm1"], name=f"郑{i}", aum=str(1000 * (i + 1)))
        return demo_users["demo_cm1"]

    def _setting(self):
        if connection.vendor != "postgresql":
            return None  # planner settings are PostgreSQL's
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('cpu_index_tuple_cost'), current_setting('jit')")
            return cursor.fetchone()

    def test_the_first_page_and_its_count_come_from_one_read_of_the_matches(self, many):
        search = CustomerSearch(user=many, q="郑")
        with CaptureQueriesContext(connection) as captured:
            page = keyset_page(search, size=2)
        assert page.count == 3 and page.count_capped
        assert [c.name for c in page.rows] == ["郑7", "郑6"] and page.next_cursor
        assert len(selects(captured)) == 2  # the ordered keys, then the two rows
        assert "LIMIT 4" in selects(captured)[0]

    def test_a_later_page_counts_apart_and_reads_only_its_own_keys(self, many):
        search = CustomerSearch(user=many, q="郑")
        first = keyset_page(search, size=2)
        with CaptureQueriesContext(connection) as captured:
            page = keyset_page(search, size=2, cursor=first.next_cursor)
        assert [c.name for c in page.rows] == ["郑5", "郑4"] and not page.is_first
        assert page.count == 3 and page.count_capped  # the whole search's count, not the rest's
        assert len(selects(captured)) == 3 and "LIMIT 3" in selects(captured)[1]

    def test_the_rows_keep_the_order_and_the_planner_settings_do_not_outlive_the_page(self, many):
        before = self._setting()
        page = keyset_page(CustomerSearch(user=many, q="郑", sort="-aum"), size=5)
        assert [c.name for c in page.rows] == ["郑0", "郑1", "郑2", "郑3", "郑4"]
        assert self._setting() == before

    def test_an_empty_search_reads_no_rows(self, many):
        search = CustomerSearch(user=many, q="没有这个人")
        with CaptureQueriesContext(connection) as captured:
            page = keyset_page(search)
        assert page.rows == [] and page.count == 0 and not page.next_cursor
        assert len(selects(captured)) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored vector is PostgreSQL's")
class TestTheStoredSearchVector:
    def _vector(self, pk):
        with connection.cursor() as cursor:
            cursor.execute("SELECT search_vector::text FROM customers_customer WHERE id = %s", [pk])
            return cursor.fetchone()[0]

    def test_it_follows_a_renamed_customer_and_the_search_follows_it(self, demo_users, new_customer):
        user = demo_users["demo_cm1"]
        customer = new_customer(manager=user, name="欧阳明")
        assert "'oym'" in self._vector(customer.pk)
        customer.name = "司马光"
        customer.save(update_fields=["name"])
        assert "'smg'" in self._vector(customer.pk) and "'oym'" not in self._vector(customer.pk)
        assert [c.pk for c in customer_search(user=user, q="smg")] == [customer.pk]
        assert list(customer_search(user=user, q="oym")) == []

    def test_a_customer_read_does_not_fetch_it(self, demo_users, new_customer):
        customer = new_customer(manager=demo_users["demo_cm1"], name="欧阳明")
        assert "search_vector" not in str(type(customer).objects.filter(pk=customer.pk).query)

    def test_the_aum_ordered_indexes_carry_what_a_search_tests(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer'"
                " AND indexname IN ('customer_aum_desc', 'customer_manager_aum', 'customer_branch_aum')"
            )
            indexes = dict(cursor.fetchall())
        assert len(indexes) == 3
        for definition in indexes.values():
            assert "INCLUDE (search_vector, name, status, birth_date, tier, merged_into_id" in definition

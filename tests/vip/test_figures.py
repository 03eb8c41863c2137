"""The figures kept for the book, home and VIP report pages (vip.services.figures):
what the pages show from them equals what they show counting the live tables,
after a build and after the services change assignments, tiers and VIP status;
each role sees its own scope; the pages say as of when; their queries are pinned."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core import widgets
from customers.models import Customer
from tests.customers.conftest import log_in
from vip.models import (
    BookFigure,
    FigureBuild,
    TierChange,
    TierMigrationFigure,
    TierMonthFigure,
    TierPolicy,
    WonLostDayFigure,
)
from vip.services import (
    customer_assign,
    customers_recall,
    figures_rebuild,
    tier_override_set,
    transfer_approve,
    transfer_request,
    vip_register,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_MONTH = (TODAY.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _change(customer: Customer, old: str, new: str, day: datetime.date) -> None:
    TierChange.objects.create(
        customer=customer, from_tier=old, to_tier=new, effective_date=day, source="upgrade"
    )
    customer.tier = new
    customer.save(update_fields=["tier"])


@pytest.fixture
def world(users, new_customer):
    """Two Beijing managers, a Shanghai one and the pools; tiers from a history
    spanning last month and this one; a merged record; a registered VIP."""
    cm1, cm2, cm3 = users["demo_cm1"], users["demo_cm2"], users["demo_cm3"]
    early = LAST_MONTH - datetime.timedelta(days=40)
    people = {
        "a": new_customer(manager=cm1, aum="1200000"),
        "b": new_customer(manager=cm1, aum="350000"),
        "c": new_customer(manager=cm1, aum="800"),
        "d": new_customer(manager=cm1, aum="100", branch="11102"),  # homed at another outlet
        "e": new_customer(manager=cm2, branch="11102", aum="7000000"),
        "s": new_customer(manager=cm3, branch="12101", aum="600000"),
        "pool": new_customer(branch="11101", aum="20000"),
        "pool_sh": new_customer(branch="12101", aum="30000"),
    }
    _change(people["a"], "", "gold", early)
    _change(people["a"], "gold", "platinum", LAST_MONTH + datetime.timedelta(days=3))
    _change(people["b"], "", "potential", early)
    _change(people["c"], "", "gold", early)
    _change(people["c"], "gold", "", TODAY)
    _change(people["e"], "", "core", TODAY)
    _change(people["s"], "", "gold", early)
    survivor = people["b"]
    merged = new_customer(manager=None, aum="999999", tier="gold")
    TierChange.objects.create(
        customer=merged, from_tier="", to_tier="gold", effective_date=early, source="upgrade"
    )
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    vip_register(customer=people["a"], by=users["demo_bm"], benefits="lounge")
    return people


def _user(username: str):
    from accounts.models import User

    return User.objects.get(username=username)


def _shown(client, password, username: str) -> dict:
    """What the user's book, home widget and report show, as comparable values."""
    client.logout()
    log_in(client, username, password)
    shown: dict = {}
    page = client.get("/vip/my/")
    assert page.status_code == 200
    book = page.context["book"]
    shown["kept"] = {"book": book.as_of is not None}
    shown["book"] = (
        sorted((t["code"], t["count"], t["aum"]) for t in book.tiers),
        book.total,
        book.major_floor,
    )
    figures = widgets.get("my_customers").context(_user(username), TODAY)
    shown["kept"]["home"] = figures["as_of"] is not None
    shown["home"] = (figures["count"], figures["aum"])
    months = {"month_from": LAST_MONTH.strftime("%Y-%m"), "month_to": TODAY.strftime("%Y-%m")}
    since = {"start": (LAST_MONTH - datetime.timedelta(days=60)).isoformat()}
    for label, asked in (
        ("report", months),
        ("report this month", {**months, "month_from": months["month_to"]}),
        ("report since two months", {**months, **since}),
    ):
        report = client.get("/vip/reports/", asked)
        if report.status_code == 403:
            continue
        by_branch, matrix, won_lost = (report.context[part] for part in ("by_branch", "matrix", "won_lost"))
        shown["kept"][label] = (
            by_branch.as_of is not None,
            matrix.as_of is not None,
            won_lost.as_of is not None,
        )
        shown[label] = (
            [
                (
                    r["branch"].code,
                    [(c["n"], c["aum"]) for c in r["cells"]],
                    r["n"],
                    r["aum"],
                    r["registered"],
                )
                for r in by_branch.rows
            ],
            [c["code"] for c in by_branch.levels],
            matrix.codes,
            matrix.cells,
            (won_lost.registered, won_lost.liquidated, won_lost.entered, won_lost.left),
            [row.pk for row in won_lost.rows],
        )
    return shown


def _kept_and_live(client, password, username: str) -> tuple[dict, dict]:
    """The pages from the kept figures, then counting the live tables (the build
    hidden in a savepoint rolled back)."""
    assert FigureBuild.objects.exists()
    kept = _shown(client, password, username)
    sid = transaction.savepoint()
    FigureBuild.objects.all().delete()
    live = _shown(client, password, username)
    transaction.savepoint_rollback(sid)
    # each part of the pages read the figures, then the live tables
    assert all(v is True or v == (True, True, True) for v in kept.pop("kept").values()), username
    assert not any(v is True or isinstance(v, tuple) and any(v) for v in live.pop("kept").values()), username
    return kept, live


USERS = ("demo_cm1", "demo_cm2", "demo_bh", "demo_bm")


class TestEqualToTheLiveCounts:
    def test_after_a_build(self, client, users, world, demo_password):
        figures_rebuild()
        for username in USERS:
            kept, live = _kept_and_live(client, demo_password, username)
            assert kept == live, username
        # the figures say something: the branch head's report counts Haidian's VIPs only
        kept, _live = _kept_and_live(client, demo_password, "demo_bh")
        branches = [row[0] for row in kept["report"][0]]
        assert "12000" not in branches and "12100" not in branches
        assert kept["home"][0] == 6  # Haidian: a, b, c, d, e and the pool customer (not the merged one)

    def test_after_assignments_tier_and_status_changes_without_a_build(
        self, client, users, world, demo_password, new_customer
    ):
        figures_rebuild()
        built = FigureBuild.objects.get().built_at
        bh, bm = users["demo_bh"], users["demo_bm"]
        customer_assign(customer=world["pool"], manager=users["demo_cm2"], by=bh, reason="new account")
        transfer = transfer_request(
            customer=world["b"], to_manager=users["demo_cm2"], by=users["demo_cm1"], reason="moves"
        )
        transfer_approve(transfer=transfer, by=bh)
        customers_recall(customers=[world["d"]], by=bh, reason="left the bank")
        tier_override_set(
            customer=world["e"],
            tier="growth",
            reason="board decision",
            expires_on=TODAY + datetime.timedelta(days=30),
            by=bm,
        )
        tier_override_set(
            customer=world["s"],
            tier="",
            reason="complaint",
            expires_on=TODAY + datetime.timedelta(days=30),
            by=bm,
        )
        vip_register(customer=world["e"], by=bm, benefits="lounge")
        assert FigureBuild.objects.get().built_at == built  # followed, not built again
        for username in USERS:
            kept, live = _kept_and_live(client, demo_password, username)
            assert kept == live, username
        assert BookFigure.objects.filter(manager=users["demo_cm2"]).exists()

    def test_a_recall_of_a_whole_book_beyond_the_follow_limit_builds_again(
        self, client, users, world, demo_password, monkeypatch
    ):
        from vip.services import figures as kept_figures

        figures_rebuild()
        monkeypatch.setattr(kept_figures, "FOLLOW_AT_MOST", 1)
        customers_recall(customers=[world["a"], world["c"]], by=users["demo_bh"], reason="manager left")
        for username in ("demo_cm1", "demo_bh"):
            kept, live = _kept_and_live(client, demo_password, username)
            assert kept == live, username

    def test_what_no_service_follows_waits_for_the_next_build(self, client, users, world, demo_password):
        figures_rebuild()
        Customer.objects.filter(pk=world["c"].pk).update(aum=5_000_000)  # the next load's balances
        kept, live = _kept_and_live(client, demo_password, "demo_cm1")
        assert kept["home"] != live["home"]  # as of the build, which the pages say
        call_command("vip_figures", stdout=io.StringIO())
        kept, live = _kept_and_live(client, demo_password, "demo_cm1")
        assert kept == live


def test_a_book_smaller_than_its_figures_still_shows_its_major_customers(client, users, world, demo_password):
    # given figures built, then the book shrinks where no service follows (merges);
    # major customers: the top half (of 4 by the figures: the second largest)
    TierPolicy.objects.filter(pk=1).update(major_share_pct=50)
    figures_rebuild()
    for key in ("a", "b", "c"):
        Customer.objects.filter(pk=world[key].pk).update(merged_into=world["e"])
    log_in(client, "demo_cm1", demo_password)
    # when the book is shown: the figures say 4, one customer is left
    page = client.get("/vip/my/")
    # then the major customers' floor is read from the book itself
    assert page.status_code == 200
    assert page.context["book"].major_floor == world["d"].aum


class TestPages:
    def test_the_pages_say_as_of_when_and_read_live_before_the_first_build(
        self, client, users, world, demo_password
    ):
        log_in(client, "demo_bm", demo_password)
        page = client.get("/vip/reports/").content.decode()
        assert 'data-testid="report-as-of"' not in page and 'data-testid="report-live"' in page
        figures_rebuild()
        page = client.get("/vip/reports/").content.decode()
        assert (
            'data-testid="report-as-of"' in page
            and FigureBuild.objects.get().business_date.strftime("%Y-%m-%d") in page
        )
        assert 'data-testid="report-live"' not in page
        client.logout()
        log_in(client, "demo_cm1", demo_password)
        assert 'data-testid="book-as-of"' in client.get("/vip/my/").content.decode()
        assert 'data-testid="my-customers-as-of"' in client.get("/").content.decode()

    def test_query_counts_are_pinned(
        self, client, users, world, demo_password, django_assert_max_num_queries
    ):
        from tests.customers.conftest import search_settings_statements

        figures_rebuild()
        log_in(client, "demo_cm1", demo_password)
        with django_assert_max_num_queries(20 + search_settings_statements()):
            assert client.get("/vip/my/").status_code == 200
        with django_assert_max_num_queries(19):
            assert client.get("/").status_code == 200
        client.logout()
        log_in(client, "demo_bm", demo_password)
        with django_assert_max_num_queries(28):
            assert client.get("/vip/reports/").status_code == 200
        client.logout()
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(29):
            assert client.get("/vip/reports/").status_code == 200

    def test_a_client_manager_sees_only_their_own_book_in_the_figures(self, users, world):
        from vip.selectors.figures import book_tiers, scope_book

        figures_rebuild()
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        assert book_tiers(cm1, cm2) is None  # another's book: not from the figures (and refused by the page)
        assert scope_book(cm1)["count"] == 4  # a, b, c, d (d homed at another outlet)
        assert scope_book(users["demo_cm3"])["count"] == 1


def test_the_month_figures_follow_the_history(users, world):
    figures_rebuild()
    last = {
        (row.home_branch.code, row.tier): row.customers
        for row in TierMonthFigure.objects.filter(month=LAST_MONTH)
    }
    # a platinum from last month, b potential, c gold (till today), s gold in Shanghai; the merged record not
    assert last == {
        ("11101", "platinum"): 1,
        ("11101", "potential"): 1,
        ("11101", "gold"): 1,
        ("12101", "gold"): 1,
    }


def test_the_nightly_chain_builds_the_figures_after_the_tiers():
    from crm_portal.tasks import POST_LOAD_STEPS, refresh_vip_figures

    names = [name for name, _step in POST_LOAD_STEPS]
    assert ("vip_figures", refresh_vip_figures) in POST_LOAD_STEPS
    assert names.index("aum") < names.index("vip_tiers") < names.index("vip_figures")


# --- the tier migration from the kept figures (TierMigrationFigure) ---------------------------

TWO_MONTHS_AGO = (LAST_MONTH - datetime.timedelta(days=1)).replace(day=1)
MONTH = TODAY.replace(day=1)
PAIRS = [
    (TWO_MONTHS_AGO, LAST_MONTH),
    (TWO_MONTHS_AGO, MONTH),
    (LAST_MONTH, MONTH),
    (MONTH, MONTH),
    (LAST_MONTH, LAST_MONTH),
]


def _migrations(username: str) -> dict:
    """The migration matrix between each pair of months as the user sees it, each
    with whether the kept migrations were read (not the history per request)."""
    from vip.selectors import figures as kept_figures
    from vip.selectors import migration_matrix

    user = _user(username)
    build = kept_figures.figures_build()
    shown = {}
    for month_from, month_to in PAIRS:
        matrix = migration_matrix(user, month_from, month_to)
        kept = kept_figures.moved_between(user, month_from, month_to, build) is not None
        shown[(month_from, month_to)] = (matrix.codes, matrix.cells, matrix.as_of is not None and kept)
    return shown


def _migrations_kept_and_live(username: str) -> tuple[dict, dict]:
    kept = _migrations(username)
    sid = transaction.savepoint()
    FigureBuild.objects.all().delete()
    live = _migrations(username)
    transaction.savepoint_rollback(sid)
    assert all(read for _codes, _cells, read in kept.values()), username
    assert not any(read for _codes, _cells, read in live.values()), username
    return (
        {pair: cells for pair, (codes, cells, _read) in kept.items()},
        {pair: cells for pair, (codes, cells, _read) in live.items()},
    )


def _migration_rows() -> list[tuple]:
    """The kept migrations and won-and-lost days, as comparable rows."""
    return sorted(
        TierMigrationFigure.objects.values_list(
            "month_from", "month_to", "home_branch__code", "from_tier", "to_tier", "customers"
        )
    ) + sorted(
        WonLostDayFigure.objects.values_list(
            "day", "home_branch__code", "registered", "liquidated", "entered", "dropped"
        )
    )


class TestTheTierMigration:
    def test_every_pair_of_months_equals_the_live_count(self, users, world):
        # given a history over three months (gold two months ago, platinum last
        # month, out of the tiers and in today) and the night's figures
        figures_rebuild()
        for username in ("demo_bh", "demo_bm"):
            # when the matrix is read from the kept migrations, then counted live
            kept, live = _migrations_kept_and_live(username)
            # then each pair of months shows the same figures
            assert kept == live, username
        # and they say something: from two months ago to this month, the head
        # office sees a gold -> platinum, c gold -> none and e none -> core
        matrix = _migrations("demo_bm")[(TWO_MONTHS_AGO, MONTH)]
        codes, cells, _read = matrix
        moved = {
            (codes[i], codes[j]): n for i, row in enumerate(cells) for j, n in enumerate(row) if n and i != j
        }
        assert moved == {("gold", "platinum"): 1, ("gold", ""): 1, ("", "core"): 1}

    def test_a_branch_head_reads_only_their_branches_rows(self, users, world):
        figures_rebuild()
        shanghai = TierMigrationFigure.objects.filter(home_branch__code__startswith="12")
        assert shanghai.filter(month_from__lt=TWO_MONTHS_AGO).exists()  # s came into gold before
        assert not shanghai.filter(month_from__gte=TWO_MONTHS_AGO).exists()  # and moved nowhere since
        from vip.selectors.figures import moved_between

        build = FigureBuild.objects.get()
        head_office = moved_between(_user("demo_bm"), TWO_MONTHS_AGO, MONTH, build)
        branch_head = moved_between(_user("demo_bh"), TWO_MONTHS_AGO, MONTH, build)
        assert head_office == branch_head == {("gold", "platinum"): 1, ("gold", ""): 1, ("", "core"): 1}
        # a Shanghai customer moved: the head office counts them, Haidian's head not
        _change(world["s"], "gold", "platinum", TODAY)
        figures_rebuild()
        build = FigureBuild.objects.get()
        assert moved_between(_user("demo_bm"), LAST_MONTH, MONTH, build)[("gold", "platinum")] == 1
        assert ("gold", "platinum") not in moved_between(_user("demo_bh"), LAST_MONTH, MONTH, build)

    def test_a_tier_change_by_a_service_is_followed_without_a_build(self, users, world):
        figures_rebuild()
        built = FigureBuild.objects.get().built_at
        tier_override_set(
            customer=world["b"],
            tier="growth",
            reason="board decision",
            expires_on=TODAY + datetime.timedelta(days=30),
            by=users["demo_bm"],
        )
        assert FigureBuild.objects.get().built_at == built
        for username in ("demo_bh", "demo_bm"):
            kept, live = _migrations_kept_and_live(username)
            assert kept == live, username
        # b, potential since before last month, is counted as moved to growth
        codes, cells, _read = _migrations("demo_bm")[(LAST_MONTH, MONTH)]
        assert cells[codes.index("potential")][codes.index("growth")] == 1

    def test_the_night_run_again_after_a_tier_change_builds_the_same(
        self, client, users, world, demo_password
    ):
        from crm_portal.tasks import refresh_vip_figures

        # given the night's figures, then the next night's evaluation changes a tier
        refresh_vip_figures([TODAY])
        before = _migration_rows()
        _change(world["b"], "potential", "gold", TODAY)
        _change(world["pool"], "", "potential", TODAY)  # came into a tier
        # when the night's step runs, and runs again
        refresh_vip_figures([TODAY])
        once = _migration_rows()
        refresh_vip_figures([TODAY])
        # then the second run writes what the first did, and both equal the live count
        assert _migration_rows() == once != before
        for username in ("demo_bh", "demo_bm"):
            kept, live = _migrations_kept_and_live(username)
            assert kept == live, username
            kept, live = _kept_and_live(client, demo_password, username)
            assert kept == live, username

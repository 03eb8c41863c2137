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
from vip.models import BookFigure, FigureBuild, TierChange, TierMonthFigure, TierPolicy
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
    for label, asked in (
        ("report", months),
        ("report this month", {**months, "month_from": months["month_to"]}),
    ):
        report = client.get("/vip/reports/", asked)
        if report.status_code == 403:
            continue
        by_branch, matrix = report.context["by_branch"], report.context["matrix"]
        shown["kept"][label] = (by_branch.as_of is not None, matrix.as_of is not None)
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
    assert all(v is True or v == (True, True) for v in kept.pop("kept").values()), username
    assert not any(v is True or v == (True, True) for v in live.pop("kept").values()), username
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
        assert 'data-testid="report-as-of"' not in client.get("/vip/reports/").content.decode()
        figures_rebuild()
        page = client.get("/vip/reports/").content.decode()
        assert (
            'data-testid="report-as-of"' in page
            and FigureBuild.objects.get().business_date.strftime("%Y-%m-%d") in page
        )
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

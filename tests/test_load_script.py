"""The load test (bench/load.py) at a tiny scale, end to end: the reshape of a seeded
bank keeps its books whole and consistent, virtual users log in through the real
form and use every page of their role against a live server, and a wrong password
shows as login errors rather than as a clean run."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.db.models import Max, Min

from accounts.models import Branch, BranchLevel, User
from accounts.roles import Role
from bench.load import cpu_reader, pick_users, steady_verdict
from bench.load_driver import HEAD_STEPS, MANAGER_STEPS, format_result, run_load
from bench.load_reshape import MANAGER_USERNAME, consistency, rebuild, reshape, summary, vacuum_filled
from customers.models import Customer, CustomerAssignment
from demo.seeding import seed_customers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the reshape is PostgreSQL's set-based SQL"),
]

PASSWORD = "Load-Test-2026!"
CUSTOMERS = 400


def reshaped_bank(*rebuild_steps: str) -> dict[str, int]:
    """The demo bank with a few hundred customers, reshaped at a tiny scale; returns
    the consistency figures from before the reshape."""
    seed_customers(count=CUSTOMERS, stdout=io.StringIO())
    before = consistency()
    reshape(
        managers=20,
        outlets=10,
        pool=2,
        pool_size=40,
        book_min=10,
        book_max=40,
        password=PASSWORD,
        log=lambda _text: None,
    )
    rebuild(rebuild_steps, log=lambda _text: None)
    return before


@pytest.mark.django_db
def test_the_reshape_keeps_one_manager_of_record_per_customer_and_counts_everyone_once(org, demo_users):
    # the steps of the nightly chain the pages read run on the reshaped bank
    before = reshaped_bank("vip_tiers", "vip_figures", "alerts", "performance")
    assert before["customers"] == CUSTOMERS and before["unassigned"] == 0
    checks = consistency()
    assert checks == {
        "customers": CUSTOMERS,
        "unassigned": 0,
        "customers_with_two_open_primaries": 0,
        "manager_of_record_not_the_open_assignment": 0,
        "open_assignment_without_manager_of_record": 0,
        "customers_in_books": CUSTOMERS,
        "home_branch_not_the_managers": 0,
    }
    open_primaries = CustomerAssignment.objects.filter(end_date__isnull=True, role="primary")
    assert open_primaries.count() == CUSTOMERS
    assert open_primaries.values("customer").distinct().count() == CUSTOMERS

    counts = summary()
    # 20 client managers in all: the 8 demo managers kept, 10 added, 2 pools
    assert counts["client_managers"] == 18 and counts["pool_managers"] == 2
    assert counts["outlets"] == 10
    assert counts["pool_sizes"] == [40, 40]
    assert 10 <= counts["book_min"] <= counts["book_p50"] <= counts["book_max"] <= 40
    # the pools hold the long tail: none of their customers has more AUM than any in a book
    pooled = Customer.objects.filter(primary_manager__username__startswith="pool")
    assert pooled.count() == 80
    in_books = Customer.objects.exclude(primary_manager__username__startswith="pool")
    assert pooled.aggregate(m=Max("aum"))["m"] <= in_books.aggregate(m=Min("aum"))["m"]
    # every outlet, sub-branch and branch has a head
    headed = set(User.objects.filter(groups__name=Role.BRANCH_HEAD).values_list("branch_id", flat=True))
    assert (
        set(Branch.objects.filter(level__gt=BranchLevel.HEAD_OFFICE).values_list("pk", flat=True)) <= headed
    )
    # one hash for every new user, and it is the password's
    hashes = set(User.objects.filter(username__regex=MANAGER_USERNAME).values_list("password", flat=True))
    assert len(hashes) == 1 and check_password(PASSWORD, hashes.pop())


@pytest.mark.django_db(transaction=True)
def test_virtual_users_use_every_page_of_their_role_and_a_wrong_password_shows(org, demo_users, live_server):
    reshaped_bank("vip_figures")
    users = pick_users(2, head_share=0.5, seed=7)
    assert sorted(u.role for u in users) == ["head", "manager"]
    assert all(u.customers for u in users)
    result = run_load(
        live_server.url,
        users,
        password=PASSWORD,
        think=(0.05, 0.15),
        duration=4,
        ramp=0,
        log=lambda _text: None,
        cpu=cpu_reader(None),
    )
    pages = {page for page, _weight in (*MANAGER_STEPS, *HEAD_STEPS)}
    assert pages <= set(result.pages), format_result(result)
    assert {"home (lazy)", "book (lazy)"} <= set(result.pages)
    for page, figures in result.pages.items():
        assert figures.requests > 0 and figures.errors == 0, (page, figures.examples)
    # the logins are counted apart from the pages: one each, none failed
    assert "login" not in result.pages
    assert result.logins["login"].requests == 2 and result.logins["login"].errors == 0
    assert result.throughput > 0
    report = "\n".join(format_result(result))
    assert "customer 360" in report and "logins (apart from the steady state):" in report
    # where the CPU went in the steady state: this process (here the server's thread
    # too) spent some on every request, and the machine at least as much
    assert set(result.cpu_ms) == {"database", "driver", "machine"}
    assert result.cpu_ms["driver"] > 0 and result.cpu_ms["machine"] > 0 and result.cpu_ms["database"] >= 0
    assert 0 < result.busy_percent <= 100.5
    assert "CPU ms a request: database" in report

    # the same users with a wrong password: login errors, no page, a failed verdict
    wrong = run_load(
        live_server.url,
        users,
        password="not-the-password",
        think=(0.05, 0.1),
        duration=1.5,
        ramp=0,
        login_attempts=2,
        log=lambda _text: None,
    )
    logins = wrong.logins["login"]
    assert logins.requests >= 2 and logins.errors == logins.requests
    assert "wrong password" in logins.examples[0]
    assert wrong.overall.requests == 0
    passed, verdict = steady_verdict(wrong)
    assert not passed and "login errors" in verdict and verdict.startswith("VERDICT FAIL")


@pytest.mark.django_db(transaction=True)
def test_the_tables_the_seed_filled_are_vacuumed_once(org, demo_users):
    seed_customers(count=CUSTOMERS, stdout=io.StringIO())
    filled = vacuum_filled()
    assert filled, "the seed filled no table past the threshold"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND last_vacuum IS NOT NULL",
            [filled],
        )
        assert sorted(name for (name,) in cursor.fetchall()) == sorted(filled)
    # nothing inserted since: nothing to vacuum again
    assert vacuum_filled() == []


@pytest.mark.django_db
def test_no_vacuum_inside_a_transaction(org):
    assert vacuum_filled() == []

"""The incremental marketing profile (PostgreSQL): night after night, the profile
derived from last night's equals, row by row and score by score, a full rebuild
of the same date; a reloaded older date, a merge since the last build or another
window fall back to the full rebuild; SQLite always rebuilds in full."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, CustomerMonthlyAum, TransactionSummary
from marketing.models import MarketingProfile
from marketing.rfm import STATE_TABLE, month_back, profile_refresh

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the incremental profile is PostgreSQL's"
)

WINDOW = 3  # days: a day leaves the window every night
CHANNELS = ("MOBILE", "ATM", "COUNTER", "ONLINE")
D = datetime.date
HISTORY = [D(2026, 6, 1), D(2026, 6, 2), D(2026, 6, 3)]  # Mon-Wed, before the first build
# The nights after the first build (as of 3 June): Thursday, Friday, then the weekend
# gap (Monday), then Tuesday and Wednesday loaded together, then Thursday.
NIGHTS = [
    [D(2026, 6, 4)],
    [D(2026, 6, 5)],
    [D(2026, 6, 8)],
    [D(2026, 6, 9), D(2026, 6, 10)],
    [D(2026, 6, 11)],
]


def profile_rows() -> list[dict]:
    return list(MarketingProfile.objects.order_by("customer_id").values())


def refresh(as_of: datetime.date, **kwargs) -> tuple[int, bool]:
    """The refresh and whether it derived the profile from last night's."""
    with CaptureQueriesContext(connection) as queries:
        rows = profile_refresh(as_of, window_days=WINDOW, **kwargs)
    return rows, any(STATE_TABLE in q["sql"] for q in queries.captured_queries)


def full_rows(as_of: datetime.date) -> list[dict]:
    """A full rebuild of `as_of` into the table, read back."""
    _, incremental = refresh(as_of)
    assert not incremental
    return profile_rows()


def txn(customer: Customer, day: datetime.date, channel: str, count: int, amount: str) -> None:
    TransactionSummary.objects.create(
        business_date=day, customer=customer, channel=channel, txn_count=count, txn_amount=Decimal(amount)
    )


@pytest.fixture
def book(make_customer):
    """Customers of every kind, and the summaries of each business date (loaded
    night by night by the tests)."""
    rng = random.Random(20260601)
    c = {name: make_customer() for name in ("daily", "leaver", "silent", "zero", "back", "tie1", "tie2")}
    c["merged_before"] = make_customer()
    c["others"] = [make_customer() for _ in range(14)]
    Customer.objects.filter(pk=c["merged_before"].pk).update(merged_into=c["daily"])
    days: dict[datetime.date, list[tuple]] = {}

    def on(day, customer, channel, count, amount):
        days.setdefault(day, []).append((customer, day, channel, count, amount))

    for day in [*HISTORY, *(d for night in NIGHTS for d in night)]:
        on(day, c["daily"], "MOBILE", 3, "120.35")
        on(day, c["daily"], "ATM", 1, "500.00")
        on(day, c["tie1"], "COUNTER", 2, "10.50")  # the same recency, frequency and amount
        on(day, c["tie2"], "COUNTER", 2, "10.50")
        # a merged record's summaries (loaded after its merge) rank nobody
        on(day, c["merged_before"], "ONLINE", 9, "99999.99")
        for other in c["others"]:
            if rng.random() < 0.6:
                for channel in rng.sample(CHANNELS, rng.randint(1, 3)):
                    cents = rng.randint(1, 5_000_00)
                    on(day, other, channel, rng.randint(1, 4), f"{cents // 100}.{cents % 100:02d}")
    on(D(2026, 6, 1), c["leaver"], "MOBILE", 5, "1000.01")  # leaves the window on 5 June
    on(D(2026, 6, 2), c["leaver"], "ATM", 1, "0.99")
    on(D(2026, 6, 2), c["zero"], "ONLINE", 0, "0.00")  # a row without transactions
    on(D(2026, 6, 8), c["zero"], "ONLINE", 0, "0.00")
    on(D(2026, 6, 1), c["back"], "MOBILE", 1, "5.00")  # gone from the window, back on 9 June
    on(D(2026, 6, 9), c["back"], "MOBILE", 1, "5.00")
    month = D(2026, 6, 1)
    for i, customer in enumerate([c["daily"], c["leaver"], c["silent"], *c["others"][:3]]):
        for back in (0, 1, 3, 6, 12):
            if (i + back) % 3:
                CustomerMonthlyAum.objects.create(
                    customer=customer,
                    month=month_back(month, back),
                    avg_aum=Decimal(f"{1000 * (i + 1) + back}.25"),
                    end_aum=0,
                    avg_liabilities=0,
                    days=30,
                )
    c["days"] = days
    return c


def load(book, *days: datetime.date) -> None:
    for day in days:
        for customer, *row in book["days"].pop(day, []):
            txn(customer, *row)


def first_build(book) -> None:
    load(book, *HISTORY)
    profile_refresh(HISTORY[-1], window_days=WINDOW)


@postgresql_only
def test_nights_equal_the_full_rebuild(book, make_customer):
    first_build(book)
    assert MarketingProfile.objects.count() == 7 + 14  # daily..tie2 and the others, not the merged
    for night, dates in enumerate(NIGHTS):
        if night == 2:
            # a customer new since the last build, transacting from Monday
            book["new"] = make_customer()
            book["days"][D(2026, 6, 8)].append((book["new"], D(2026, 6, 8), "ATM", 7, "70.07"))
            book["days"][D(2026, 6, 10)].append((book["new"], D(2026, 6, 10), "MOBILE", 1, "0.01"))
        load(book, *dates)
        as_of = max(dates)
        rows, incremental = refresh(as_of, loaded=dates)
        assert incremental, as_of
        derived = profile_rows()
        assert rows == len(derived)
        assert derived == full_rows(as_of), as_of
        by_customer = {row["customer_id"]: row for row in derived}
        assert {row["as_of"] for row in derived} == {as_of}
        leaver = by_customer[book["leaver"].pk]
        if as_of >= D(2026, 6, 5):  # its last day, 2 June, has left the window
            assert leaver["recency_score"] is None
            assert (leaver["frequency"], leaver["monetary"]) == (0, Decimal("0"))
            assert leaver["last_txn_date"] == D(2026, 6, 2)
        tie1, tie2 = by_customer[book["tie1"].pk], by_customer[book["tie2"].pk]
        assert {k: v for k, v in tie1.items() if k != "customer_id"} == {
            k: v for k, v in tie2.items() if k != "customer_id"
        }
        silent = by_customer[book["silent"].pk]
        assert silent["last_txn_date"] is None and silent["rfm_score"] is None
        zero = by_customer[book["zero"].pk]
        if as_of in (D(2026, 6, 8), D(2026, 6, 10)):  # a row of no transactions is in the window
            assert zero["recency_score"] is not None and zero["frequency"] == 0
        if as_of == D(2026, 6, 11):
            assert zero["recency_score"] is None
            new = by_customer[book["new"].pk]
            assert (new["frequency"], new["monetary"]) == (1, Decimal("0.01"))
            assert new["last_txn_date"] == D(2026, 6, 10)
        back = by_customer[book["back"].pk]
        assert (back["recency_score"] is not None) == (D(2026, 6, 9) <= as_of <= D(2026, 6, 11))
        assert book["merged_before"].pk not in by_customer
    # every kind of figure took part
    final = profile_rows()
    assert {row["recency_score"] for row in final} >= {1, 5}
    assert any(row["aum_12m"] for row in final) and any(row["aum_now"] for row in final)


@postgresql_only
def test_retired_history_is_forgotten_as_by_the_full_rebuild(book, make_customer):
    once = make_customer()
    txn(once, D(2026, 5, 25), "MOBILE", 1, "1.00")  # its only transaction
    first_build(book)
    assert MarketingProfile.objects.get(customer=once).last_txn_date == D(2026, 5, 25)
    # the history before the window retired (as `customers.partitions` drops months)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_transactionsummary WHERE business_date < %s", [D(2026, 6, 1)])
    load(book, D(2026, 6, 4))
    _, incremental = refresh(D(2026, 6, 4), loaded=[D(2026, 6, 4)])
    assert incremental
    derived = profile_rows()
    assert derived == full_rows(D(2026, 6, 4))
    assert MarketingProfile.objects.get(customer=once).last_txn_date is None
    # history retired into the window of the profile (4 June: 2 to 4 June): the
    # days leaving it are gone, the night is a full rebuild
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_transactionsummary WHERE business_date < %s", [D(2026, 6, 3)])
    load(book, D(2026, 6, 5))
    _, incremental = refresh(D(2026, 6, 5), loaded=[D(2026, 6, 5)])
    assert not incremental
    assert profile_rows() == full_rows(D(2026, 6, 5))


@postgresql_only
def test_a_reloaded_older_date_rebuilds_in_full(book):
    first_build(book)
    # 2 June reloaded with other figures (still in the window), then 4 June loaded
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_transactionsummary SET txn_count = 30, txn_amount = 123456.78"
            " WHERE business_date = %s AND customer_id = %s AND channel = 'MOBILE'",
            [D(2026, 6, 2), book["daily"].pk],
        )
    load(book, D(2026, 6, 4))
    _, incremental = refresh(D(2026, 6, 4), loaded=[D(2026, 6, 2), D(2026, 6, 4)])
    assert not incremental
    rebuilt = profile_rows()
    assert rebuilt == full_rows(D(2026, 6, 4))
    daily = MarketingProfile.objects.get(customer=book["daily"])
    assert daily.frequency == 30 + 1 + 2 * 4  # 2 June as reloaded, 3 and 4 June as loaded


@postgresql_only
def test_a_merge_since_the_last_build_rebuilds_in_full(book):
    first_build(book)
    survivor, merged = book["tie1"], book["tie2"]
    load(book, D(2026, 6, 4))
    # the merge folds the merged record's summaries into the survivor's
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_transactionsummary SET customer_id = %s, channel = 'ATM' WHERE customer_id = %s",
            [survivor.pk, merged.pk],
        )
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    _, incremental = refresh(D(2026, 6, 4), loaded=[D(2026, 6, 4)])
    assert not incremental
    assert profile_rows() == full_rows(D(2026, 6, 4))
    assert not MarketingProfile.objects.filter(customer=merged).exists()
    folded = MarketingProfile.objects.get(customer=survivor)
    assert (folded.frequency, folded.monetary) == (2 * 2 * 3, Decimal("10.50") * 2 * 3)


@postgresql_only
def test_other_cases_rebuild_in_full(book):
    first_build(book)
    load(book, D(2026, 6, 4))
    # no loaded dates given (the manual command, the demo, the Celery task)
    assert refresh(D(2026, 6, 4))[1] is False
    # the same date again
    assert refresh(D(2026, 6, 4), loaded=[D(2026, 6, 4)])[1] is False
    # another window than the profile's
    load(book, D(2026, 6, 5))
    with CaptureQueriesContext(connection) as queries:
        profile_refresh(D(2026, 6, 5), window_days=WINDOW - 1, loaded=[D(2026, 6, 5)])
    assert not any(STATE_TABLE in q["sql"] for q in queries.captured_queries)
    narrower = profile_rows()
    profile_refresh(D(2026, 6, 5), window_days=WINDOW - 1)
    assert narrower == profile_rows()
    # an empty profile
    MarketingProfile.objects.all().delete()
    load(book, D(2026, 6, 8))
    assert refresh(D(2026, 6, 8), loaded=[D(2026, 6, 8)])[1] is False
    assert MarketingProfile.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the embedded SQLite default's answer")
def test_sqlite_always_rebuilds_in_full(book):
    first_build(book)
    for dates in NIGHTS[:3]:
        load(book, *dates)
        _, incremental = refresh(max(dates), loaded=dates)
        assert not incremental
        assert profile_rows() == full_rows(max(dates))

"""The analysis night's transaction counts carried from last night's rows
(`analysis.features.carried_window`, `TX_CARRIED`): the same rows as counting the
window's summaries again, and a count from scratch whenever what last night
counted has changed since (an old date loaded again, a merge, history retired
into the window, another window)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.features import RECENT_DAYS, Carried, carried_window
from analysis.models import CustomerAnalysis, TransactionWindow
from analysis.scoring import score_customers
from customers.choices import BatchStatus
from customers.models import BatchLoad, CustomerMerge, TransactionSummary
from tests.analysis.score_helpers import txns
from tests.customers.factories import CustomerFactory

D = datetime.date
P = D(2026, 11, 17)  # last night's business date
AS_OF = D(2026, 11, 20)  # tonight's: three days later
DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the carried counts are PostgreSQL's"
)
# what each row is compared on: the counts and everything computed from them
COMPARED = ("txn_recent", "txn_before", "dormant_days", "txn_change", "push_txn_change", "churn_probability")


def rows() -> dict[int, tuple]:
    return {
        r[0]: r[1:]
        for r in CustomerAnalysis.objects.order_by("customer_id").values_list("customer_id", *COMPARED)
    }


@pytest.fixture
def history(org):
    """Last night's rows as of P over a year of summaries, then tonight's days."""
    branch = org["11101"]
    c = {name: CustomerFactory(home_branch=branch) for name in ("busy", "dormant", "never", "before", "old")}
    txns(c["old"], P - 400 * DAY, 1)  # the oldest summary kept
    txns(c["old"], P - 250 * DAY, 1)
    txns(c["busy"], P - 178 * DAY, 7)  # leaves the window by tonight
    txns(c["busy"], P - 88 * DAY, 5)  # moves from the recent half to the one before
    txns(c["busy"], P - 10 * DAY, 3)  # stays recent
    txns(c["dormant"], P - 300 * DAY, 2)
    txns(c["before"], P - 120 * DAY, 4)
    score_customers(P)
    txns(c["busy"], AS_OF - DAY, 2)  # tonight's days
    txns(c["before"], AS_OF, 6)
    new = CustomerFactory(home_branch=branch)  # a customer new since last night
    txns(new, P - 50 * DAY, 9)
    txns(new, AS_OF, 1)
    c["new"] = new
    return c


def score_from_scratch() -> dict[int, tuple]:
    TransactionWindow.objects.all().delete()
    assert carried_window(AS_OF) is None
    score_customers(AS_OF)
    return rows()


@postgresql_only
def test_tonights_counts_carried_from_last_nights_rows_equal_counting_again(history):
    assert TransactionWindow.objects.get().as_of == P
    assert carried_window(AS_OF) == Carried(as_of=P, oldest=P - 400 * DAY)
    with CaptureQueriesContext(connection) as queries:
        score_customers(AS_OF)
    features = next(
        q["sql"] for q in queries if "analysis_score_features" in q["sql"] and "INSERT" in q["sql"]
    )
    assert "CROSS JOIN LATERAL" in features  # the carried counts, not the window's summaries
    carried = rows()

    busy = CustomerAnalysis.objects.get(customer=history["busy"])
    assert (busy.txn_recent, busy.txn_before, busy.dormant_days) == (3 + 2, 5, 1)
    assert busy.txn_change is not None and float(busy.txn_change) == 0.0  # 5 against 5
    before = CustomerAnalysis.objects.get(customer=history["before"])
    assert (before.txn_recent, before.txn_before, before.dormant_days) == (6, 4, 0)
    dormant = CustomerAnalysis.objects.get(customer=history["dormant"])
    assert (dormant.txn_recent, dormant.txn_before, dormant.dormant_days) == (0, 0, 303)
    never = CustomerAnalysis.objects.get(customer=history["never"])
    assert (never.txn_recent, never.txn_before, never.dormant_days) == (0, 0, None)
    new = CustomerAnalysis.objects.get(customer=history["new"])
    assert (new.txn_recent, new.txn_before, new.dormant_days) == (1 + 9, 0, 0)
    assert TransactionWindow.objects.get().as_of == AS_OF

    assert score_from_scratch() == carried


@postgresql_only
def test_a_last_transaction_in_retired_history_is_forgotten_as_counting_again_forgets_it(history):
    # the oldest months dropped since last night, the dormant customer's among them
    TransactionSummary.objects.filter(business_date__lt=P - 250 * DAY).delete()
    assert carried_window(AS_OF) == Carried(as_of=P, oldest=P - 250 * DAY)
    score_customers(AS_OF)
    carried = rows()
    assert CustomerAnalysis.objects.get(customer=history["dormant"]).dormant_days is None
    assert score_from_scratch() == carried


@postgresql_only
def test_an_old_date_loaded_again_since_counts_again(history):
    loaded = BatchLoad.objects.create(
        business_date=P - 100 * DAY,
        source="x",
        status=BatchStatus.LOADED,
        started_via="command",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    assert carried_window(AS_OF) is None
    # loaded before last night's rows were written: they counted it
    BatchLoad.objects.filter(pk=loaded.pk).update(
        started_at=timezone.now() - datetime.timedelta(days=3),
        finished_at=TransactionWindow.objects.get().written_at - datetime.timedelta(seconds=1),
    )
    assert carried_window(AS_OF) is not None
    # still loading (started, not finished)
    BatchLoad.objects.filter(pk=loaded.pk).update(finished_at=None, status=BatchStatus.RUNNING)
    assert carried_window(AS_OF) is None
    # tonight's own batch (a date after P) changes nothing they counted
    BatchLoad.objects.filter(pk=loaded.pk).update(business_date=AS_OF)
    assert carried_window(AS_OF) is not None


@postgresql_only
def test_a_merge_since_counts_again(history, make_user):
    CustomerMerge.objects.create(
        survivor=history["busy"],
        merged=history["before"],
        merged_by=make_user("merger"),
        reason="same person",
    )
    assert carried_window(AS_OF) is None


@postgresql_only
def test_history_younger_than_the_window_or_another_window_counts_again(history):
    TransactionSummary.objects.filter(business_date__lt=P - (2 * RECENT_DAYS - 2) * DAY).delete()
    assert carried_window(AS_OF) is None  # the days leaving the window may be gone
    txns(history["old"], P - (2 * RECENT_DAYS - 1) * DAY, 1)
    assert carried_window(AS_OF) is not None
    TransactionWindow.objects.update(recent_days=RECENT_DAYS + 1)
    assert carried_window(AS_OF) is None


@postgresql_only
def test_the_same_date_again_or_an_earlier_one_counts_again(history):
    assert carried_window(P) is None
    assert carried_window(P - DAY) is None


def test_rows_without_a_window_record_count_again(org):
    # no night has counted yet (or rows written before the counts were kept)
    txns(CustomerFactory(home_branch=org["11101"]), P, 1)
    assert carried_window(AS_OF) is None
    score_customers(P)
    window = TransactionWindow.objects.get()
    assert (window.as_of, window.recent_days) == (P, RECENT_DAYS)
    if connection.vendor != "postgresql":
        assert carried_window(AS_OF) is None  # SQLite always counts the window

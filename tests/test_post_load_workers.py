"""The steps after a load side by side (crm_portal.tasks.AFTER, POST_LOAD_WORKERS):
a step starts only after the steps it reads, two independent ones overlap, a
failed step stops nothing, a lost connection stops the chain, and the real chain on
two connections gives every step "ok" and marks the batch done."""

from __future__ import annotations

import datetime
import threading
import time
from importlib import import_module

import pytest
from django.apps import apps
from django.db import OperationalError, connection

from analysis.models import CustomerAnalysis
from crm_portal import tasks as portal_tasks
from customers.models import BatchLoad, CustomerDailyAum
from marketing.models import MarketingProfile
from tests.customers.ingest_helpers import DAY, batch, load

pytestmark = pytest.mark.django_db


class Recorder:
    """Steps that sleep and record when they ran, and on which thread."""

    def __init__(self) -> None:
        self.spans: dict[str, tuple[float, float]] = {}
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def step(self, name: str, seconds: float = 0.3, error: Exception | None = None):
        def run(dates: list[datetime.date]) -> None:
            started = time.monotonic()
            time.sleep(seconds)
            with self.lock:
                self.spans[name] = (started, time.monotonic())
                self.threads.add(threading.current_thread().name)
            if error is not None:
                raise error

        return name, run

    def overlap(self, a: str, b: str) -> bool:
        (a0, a1), (b0, b1) = self.spans[a], self.spans[b]
        return a0 < b1 and b0 < a1

    def before(self, a: str, b: str) -> bool:
        return self.spans[a][1] <= self.spans[b][0]


@pytest.fixture
def steps(monkeypatch, settings):
    """Two strands after a first step, joined by a last one."""
    settings.POST_LOAD_WORKERS = 2
    recorder = Recorder()

    def use(*chosen):
        monkeypatch.setattr(portal_tasks, "POST_LOAD_STEPS", chosen)
        monkeypatch.setattr(
            portal_tasks,
            "AFTER",
            {"first": (), "left": ("first",), "right": ("first",), "left2": ("left",), "right2": ("right",)},
        )

    return recorder, use


def test_independent_steps_overlap_and_each_waits_for_what_it_reads(steps):
    recorder, use = steps
    use(
        recorder.step("first"),
        recorder.step("left"),
        recorder.step("left2"),
        recorder.step("right"),
        recorder.step("right2"),
        recorder.step("last", 0.05),  # not in AFTER: follows every step before it
    )
    outcome = portal_tasks.run_post_load([DAY])
    assert list(outcome.items()) == [(n, "ok") for n in ("first", "left", "left2", "right", "right2", "last")]
    assert recorder.before("first", "left") and recorder.before("first", "right")
    assert recorder.before("left", "left2") and recorder.before("right", "right2")
    assert recorder.overlap("left", "right")
    for name in ("left2", "right2"):
        assert recorder.before(name, "last")
    assert len(recorder.threads) == 2  # never more than POST_LOAD_WORKERS at once


def test_one_worker_runs_them_in_order_on_the_calling_thread(steps, settings):
    recorder, use = steps
    settings.POST_LOAD_WORKERS = 1
    use(recorder.step("first", 0.05), recorder.step("left", 0.05), recorder.step("right", 0.05))
    assert portal_tasks.run_post_load([DAY]) == {"first": "ok", "left": "ok", "right": "ok"}
    assert recorder.before("left", "right")
    assert recorder.threads == {threading.current_thread().name}


def test_a_failed_step_stops_nothing_but_the_dates_stay_owed(steps, org, tmp_path):
    recorder, use = steps
    record = load(batch(tmp_path, customers=5).path, via="beat")
    BatchLoad.objects.filter(pk=record.pk).update(after_load_done_at=None)
    use(
        recorder.step("first", 0.05),
        recorder.step("left", 0.05, error=ValueError("a fault in its data")),
        recorder.step("left2", 0.05),
        recorder.step("right", 0.05),
    )
    outcome = portal_tasks.run_post_load([DAY])
    assert outcome == {"first": "ok", "left": "failed", "left2": "ok", "right": "ok"}
    record.refresh_from_db()
    assert record.after_load_done_at is None  # owed to the next nightly job


def test_a_lost_connection_starts_nothing_more_and_is_raised(steps):
    recorder, use = steps
    use(
        recorder.step("first", 0.05),
        recorder.step("left", 0.05, error=OperationalError("server closed the connection unexpectedly")),
        recorder.step("right", 0.4),  # running when the other strand lost its connection
        recorder.step("left2", 0.05),
        recorder.step("right2", 0.05),
    )
    with pytest.raises(OperationalError):
        portal_tasks.run_post_load([DAY])
    assert set(recorder.spans) == {"first", "left", "right"}  # the running one finished


def test_every_step_named_runs_after_the_steps_it_reads_in_the_chains_order():
    names = [name for name, _step in portal_tasks.POST_LOAD_STEPS]
    for name, before in portal_tasks.AFTER.items():
        assert name in names, name
        for earlier in before:
            assert names.index(earlier) < names.index(name), (earlier, name)
    # what the analysis reads, and what reads the whole night, wait for it
    assert {"performance", "alerts", "marketing_profile"} <= set(portal_tasks.AFTER["analysis"])
    for last in ("history_partitions", "customer_upkeep"):
        assert last not in portal_tasks.AFTER  # after every step before it


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_real_chain_on_two_connections(org, tmp_path, settings):
    # the tier levels the migrations wrote, emptied by the transactional test's flush
    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)
    settings.POST_LOAD_WORKERS = 2
    record = load(batch(tmp_path, customers=30).path, via="beat")
    BatchLoad.objects.filter(pk=record.pk).update(after_load_done_at=None)
    outcome = portal_tasks.run_post_load([DAY])
    assert outcome == {name: "ok" for name, _step in portal_tasks.POST_LOAD_STEPS}
    assert CustomerDailyAum.objects.filter(business_date=DAY).count() == 30
    assert MarketingProfile.objects.count() == 30
    assert CustomerAnalysis.objects.filter(as_of=DAY).count() == 30
    record.refresh_from_db()
    assert record.after_load_done_at is not None

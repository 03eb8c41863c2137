"""The nightly chain: load every complete core-banking batch waiting in the inbox, in
business-date order, then refresh what depends on fresh data. Composed here because
the jobs belong to different apps (customers, marketing, vip...), and a lower app
never calls a higher one."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable

from celery import shared_task

logger = logging.getLogger(__name__)


def refresh_aum(dates: list[datetime.date]) -> None:
    """AUM per customer per day and month-average AUM, for each loaded date in order;
    when an older date was loaded (forced), the newest date is refreshed again last
    so that the latest figures on customers and accounts stay the newest ones."""
    from customers.aum import aum_refresh
    from customers.ingest.runner import newest_loaded_date

    for day in sorted(dates):
        aum_refresh(day)
    newest = newest_loaded_date()
    if newest is not None and newest > max(dates):
        aum_refresh(newest)


def refresh_marketing_profile(dates: list[datetime.date]) -> None:
    """RFM scores and the AUM history the segment rules read (marketing)."""
    from customers.ingest.runner import newest_loaded_date
    from marketing.rfm import profile_refresh

    profile_refresh(max(newest_loaded_date() or max(dates), max(dates)), loaded=dates)


def record_sales(dates: list[datetime.date]) -> None:
    """Sales from the accounts opened on each loaded date, attributed to the manager of
    record that day and linked to the campaigns they convert (marketing)."""
    from marketing.sales import sales_from_new_accounts

    for day in sorted(dates):
        sales_from_new_accounts(day)


def flag_overdue_openings(dates: list[datetime.date]) -> None:
    """Account-opening requests still open `OPENING_OVERDUE_DAYS` days after their
    appointment (or recording) flagged, once each, after the sales confirmed what
    the load brought (marketing)."""
    from marketing.opening_matches import flag_overdue

    flag_overdue()


def evaluate_vip_tiers(dates: list[datetime.date]) -> None:
    """Tier evaluation as of the newest loaded date (month-average AUM just
    refreshed), then the contact warnings of major customers, whose tiers it may
    have changed (vip)."""
    from vip.evaluation import evaluate_tiers
    from vip.standards import contact_warnings_refresh

    evaluate_tiers()
    contact_warnings_refresh()


def refresh_vip_figures(dates: list[datetime.date]) -> None:
    """The figures the book and VIP report pages read (counts and AUM per manager,
    branch and tier; tiers held at each month end), from the AUM and tiers just
    refreshed (vip)."""
    from vip.services import figures_rebuild

    figures_rebuild()


def scan_data_quality(dates: list[datetime.date]) -> None:
    """Duplicates, invalid IDs, missing data, expired risk assessments (set-based)."""
    from customers.quality import quality_scan

    quality_scan()


def history_partitions(dates: list[datetime.date]) -> None:
    """The daily history's month partitions: next month's made ahead, the months
    older than DAILY_HISTORY_MONTHS before the newest loaded date dropped; never
    counted from past today's date (a batch dated wrongly in the future does not
    drop the history) (customers)."""
    from django.utils import timezone

    from customers.partitions import ensure_partitions, retire_partitions

    ensure_partitions(max(dates))
    retire_partitions(min(max(dates), timezone.localdate()))


def customer_vacuum(dates: list[datetime.date]) -> None:
    """Vacuum and analyse the customer table the load, the AUM step and the tiers
    rewrote, so that searches walk its indexes without visiting it (customers)."""
    from customers.upkeep import customer_table_upkeep

    customer_table_upkeep()


def customer_upkeep(dates: list[datetime.date]) -> None:
    """Vacuum and analyse every table the night left with many dead rows (the
    accounts' latest balances, the month so far, the profiles, the analysis...)
    (customers)."""
    from customers.upkeep import rewritten_tables_upkeep

    rewritten_tables_upkeep()


# ---------------------------------------------------------------------------------
# POST-LOAD STEPS: what runs after new core-banking data is in, in this order, each
# with the list of business dates just loaded.
# A step that fails is logged and the next steps still run (each is idempotent and
# can be run again from the admin's periodic tasks). When every step succeeded the
# loaded batches of those dates are marked done; a run that did not get there (a
# failed step, a killed worker) leaves them owed to the next nightly job.
# ---------------------------------------------------------------------------------
def raise_alerts(dates: list[datetime.date]) -> None:
    """The alert rules for each loaded date (birthdays, maturities, outflows, dormancy,
    tier changes...), then the escalation of alerts left open past due (care)."""
    from care.engine import alerts_after_load

    alerts_after_load(dates)


def refresh_performance(dates: list[datetime.date]) -> None:
    """The open periods' provisional performance figures (month, quarter, year of each
    loaded date)."""
    from performance.services import refresh_after_load

    refresh_after_load(dates)


def analyse_customers(dates: list[datetime.date]) -> None:
    """Every customer's contribution, loyalty, churn risk, satisfaction and next best
    products as of the newest loaded date, then the save lists' alerts (analysis)."""
    from analysis.services import analyse_customers as analyse
    from customers.ingest.runner import newest_loaded_date

    analyse(max(newest_loaded_date() or max(dates), max(dates)))


def refresh_credit_risk_figures(dates: list[datetime.date]) -> None:
    """The credit-risk reports' figures of the months the load can change: the
    current one, the previous one too when its last days came late (credit)."""
    from credit.risk_figures import risk_figures_refresh
    from customers.ingest.runner import newest_loaded_date

    risk_figures_refresh(dates, as_of=max(newest_loaded_date() or max(dates), max(dates)))


# A post-load step: called with the business dates just loaded.
Step = Callable[[list[datetime.date]], object]

POST_LOAD_STEPS: tuple[tuple[str, Step], ...] = (
    ("aum", refresh_aum),
    ("vip_tiers", evaluate_vip_tiers),  # before marketing: segments read the tiers
    ("vip_figures", refresh_vip_figures),  # after the AUM and the tiers it counts
    ("marketing_profile", refresh_marketing_profile),
    ("marketing_sales", record_sales),
    ("opening_overdue", flag_overdue_openings),  # after the sales: a confirmed request is not overdue
    ("alerts", raise_alerts),  # after the tiers, the profile (last transaction) and the AUM
    ("performance", refresh_performance),  # after the sales it may count
    ("analysis", analyse_customers),  # after the performance figures (contribution) and the alerts
    ("credit", refresh_credit_risk_figures),  # after the balances (aum) and the loan statuses loaded
    ("data_quality", scan_data_quality),
    ("customer_vacuum", customer_vacuum),  # after the steps that write customers (load, AUM, tiers)
    ("history_partitions", history_partitions),  # after every step that reads the history
    ("customer_upkeep", customer_upkeep),  # last: after every step that rewrites a table in bulk
)


# What each step reads that another step writes: a step starts once these have run
# (succeeded or failed, as in the order above). A step not named here follows every
# step before it. With POST_LOAD_WORKERS 2 the two strands after the tiers run side
# by side, each on its own database connection: the customer's own figures (the
# VIP figures, the marketing profile, the alerts, then the analysis) and what the
# managers are credited with (the sales, the overdue openings, the performance
# figures, which count the tier changes and the sales), then the credit-risk
# figures, the data-quality scan and the customer table's vacuum beside the
# analysis. None writes a table another strand writes.
AFTER: dict[str, tuple[str, ...]] = {
    "aum": (),
    "vip_tiers": ("aum",),
    "vip_figures": ("aum", "vip_tiers"),
    "marketing_profile": ("aum", "vip_tiers"),
    "marketing_sales": ("aum", "vip_tiers"),
    "opening_overdue": ("marketing_sales",),
    "alerts": ("aum", "vip_tiers", "vip_figures", "marketing_profile"),
    "performance": ("aum", "vip_tiers", "marketing_sales", "opening_overdue"),
    "analysis": ("performance", "alerts", "marketing_profile"),
    "credit": ("aum", "performance"),
    "data_quality": ("aum", "credit"),
    "customer_vacuum": ("aum", "vip_tiers", "data_quality"),
}


def _after(position: int) -> set[str]:
    """The steps the step at `position` of POST_LOAD_STEPS waits for."""
    name = POST_LOAD_STEPS[position][0]
    earlier = {n for n, _step in POST_LOAD_STEPS[:position]}
    return set(AFTER[name]) & earlier if name in AFTER else earlier


def _run_step(name: str, step: Step, dates: list[datetime.date]) -> str:
    """One step: "ok", or "failed" (logged); a lost database connection is raised
    (the next steps would fail on it too: the caller retries the dates, the nightly
    job, or leaves them owed)."""
    from customers.ingest.runner import connection_lost

    try:
        step(dates)
        return "ok"
    except Exception as exc:
        if connection_lost(exc):
            raise
        logger.exception("post-load step %s failed for %s", name, dates)
        return "failed"


def _run_step_apart(name: str, step: Step, dates: list[datetime.date]) -> str:
    """A step on a thread of its own, on its own database connections, closed after."""
    from django.db import connections

    try:
        return _run_step(name, step, dates)
    finally:
        connections.close_all()


def _run_steps(dates: list[datetime.date], workers: int) -> dict[str, str]:
    """Every step once its predecessors (`_after`) have run, at most `workers` at a
    time, in POST_LOAD_STEPS order among those ready. A lost connection stops new
    steps from starting, waits for the running ones and is raised."""
    if workers <= 1:
        return {name: _run_step(name, step, dates) for name, step in POST_LOAD_STEPS}
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    waiting = list(range(len(POST_LOAD_STEPS)))
    running: dict[Future[str], str] = {}
    outcome: dict[str, str] = {}
    lost: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="post-load") as pool:
        while running or (waiting and lost is None):
            for position in list(waiting):
                if lost is None and len(running) < workers and _after(position) <= set(outcome):
                    waiting.remove(position)
                    name, step = POST_LOAD_STEPS[position]
                    running[pool.submit(_run_step_apart, name, step, dates)] = name
            finished, _pending = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                try:
                    outcome[name] = future.result()
                except Exception as exc:  # a lost connection
                    lost = lost or exc
    if lost is not None:
        raise lost
    return {name: outcome[name] for name, _step in POST_LOAD_STEPS}


def run_post_load(dates: Iterable[datetime.date]) -> dict[str, str]:
    """Run the post-load steps for the loaded dates, under the ingest lock (no load
    runs meanwhile), and mark the dates done when every step succeeded. Returns
    each step's outcome. POST_LOAD_WORKERS steps run at once where `AFTER` allows."""
    from django.conf import settings

    from customers.ingest.runner import after_load_mark_done, ingest_lock

    dates = sorted(set(dates))
    if not dates:
        return {}
    with ingest_lock(wait=True):
        outcome = _run_steps(dates, int(getattr(settings, "POST_LOAD_WORKERS", 1)))
        if all(result == "ok" for result in outcome.values()):
            after_load_mark_done(dates)
    return outcome


@shared_task(name="crm_portal.after_load", acks_late=True)
def after_load(dates: list[str]) -> dict[str, str]:
    """The post-load steps for batches loaded by the command or an upload."""
    return run_post_load(datetime.date.fromisoformat(d) for d in dates)


# A lost database connection (PostgreSQL restarted, a failover) retries the nightly
# job this many times, this many seconds apart, before it fails.
NIGHTLY_DB_RETRIES = 5
NIGHTLY_DB_RETRY_SECONDS = 30


@shared_task(name="crm_portal.nightly_load", bind=True, acks_late=True, max_retries=12)
def nightly_load(self, db_retries: int = 0) -> dict[str, object]:
    """Load every complete batch of the inbox (oldest business date first), archive
    the loaded ones, then run the post-load steps once for all loaded dates and for
    the recent loaded dates whose post-load steps never ran to their end (a run
    killed after its batches were committed). Stops at the first batch that does
    not load (a later date must not overtake it); that batch stays in the inbox,
    its load is recorded and audited. While another load runs it retries every five
    minutes; when the database connection is lost it retries every
    NIGHTLY_LOAD_DB_RETRY_SECONDS, NIGHTLY_LOAD_DB_RETRIES times at most (the load
    left `running` is taken over by the next attempt)."""
    from django.conf import settings
    from django.db import InterfaceError, OperationalError, connections

    from customers.choices import BatchStatus
    from customers.ingest.control import archive_batch, waiting_batches
    from customers.ingest.runner import LoadBusy, after_load_owed, batch_load_for_inbox, ingest_run

    inbox = settings.INGEST_INBOX
    loaded: list[datetime.date] = []
    loads: list[dict[str, object]] = []
    report: dict[str, object] = {"loads": loads}
    try:
        try:
            for path in waiting_batches(inbox):
                load = ingest_run(batch_load_for_inbox(path).pk, notify=False)
                loads.append({"load": load.pk, "batch": path.name, "status": load.status})
                if load.status in (BatchStatus.LOADED, BatchStatus.DUPLICATE):
                    archive_batch(path, inbox)
                if load.status == BatchStatus.LOADED:
                    assert load.business_date is not None  # a loaded batch has its business date
                    loaded.append(load.business_date)
                elif load.status != BatchStatus.DUPLICATE:
                    logger.error("nightly load stopped at %s: %s %s", path.name, load.status, load.message)
                    break
        except LoadBusy as busy:
            report["post_load"] = run_post_load([*after_load_owed(), *loaded])
            raise self.retry(exc=busy, countdown=300) from busy
        report["post_load"] = run_post_load([*after_load_owed(), *loaded])
    except (OperationalError, InterfaceError) as lost:
        # The database went away: its connections are dead (a new attempt opens new
        # ones), what the attempt committed stays, what it was writing rolled back.
        connections.close_all()
        cap = int(getattr(settings, "NIGHTLY_LOAD_DB_RETRIES", NIGHTLY_DB_RETRIES))
        if db_retries >= cap:
            logger.error("nightly load: database connection lost, giving up after %s retries: %s", cap, lost)
            raise
        delay = int(getattr(settings, "NIGHTLY_LOAD_DB_RETRY_SECONDS", NIGHTLY_DB_RETRY_SECONDS))
        logger.warning("nightly load: database connection lost (%s); retrying in %s s", lost, delay)
        raise self.retry(exc=lost, countdown=delay, kwargs={"db_retries": db_retries + 1}) from lost
    return report

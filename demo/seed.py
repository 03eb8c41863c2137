"""`manage.py seed_demo`, end to end: the demo bank, its business date through the real load.

1. The demo organisation and one login per role (`demo.org`).
2. With customers: the demo bank up to the eve of its business date -- customers,
   accounts and everything about them (`demo.seeding`), the history backfill of
   13 months of AUM (`demo.history`), the VIP history (`demo.vip`) and the marketing
   records: catalogue, campaigns, contacts, the year's task (`demo.marketing`).
3. The loaded days before it (`demo.loaded_days`): every business day of the previous
   month and of the current month so far, with its balances, intermediary income and
   a loaded `BatchLoad` (started via "demo history"), written set-based; and, once,
   mid-month transfers and split credit in the assignment history.
4. The business date's batch (`demo.business_day`), loaded by the loader the nightly
   job uses (`customers.ingest.runner`: batch_load_create + ingest_run, started via
   "demo"), then the jobs that follow a load for that date
   (`crm_portal.tasks.run_post_load`: AUM, tiers, the marketing profile, sales,
   performance, the data-quality queue).
5. The performance figures (`demo.loaded_days.publish_demo_months`): the previous
   month published (version 1, proposed and approved by two demo users), the
   current month computed (provisional).

Idempotent: a second run creates nothing, writes the same batch, and its load ends
"already loaded" -- nothing new came in, so the jobs after a load do not run again.
A run stopped anywhere is finished by running it again. When a job after the load
failed, `manage.py after_load YYYYMMDD` runs them again once the cause is fixed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from customers.choices import BatchStatus
from customers.ingest.runner import batch_load_create, ingest_run
from customers.models import BatchLoad

from .business_day import BusinessDayBatch, demo_business_date, write_business_day
from .employers import seed_employers
from .loaded_days import DemoMonths, LoadedDays, publish_demo_months, seed_loaded_days
from .marketing import seed_marketing
from .openings import seed_openings
from .seeding import seed_customers
from .vip import seed_vip

# How the demo's loads appear under Admin → Customers → Batch loads ("started by").
STARTED_VIA = "demo"


class DemoLoadError(Exception):
    """The business date's batch did not load, or a job after it failed."""


@dataclass
class DemoBank:
    business_date: datetime.date
    created: int = 0
    batch: BusinessDayBatch | None = None
    load: BatchLoad | None = None
    after_load: dict[str, str] = field(default_factory=dict)
    loaded_days: LoadedDays | None = None
    months: DemoMonths | None = None


class _Out:
    """What `stdout=` of seed_customers expects, over a write-a-line callable."""

    def __init__(self, write: Callable[[str], object]):
        self._write = write

    def write(self, text: str) -> None:
        self._write(text.rstrip("\n"))


def seed_demo_bank(
    *, customers: int, write: Callable[[str], object] = lambda text: None, batch_dir: Path | str | None = None
) -> DemoBank:
    """Steps 2 to 5 above (the organisation and users must exist). Raises
    DemoLoadError when the day's batch is refused or fails, or a job after it fails."""
    bank = DemoBank(business_date=demo_business_date())
    day = bank.business_date
    bank.created = seed_customers(count=customers, stdout=_Out(write), business_date=day, latest_day=False)
    write(f"Demo customers: {bank.created} created.")
    seed_vip(write=write, business_date=day)
    seed_marketing(write=write, business_date=day)
    seed_openings(business_date=day, write=write)
    seed_employers(write=write, business_date=day)
    bank.loaded_days = seed_loaded_days(business_date=day, write=write)

    bank.batch = write_business_day(day, outdir=batch_dir)
    rows = ", ".join(f"{name} {count:,}" for name, count in bank.batch.rows.items())
    write(
        _("Business date %(date)s: core-banking batch written to %(path)s (%(rows)s).")
        % {"date": day.isoformat(), "path": bank.batch.path, "rows": rows}
    )
    record = batch_load_create(source=bank.batch.path.resolve(), started_via=STARTED_VIA)
    bank.load = ingest_run(record.pk, notify=False, on_busy="refuse")
    write(
        _("Load #%(load)s: %(status)s. %(message)s")
        % {"load": bank.load.pk, "status": bank.load.get_status_display(), "message": bank.load.message}
    )
    if bank.load.status == BatchStatus.DUPLICATE:
        bank.months = publish_demo_months(business_date=day, write=write)  # a run stopped before it
        return bank
    if bank.load.status != BatchStatus.LOADED:
        raise DemoLoadError(
            _("The demo batch of %(date)s did not load (%(status)s): %(message)s")
            % {
                "date": day.isoformat(),
                "status": bank.load.get_status_display(),
                "message": bank.load.message,
            }
        )

    from crm_portal.tasks import run_post_load

    bank.after_load = run_post_load([day])
    write(
        _("Jobs after the load: %(steps)s.")
        % {"steps": ", ".join(f"{step} {outcome}" for step, outcome in bank.after_load.items())}
    )
    failed = [step for step, outcome in bank.after_load.items() if outcome != "ok"]
    if failed:
        raise DemoLoadError(
            _("Jobs after the demo load failed (%(steps)s); run manage.py after_load %(day)s once fixed.")
            % {"steps": ", ".join(failed), "day": day.strftime("%Y%m%d")}
        )
    bank.months = publish_demo_months(business_date=day, write=write)
    return bank

"""Benchmark: nights that stay flat. Consecutive nightly core-banking batches of the
same bank loaded one after the other, each followed by the after-load chain, with
each night's times and the growing tables printed, so that a night whose cost grows
with the history the portal keeps shows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/nights.py --customers 200000 --nights 30 --history-days 365
    # a quick check (a few minutes on 2 cores)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/nights.py --customers 5000 --nights 4
    # carry on with nights 21..30 of a database left by an earlier run
    ... bench/nights.py --customers 200000 --nights 30 --from-night 21

DATABASE_URL names the server (its database is not touched); `--db` (default
nights_bench) is created fresh from a migrated template with the demo organisation,
as bench/ingest.py does, and left in place at the end.

The batches (under `--dir`, kept and reused by later runs of the same size, seed and
first date) are the nights of one bank on consecutive business dates (weekdays; a
Monday's batch follows Friday's):

- night 0, the first business date: the whole bank, `make_extract`'s batch of
  `--customers` customers (customers, contacts, accounts, balances, transactions,
  income, loan statuses). It is loaded and timed like the others but is the portal's
  first load of those customers, not a night like the rest: the flatness verdict
  compares night 1 with night N. After it the database is vacuumed and analysed
  (untimed), so that night 1 does not pay for the clean-up of that bulk load.
- `--history-days D` (365 for the flatness verdict; default 0: none): after night 0,
  before that clean-up, D calendar days of history before night 0's date are
  written (untimed, set-based) into the tables the after-load steps read back over
  windows of months (transaction summaries, daily and monthly AUM, the loan
  statuses' change log: `write_history`), then night 0's after-load chain runs
  again over them (untimed), so that the tiers, the marketing profile, the alerts
  and the credit figures stand as at a bank with that history behind it. Without
  it the bank starts with no history, and the steps reading windows of history
  (the RFM's 365 days, the tier windows, the dormancy rule...) grow night after
  night while their windows fill: by design, but then the verdict says nothing.
- nights 1..N: what core banking sends on an ordinary day (docs/core-banking-
  extract.md): every open account's balance; the day's transactions and income; every loan and card account's status,
  the ones past due further behind by the days since the last batch; the customers
  opened that day (one in 2,000, with their contacts and accounts); and the accounts
  closed that day (one in 4,000 customers' worth, deposits and investments).
  Which balances differ from the day before (`--balances`): `ordinary` (the default),
  those an ordinary day moves: current deposits and credit cards of the customers
  with transactions that day (three in ten), the products valued at the day's prices
  (wealth management, funds, third-party custody) every day, a loan on its monthly
  repayment day; time deposits and insurance keep their balance. About half of the
  customers' AUM moves in a night. `every`: every balance moves every night (a day
  when interest is credited to every deposit: the worst case for the nightly write
  of the customers' figures).

`make_extract` writes whole snapshots and cannot give the next day of the same bank
by itself: its customers' open and account dates are counted back from the business
date (every row changes every day), and its random stream shifts when a customer
crosses an age it draws on (62, 28, 20), after which the following customers get
other names and other accounts. So it runs once, for the first date, over
`--customers` plus the customers the later nights open, and the nights are derived
from that snapshot here.

For each night, in a process of its own (a fresh interpreter as a worker's task
would find it, without the previous night's caches or memory, and a night that
crashes leaves the earlier nights' results; Django's start-up is outside the
timings): the batch is put in the night's inbox (hard links) and the nightly job
itself (`crm_portal.nightly_load`, run eagerly: REDIS_URL unset) loads it and runs
the after-load chain (`POST_LOAD_STEPS`, crm_portal/tasks.py) exactly as at night;
the chain and each of its steps are timed by wrapping them for the run. "load s" is
the rest of the job: the inbox, the load of the batch in its transaction, the
archive. Then the rows of the growing tables are counted (untimed).

Prints one line per night as it ends, then the table of all nights (each step's
seconds), night 1 against night N (load, after-load, ratio, "flat: yes/no (within
10%)", either way), the slowest steps and the steps whose time grows with the
nights. The results are kept beside the batches (nights-<db>.json) so that
`--from-night K` (the database holding nights 0..K-1) prints the whole run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the database helpers of the load's benchmark (its phases' protocol too)
from bench.ingest import RESULT, admin, plain, with_database  # noqa: E402

FIRST_DAY = "20260302"  # a Monday
TOLERANCE = 0.10
GROWING = ("customers_accountbalance", "customers_customerdailyaum")
CREDIT = ("LOAN_MORTGAGE", "LOAN_CONSUMER", "LOAN_BUSINESS", "CREDIT_CARD")
INFO = re.compile(r"^\S+ \S+ INFO ")
CHANNELS = ("MOBILE", "MOBILE", "MOBILE", "ATM", "POS", "ONLINE", "COUNTER")
TRANSACTING = 0.3  # the customers with transactions on a day
BALANCES = ("ordinary", "every")
PRICED_DAILY = ("WEALTH", "FUND", "CUSTODY")  # valued at the day's prices
WITH_TRANSACTIONS = ("DEP_CUR", "CREDIT_CARD")  # move with the customer's transactions
LOANS = ("LOAN_MORTGAGE", "LOAN_CONSUMER", "LOAN_BUSINESS")


# --- the pure pieces (tests/test_nights_script.py) --------------------------------------


def business_dates(first: datetime.date, count: int) -> list[datetime.date]:
    """`count` consecutive business dates from `first` (or the weekday after it):
    Monday to Friday, as core banking writes its batches."""
    days: list[datetime.date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def verdict(first: float, last: float, tolerance: float = TOLERANCE) -> tuple[float, bool]:
    """(last / first, whether last is within `tolerance` of first, either way)."""
    if first <= 0:
        return (math.inf if last > 0 else 1.0), last <= 0
    ratio = last / first
    return ratio, abs(ratio - 1) <= tolerance + 1e-9


def slope(values: Sequence[float]) -> float:
    """Least-squares seconds per night of a series (0 for fewer than two)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return num / sum((x - mean_x) ** 2 for x in range(n))


def growing_steps(
    series: dict[str, list[float]], tolerance: float = TOLERANCE, floor: float = 0.05
) -> list[tuple[str, float, float]]:
    """The steps whose time grows with the nights: their fitted growth over the run
    (slope x nights) above `tolerance` of their first night's time and above `floor`
    seconds (below that it is noise). [(step, seconds per night, growth over the run)],
    the fastest-growing first."""
    out = []
    for name, values in series.items():
        if len(values) < 2:
            continue
        per_night = slope(values)
        growth = per_night * (len(values) - 1)
        if growth > floor and growth > tolerance * max(values[0], 1e-9):
            out.append((name, per_night, growth))
    return sorted(out, key=lambda item: -item[2])


def repayment_day(account_no: str) -> int:
    """The day of the month (1..28) a loan account is repaid on, fixed per account."""
    return zlib.crc32(account_no.encode()) % 28 + 1


def balance_moves(
    balances: str, category: str, account_no: str, transacted: bool, before: datetime.date, day: datetime.date
) -> bool:
    """Whether an open account's balance on business date `day` differs from the one
    on `before` (the batch before it), under the model `balances` (BALANCES)."""
    if balances == "every":
        return True
    if category in PRICED_DAILY:
        return True
    if category in WITH_TRANSACTIONS:
        return transacted
    if category in LOANS:
        due = repayment_day(account_no)
        return any(
            (before + datetime.timedelta(days=n)).day == due for n in range(1, (day - before).days + 1)
        )
    return False  # time deposits, insurance


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def cents_of(amount: str) -> int:
    whole, _, part = amount.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole or "0")) * 100 + int((part + "00")[:2]))


# --- databases and phases ---------------------------------------------------------------


def run_phase(url: str, database: str | None, *args: str, inbox: Path | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_portal.settings.local",
        "DEBUG": "False",
        "REDIS_URL": "",  # Celery eager: the nightly job and its chain in this process
        "CELERY_BROKER_URL": "",
    }
    if database:
        env["DATABASE_URL"] = with_database(url, database)
    if inbox is not None:
        env["INGEST_INBOX"] = str(inbox)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the jobs' log lines through the filter below
        text=True,
    )
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        elif not INFO.match(line):  # the jobs' own progress lines; warnings and errors show
            print("    " + line.rstrip(), flush=True)
    if proc.wait() != 0 or result is None:
        raise SystemExit(f"phase {args} failed")
    return result


def settle(url: str, db: str) -> float:
    """VACUUM ANALYZE the database after night 0, the bank's first load: night 1, the
    verdict's baseline, then does not pay for the clean-up of that bulk load
    (autovacuum would run during it), as no night of a bank past its first does."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(with_database(url, db), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - began


# The server's settings a night's time depends on (deploy/postgresql/crm.conf).
SERVER_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression")


def server_settings(url: str) -> str:
    import psycopg

    with psycopg.connect(with_database(url, "postgres")) as conn:
        return ", ".join(f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}" for name in SERVER_SETTINGS)


def newest_loaded(url: str, db: str) -> datetime.date | None:
    import psycopg

    with psycopg.connect(with_database(url, db)) as conn:
        row = conn.execute(
            "SELECT max(business_date) FROM customers_batchload WHERE status = 'loaded'"
        ).fetchone()
    return row[0] if row else None


def print_flush(text: str) -> None:
    print(text, flush=True)


def _setup() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()


def phase_prepare() -> dict:
    """Migrate a fresh database and create the demo organisation and users."""
    _setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"seconds": time.perf_counter() - started}


# --- the batches ------------------------------------------------------------------------


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as handle:
        next(handle)
        return [line.rstrip("\n").split("|") for line in handle]


def phase_generate(
    customers: int, nights: int, directory: str, seed: int, first: str, balances: str = "ordinary"
) -> dict:
    """Night 0 (make_extract's batch of the first date) and nights 1..`nights` derived
    from it (see the module docstring)."""
    _setup()
    from customers.ingest.spec import ACCOUNT, BALANCE, CONTACT, CUSTOMER, INCOME, LOAN_STATUS, TXN_SUMMARY
    from demo.extract import (
        INCOME_SHARE,
        BatchFolder,
        customer_number,
        income_rows,
        make_extract,
        risk_class_of,
    )

    started = time.perf_counter()
    out = Path(directory)
    dates = business_dates(datetime.datetime.strptime(first, "%Y%m%d").date(), nights + 1)
    new_per_night, closed_per_night = max(1, customers // 2000), max(1, customers // 4000)
    pool_dir = out / "pool"
    shutil.rmtree(pool_dir, ignore_errors=True)
    pool = make_extract(
        pool_dir, business_date=dates[0], customers=customers + new_per_night * nights, seed=seed
    )
    read = {spec.name: _rows(pool.path / spec.name) for spec in (CUSTOMER, CONTACT, ACCOUNT, BALANCE,
                                                                   TXN_SUMMARY, INCOME, LOAN_STATUS)}  # fmt: skip
    shutil.rmtree(pool_dir)
    bank = {customer_number(i) for i in range(customers)}
    contacts: dict[str, list[list[str]]] = {}
    for row in read[CONTACT.name]:
        contacts.setdefault(row[0], []).append(row)
    accounts: dict[str, list[list[str]]] = {}
    owner: dict[str, list[str]] = {}
    for row in read[ACCOUNT.name]:
        accounts.setdefault(row[1], []).append(row)
        owner[row[0]] = row
    balance = {row[0]: row for row in read[BALANCE.name]}
    status = {row[0]: row for row in read[LOAN_STATUS.name]}

    # night 0: the snapshot's rows of the bank's customers
    folder = BatchFolder(out, dates[0])
    for spec in (CUSTOMER, CONTACT, TXN_SUMMARY, INCOME):
        for row in read[spec.name]:
            if row[0] in bank:
                folder.write(spec.name, row)
    for row in read[ACCOUNT.name]:
        if row[1] in bank:
            folder.write(ACCOUNT.name, row)
    for spec in (BALANCE, LOAN_STATUS):
        for row in read[spec.name]:
            if owner[row[0]][1] in bank:
                folder.write(spec.name, row)
    written = {dates[0].isoformat(): folder.finish()}

    # what moves from night to night: the open accounts' balances (cents, in the
    # account's currency), the loan statuses, the customers and their open accounts
    customer_rows = {row[0]: row for row in read[CUSTOMER.name]}
    active = [no for no in customer_rows if no in bank]
    cents = {no: cents_of(row[1]) for no, row in balance.items() if owner[no][1] in bank}
    loans = {no: row for no, row in status.items() if owner[no][1] in bank}
    pending = [no for no in customer_rows if no not in bank]  # opened on later nights, in order
    moved_balances = written_balances = moved_customers = active_customers = 0
    for night in range(1, nights + 1):
        day, before = dates[night], dates[night - 1]
        rng = random.Random(f"{seed}:{day.isoformat()}:nights")  # noqa: S311  (demo data)
        folder = BatchFolder(out, day)
        # the customers opened today, their accounts opened today
        for no in pending[(night - 1) * new_per_night : night * new_per_night]:
            row = list(customer_rows[no])
            row[15] = f"{day:%Y%m%d}"
            customer_rows[no] = row
            folder.write(CUSTOMER.name, row)
            for contact in contacts.get(no, []):
                folder.write(CONTACT.name, contact)
            for account in accounts.get(no, []):
                account = list(account)
                account[5] = f"{day:%Y%m%d}"
                owner[account[0]] = account
                folder.write(ACCOUNT.name, account)
                if account[0] in balance:
                    cents[account[0]] = cents_of(balance[account[0]][1])
                if account[0] in status:
                    loans[account[0]] = status[account[0]]
            active.append(no)
        # accounts closed today: deposits and investments, whose balance then stops
        open_ones = [no for no in cents if owner[no][3] not in CREDIT and owner[no][7] == "O"]
        for no in rng.sample(open_ones, min(closed_per_night, len(open_ones))):
            account = list(owner[no])
            account[7] = "C"
            owner[no] = account
            del cents[no]
            folder.write(ACCOUNT.name, account)
        transacting = {no for no in active if rng.random() < TRANSACTING}
        moving_customers: set[str] = set()
        for no, amount in cents.items():
            account = owner[no]
            if balance_moves(balances, account[3], no, account[1] in transacting, before, day):
                cents[no] = moved = max(0, int(amount * math.exp(rng.gauss(0, 0.03))))
                moved_balances += 1
                moving_customers.add(account[1])
            else:
                moved = amount
            if owner[no][4] == "USD":
                folder.write(BALANCE.name, [no, money(moved), "USD", money(moved * 71245 // 10000)])
            else:
                folder.write(BALANCE.name, [no, money(moved), owner[no][4], money(moved)])
        written_balances += len(cents)
        moved_customers += len(moving_customers)
        active_customers += len(active)
        gap = (day - before).days
        for no, row in loans.items():
            if owner[no][7] == "C":
                continue
            behind, owed, risk = int(row[1]), row[2], int(row[3])
            if behind:
                behind += gap
                risk = max(risk, int(risk_class_of(behind).value))
                loans[no] = row = [no, str(behind), owed, str(risk)]
            folder.write(LOAN_STATUS.name, row)
        for no in active:
            if no in transacting:
                for channel in sorted({rng.choice(CHANNELS) for _ in range(rng.randrange(1, 4))}):
                    folder.write(TXN_SUMMARY.name,
                                 [no, channel, str(rng.randrange(1, 12)), money(rng.randrange(100, 5_000_000))])  # fmt: skip
            if rng.random() < INCOME_SHARE and customer_rows[no][16] != "C":
                held = [(a[0], a[3]) for a in accounts.get(no, []) if owner[a[0]][7] == "O"]
                for row in income_rows(rng, no, held):
                    folder.write(INCOME.name, row)
        written[day.isoformat()] = folder.finish()
    (out / ".nights").write_text(str(nights))
    size = sum(f.stat().st_size for f in out.glob("*/*") if f.is_file())
    return {
        "seconds": time.perf_counter() - started,
        "bytes": size,
        "rows": written,
        "balances_moved": moved_balances / max(1, written_balances),
        "customers_moved": moved_customers / max(1, active_customers),
    }


# --- one night --------------------------------------------------------------------------


def phase_night(path: str) -> dict:
    """The nightly job on the batch at `path`, put in its inbox (INGEST_INBOX), each
    step of the chain after the load timed."""
    _setup()
    from django.conf import settings
    from django.db import connection

    from crm_portal import tasks
    from customers.models import BatchFile

    batch = Path(path)
    inbox = Path(settings.INGEST_INBOX)
    waiting = inbox / batch.name
    shutil.rmtree(waiting, ignore_errors=True)
    shutil.rmtree(inbox / "archive" / batch.name, ignore_errors=True)
    waiting.mkdir(parents=True)
    for data in sorted(batch.iterdir(), key=lambda p: p.name == "BATCH.ok"):  # the OK flag last
        (waiting / data.name).hardlink_to(data)

    steps: dict[str, float] = {}
    chain = {"seconds": 0.0}

    def timed_step(name, step):
        def run(dates):
            began = time.perf_counter()
            try:
                return step(dates)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - began

        return run

    def timed_chain(run):
        def chain_run(dates):
            began = time.perf_counter()
            try:
                return run(dates)
            finally:
                chain["seconds"] += time.perf_counter() - began

        return chain_run

    # the nightly job reads both names from its module when it runs
    steps_of_the_job = tasks.POST_LOAD_STEPS
    tasks.POST_LOAD_STEPS = tuple((name, timed_step(name, step)) for name, step in steps_of_the_job)
    tasks.run_post_load = timed_chain(tasks.run_post_load)
    began = time.perf_counter()
    outcome = tasks.nightly_load.apply()
    wall = time.perf_counter() - began
    if not outcome.successful():
        raise SystemExit(f"the nightly job ended {outcome.state}: {outcome.result!r}")
    report = outcome.result
    expected = [name for name, _step in steps_of_the_job]
    if any(load["status"] == "loaded" for load in report.get("loads", [])) and sorted(steps) != sorted(
        expected
    ):
        raise SystemExit(
            f"the nightly job ran the steps {list(steps)}, not {expected}: crm_portal.tasks no longer "
            "runs POST_LOAD_STEPS through run_post_load, and this benchmark must follow it"
        )
    shutil.rmtree(inbox / "archive" / batch.name, ignore_errors=True)  # links: the batch stays in --dir

    loads = report.get("loads", [])
    files = BatchFile.objects.filter(load_id__in=[load["load"] for load in loads])
    counts = {}
    with connection.cursor() as cursor:
        for table in GROWING:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  (our constant names)
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    return {
        "batch": batch.name,
        "wall": wall,
        "load": wall - chain["seconds"],
        "after_load": chain["seconds"],
        "steps": steps,
        "loads": loads,
        "post_load": report.get("post_load", {}),
        "rows": sum(f.control_rows for f in files),
        "rejected": sum(f.rejected for f in files),
        "tables": counts,
        "database_bytes": database_bytes,
    }


# --- the history before night 0 (--history-days) -----------------------------------------

# What `--history-days` writes before night 0's business date, and why (the after-load
# steps, crm_portal/tasks.py POST_LOAD_STEPS, and the history each reads back):
#
# - customers_transactionsummary: the marketing profile's RFM, 365 days
#   (marketing/rfm.py:29, :63) and the last transaction ever (:44); the customer
#   analysis's 180 days and last transaction (analysis/features.py:63, :154, :181);
#   the dormancy rule's 180 days (care/rules.py:529, care/parameters.py:153).
# - customers_customerdailyaum: the large-outflow rule's AUM `outflow_lookback_days`
#   back (7, at most 92: care/rules.py:188, :516, care/parameters.py:138), and the AUM
#   step's month so far (customers/aum.py:151). Written from the month of night 0
#   less that lookback on, the month before night 0's with the default: the months
#   before are read through their month figures only (below), and 200,000 customers
#   x 250 days of them would be a third of the rows written for nothing.
# - customers_customermonthlyaum (with customers_monthlyaumbuild): the tier windows,
#   max(observation + window - 1, 2 x window) months (vip/evaluation.py:253, :302), the
#   downgrade warnings (care/rules.py:545, :593), the profile's AUM 1, 3, 6 and 12
#   months back (marketing/rfm.py:68), the analysis's (analysis/features.py:170).
# - customers_loanstatus (a change log): the credit figures read all of it for the
#   status spans and cohorts (credit/risk_figures.py:113, :126): the days of the
#   delinquencies running at night 0 are written back to their first day.
#
# Not written: customers_accountbalance (500,000 accounts x 250 days at 200,000
# customers): the steps read the night's balances (customers/aum.py:74), one balance
# date per month end for the credit snapshots, which are computed once and kept
# (credit/risk_figures.py:207, :240), and the balance at maturity of the deposits
# closed in the last 90 days (analysis/features.py:189). customers_incomeentry: the
# performance figures count income over a period's days (performance/engine.py:364)
# but balances only from the first loaded batch (performance/engine.py:4), so income
# before night 0 would be counted without its balances; their other history
# (performance_customerresult, read by the analysis over 12 months,
# analysis/scoring.py:224, :333) comes from loaded batches only. The other steps
# read no history: vip_figures (the tiers' changes), marketing_sales and
# opening_overdue (the night's accounts, open requests), data_quality, the
# partitions and the customer table's upkeep.
#
# The history ends before the first day of night 0's month: the AUM step keeps the
# month's sums through a date (MonthlyAumBuild) and adds each next date to them, so
# days of night 0's month written afterwards would be missing from its month's
# figures. With the default first date (Monday 2 March) that month has no business
# day before night 0 anyway.

HISTORY_CHANNELS = "ARRAY[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
HISTORY_SEED = 20260301


def history_dates(night0: datetime.date, days: int) -> list[datetime.date]:
    """The business dates (Monday to Friday) of the `days` calendar days before
    `night0`, up to the last day before `night0`'s month, oldest first."""
    end = night0.replace(day=1)
    day = night0 - datetime.timedelta(days=days)
    out = []
    while day < end:
        if day.weekday() < 5:
            out.append(day)
        day += datetime.timedelta(days=1)
    return out


def _uniform(key: str, stream: int) -> str:
    """SQL: a number in [0, 1) drawn from `key` (a bigint expression), the same on
    every run; `stream` gives independent draws of one key (double precision: the
    arithmetic on it stays out of numeric's)."""
    return f"((hashint8extended({key}, {HISTORY_SEED + stream}) & 16777215)::float8 / 16777216)"


def _months(days: list[datetime.date]) -> list[list[datetime.date]]:
    months: dict[datetime.date, list[datetime.date]] = {}
    for day in days:
        months.setdefault(day.replace(day=1), []).append(day)
    return list(months.values())


# Each customer's daily figures on the days given, from night 0's: its own trend (-30
# to +30 per cent a year) back from night 0's, and a day's noise (1.5 per cent either
# way); the same figures every time they are read (the daily rows written and the
# month figures summed from them).
DAILY_VALUES_SQL = """
SELECT h.day AS business_date, n.customer_id, {moved}
  FROM customers_customerdailyaum n
  JOIN customers_customer c ON c.id = n.customer_id
 CROSS JOIN unnest(%(days)s::date[]) AS h(day)
 CROSS JOIN LATERAL (
        SELECT ROUND(exp(-(0.6 * {trend} - 0.3) * (%(night0)s::date - h.day) / 365.0
                         + 0.03 * ({noise} - 0.5))::numeric, 6) AS x
       ) f
 WHERE n.business_date = %(night0)s AND (c.open_date IS NULL OR c.open_date <= h.day)
"""

DAILY_HISTORY_SQL = """
INSERT INTO customers_customerdailyaum (business_date, customer_id, {columns})
{values} ORDER BY n.customer_id, h.day
"""

SUMMARY_HISTORY_SQL = """
INSERT INTO customers_transactionsummary (business_date, customer_id, channel, txn_count, txn_amount)
SELECT day, customer_id, channel, MIN(txn_count), MIN(txn_amount)
  FROM (
        -- as the nights: 30 per cent of the customers a day, 1 to 3 draws of a channel, 1 to 11
        -- transactions of 1.00 to 49,999.99 in all on a channel
        SELECT h.day, c.id AS customer_id,
               ({channels})[1 + floor(7 * {channel})::int] AS channel,
               1 + floor(11 * {count})::int AS txn_count,
               (100 + floor(4999900 * {amount}))::numeric / 100 AS txn_amount
          FROM customers_customer c
         CROSS JOIN unnest(%(days)s::date[]) AS h(day)
         CROSS JOIN generate_series(1, 3) AS k(draw)
         WHERE c.merged_into_id IS NULL AND (c.open_date IS NULL OR c.open_date <= h.day)
           AND {active} < 0.3 AND k.draw <= 1 + floor(3 * {draws})
       ) s
 GROUP BY customer_id, day, channel
 ORDER BY customer_id, day
"""

MONTHLY_HISTORY_SQL = """
INSERT INTO customers_customermonthlyaum
       (customer_id, month, avg_aum, end_aum, avg_liabilities, days, aum_sum, liabilities_sum)
SELECT customer_id, %(month)s, ROUND(SUM(aum) * 1.0 / %(elapsed)s, 2),
       SUM(CASE WHEN business_date = %(last)s THEN aum ELSE 0 END),
       ROUND(SUM(liabilities) * 1.0 / %(elapsed)s, 2), COUNT(*), ROUND(SUM(aum), 2), ROUND(SUM(liabilities), 2)
  FROM ({values}) d
 GROUP BY customer_id
 ORDER BY customer_id
"""

LOAN_HISTORY_SQL = """
INSERT INTO customers_loanstatus (account_id, business_date, overdue_days, overdue_amount, risk_class)
SELECT s.account_id, h.day, x.behind,
       ROUND(s.overdue_amount / ((s.overdue_days + 29) / 30) * ((x.behind + 29) / 30), 2),
       LEAST(s.risk_class, CASE WHEN x.behind > 90 THEN 3 WHEN x.behind > 30 THEN 2
                                WHEN s.overdue_days <= 30 THEN s.risk_class ELSE 1 END)
  FROM customers_loanstatus s
  JOIN customers_account a ON a.id = s.account_id
 CROSS JOIN unnest(%(days)s::date[]) AS h(day)
 CROSS JOIN LATERAL (SELECT s.overdue_days - (%(night0)s::date - h.day) AS behind) x
 WHERE s.business_date = %(night0)s AND s.overdue_days > 0 AND x.behind > 0
   AND (a.open_date IS NULL OR a.open_date <= h.day)
 ORDER BY s.account_id, h.day
"""


def write_history(night0: datetime.date, days: int) -> dict:
    """Write the history of the `days` calendar days before `night0` (the business
    dates of `history_dates`) into the tables the after-load steps read back (see
    above), from the customers, accounts and figures of night 0, set-based, in one
    transaction; then analyse those tables. Night 0's rows and the customers' latest
    figures are not touched. Refuses a database holding any history before night 0.
    Returns the business dates' range, the partitions made and the rows per table."""
    from django.db import connection, transaction

    from care.parameters import current_parameters
    from customers.aum import DAILY_SUMS
    from customers.models import MonthlyAumBuild
    from customers.partitions import ensure_months

    dates = history_dates(night0, days)
    rows: dict[str, int] = {}
    made: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM customers_customerdailyaum WHERE business_date < %(d)s)"
            " OR EXISTS (SELECT 1 FROM customers_transactionsummary WHERE business_date < %(d)s)"
            " OR EXISTS (SELECT 1 FROM customers_customermonthlyaum WHERE month < %(m)s)",
            {"d": night0, "m": night0.replace(day=1)},
        )
        if cursor.fetchone()[0]:
            raise SystemExit(f"the database holds history before {night0} already")
        if not dates:
            return {"first": None, "last": None, "dates": 0, "partitions": made, "rows": rows}
        # daily AUM from the month of the large-outflow rule's lookback on (older days
        # are read only through their months' figures)
        lookback = current_parameters().outflow_lookback_days
        daily_from = (night0 - datetime.timedelta(days=lookback)).replace(day=1)
        months = [month[0].replace(day=1) for month in _months(dates)]
        made = ensure_months("customers_transactionsummary", months)
        made += ensure_months("customers_customerdailyaum", [m for m in months if m >= daily_from])
        customer_day = "(c.id * 100000 + (h.day - DATE '2000-01-01'))"

        def values(columns: Sequence[str]) -> str:
            return DAILY_VALUES_SQL.format(
                moved=", ".join(f"ROUND(n.{column} * f.x, 2) AS {column}" for column in columns),
                trend=_uniform("n.customer_id", 1),
                noise=_uniform(customer_day, 2),
            )

        daily = DAILY_HISTORY_SQL.format(columns=", ".join(DAILY_SUMS), values=values(DAILY_SUMS))
        monthly = MONTHLY_HISTORY_SQL.format(values=values(("aum", "liabilities")))
        draw = f"({customer_day} * 4 + k.draw)"
        summaries = SUMMARY_HISTORY_SQL.format(
            channels=HISTORY_CHANNELS,
            channel=_uniform(draw, 3),
            count=_uniform(draw, 4),
            amount=_uniform(draw, 5),
            active=_uniform(customer_day, 6),
            draws=_uniform(customer_day, 7),
        )
        for table in ("customerdailyaum", "transactionsummary", "customermonthlyaum", "loanstatus"):
            rows[f"customers_{table}"] = 0
        for month in _months(dates):
            params: dict[str, Any] = {"days": month, "night0": night0}
            first_day, last = month[0].replace(day=1), month[-1]
            if first_day >= daily_from:
                cursor.execute(daily, params)
                rows["customers_customerdailyaum"] += cursor.rowcount
            cursor.execute(summaries, params)
            rows["customers_transactionsummary"] += cursor.rowcount
            # the month's figures as the AUM step leaves them after its last day
            # (customers/aum.py `_month_so_far`), marked built through that day
            cursor.execute(monthly, {**params, "month": first_day, "last": last, "elapsed": last.day})
            rows["customers_customermonthlyaum"] += cursor.rowcount
            MonthlyAumBuild.objects.update_or_create(month=first_day, defaults={"through": last})
        cursor.execute(LOAN_HISTORY_SQL, {"days": dates, "night0": night0})
        rows["customers_loanstatus"] = cursor.rowcount
    with connection.cursor() as cursor:
        for table in rows:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608  (our constant names)
    return {"first": dates[0], "last": dates[-1], "dates": len(dates), "partitions": made, "rows": rows}


def phase_history(days: int, first: str) -> dict:
    """`write_history` before night 0 (the only date loaded), then night 0's
    after-load chain again over it, each timed (both untimed in the verdict)."""
    _setup()
    from crm_portal import tasks
    from customers.ingest.loads import newest_loaded_date

    night0 = business_dates(datetime.datetime.strptime(first, "%Y%m%d").date(), 1)[0]
    if newest_loaded_date() != night0:
        raise SystemExit(f"history is written after night 0 ({night0}) only; the newest loaded date is "
                         f"{newest_loaded_date()}")  # fmt: skip
    began = time.perf_counter()
    written = write_history(night0, days)
    written["seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    outcome = tasks.run_post_load([night0])
    written["chain_seconds"] = time.perf_counter() - began
    failed = [name for name, status in outcome.items() if status != "ok"]
    if failed:
        raise SystemExit(f"night 0's after-load chain over the history: {', '.join(failed)} failed")
    return written


# --- the report -------------------------------------------------------------------------


def print_row(r: dict, names: list[str]) -> None:
    steps = " ".join(f"{r['steps'].get(n, 0):>{max(len(n), 6)}.2f}" for n in names)
    tables = " ".join(f"{r['tables'].get(t, 0):>14,}" for t in GROWING)
    print(
        f"{r['night']:>5} {r['date']:>10} {r['load']:>7.1f} {r['after_load']:>7.1f} {steps} {tables}"
        f" {r['database_bytes'] / 2**20:>8,.0f}",
        flush=True,
    )


def header(names: list[str]) -> str:
    steps = " ".join(f"{n:>{max(len(n), 6)}}" for n in names)
    tables = " ".join(f"{t.removeprefix('customers_'):>14}" for t in GROWING)
    return f"{'night':>5} {'date':>10} {'load s':>7} {'after s':>7} {steps} {tables} {'db MB':>8}"


def print_history(history: dict, days: int, night0: datetime.date) -> None:
    if not history["dates"]:
        print_flush(f"   (untimed) history: no business date in the {days} days before {night0}'s month")
        return
    print_flush(
        f"   (untimed) history of {days} days before night 0: {history['dates']} business dates "
        f"{history['first']} .. {history['last']}, {len(history['partitions'])} partitions made, "
        f"written in {history['seconds']:.1f} s; night 0's after-load chain again over it: "
        f"{history['chain_seconds']:.1f} s"
    )
    for table, count in history["rows"].items():
        print_flush(f"      {table:<32} {count:>14,} rows")


def report(results: list[dict]) -> None:
    names = list(dict.fromkeys(n for r in results for n in r["steps"]))
    history = next((r["history"] for r in results if r.get("history")), None)
    print("\n== Every night (seconds; rows of the growing tables after the night; database size)")
    if history and history["dates"]:
        print(f"(after night 0, untimed: {history['dates']} business dates of history, {history['first']} .. "
              f"{history['last']}, written in {history['seconds']:.1f} s)")  # fmt: skip
    else:
        print("(no history before night 0: the steps reading windows of history grow while they fill)")
    print(header(names))
    for r in results:
        print_row(r, names)
    failed = [(r["night"], n) for r in results for n, s in r["post_load"].items() if s != "ok"]
    for night, name in failed:
        print(f"night {night}: after-load step {name} FAILED (see the log above)")
    rejected = [(r["night"], r["rejected"]) for r in results if r["rejected"]]
    for night, count in rejected:
        print(f"night {night}: {count:,} rows rejected by the load")
    nights = [r for r in results if r["night"] >= 1]
    if len(nights) < 2:
        print("\n(night 1 against night N needs two nights after night 0)")
        return
    one, last = nights[0], nights[-1]
    print(f"\n== Night 1 ({one['date']}) against night {last['night']} ({last['date']})")
    flat = True
    for key, label in (("load", "load"), ("after_load", "after-load"), ("wall", "whole night")):
        ratio, ok = verdict(one[key], last[key])
        flat = flat and (ok or key == "wall")
        print(
            f"{label:<12} {one[key]:8.1f} s  {last[key]:8.1f} s  ratio {ratio:5.2f}  {'within' if ok else 'OUTSIDE'} 10%"
        )
    print(
        f"flat: {'yes' if flat else 'no'} (within 10%: load and after-load, night 1 against night {last['night']})"
    )
    totals = {n: sum(r["steps"].get(n, 0) for r in nights) for n in names}
    print("\n== The slowest steps (mean seconds a night, nights 1..N)")
    for name, total in sorted(totals.items(), key=lambda kv: -kv[1])[:5]:
        print(f"{name:<20} {total / len(nights):8.2f} s")
    series = {n: [r["steps"].get(n, 0.0) for r in nights] for n in names}
    series["load"] = [r["load"] for r in nights]
    growing = growing_steps(series)
    print("\n== What grows with the nights (fitted over nights 1..N: above 10% of night 1 and 0.05 s)")
    if not growing:
        print("nothing: every step's time stays within 10% of night 1's (or 0.05 s)")
    for name, per_night, growth in growing:
        values = series[name]
        peak = max(range(len(values)), key=values.__getitem__)
        print(
            f"{name:<20} +{per_night * 1000:8.1f} ms a night, +{growth:6.2f} s over the run "
            f"(night 1: {values[0]:.2f} s, slowest: night {nights[peak]['night']} {nights[peak]['date']} "
            f"{values[peak]:.2f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--nights", type=int, default=30, help="nights after night 0 (the first load)")
    parser.add_argument("--db", default="nights_bench")
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench"), help="where the batches are kept")
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--first", default=FIRST_DAY, help="night 0's business date, YYYYMMDD")
    parser.add_argument("--from-night", type=int, help="continue --db, which holds nights 0..K-1")
    parser.add_argument(
        "--balances",
        choices=BALANCES,
        default="ordinary",
        help="which balances move from night to night: those of an ordinary day (about half of the "
        "customers' AUM) or every one (default: ordinary)",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=0,
        metavar="D",
        help="after night 0, write D calendar days of history before it (untimed) into the tables "
        "the after-load steps read back; 365 for the flatness verdict (default 0: none)",
    )
    parser.add_argument(
        "--phase", choices=["generate", "prepare", "night", "history"], help=argparse.SUPPRESS
    )
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        result = {
            "generate": lambda: phase_generate(
                args.customers, args.nights, args.dir, args.seed, args.first, args.balances
            ),
            "prepare": phase_prepare,
            "night": lambda: phase_night(args.path),
            "history": lambda: phase_history(args.history_days, args.first),
        }[args.phase]()
        print(RESULT + json.dumps(result, default=str), flush=True)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (postgres://user@host:port/anydb)")
    if args.nights < 1 or args.customers < 1:
        raise SystemExit("--customers and --nights must be 1 or more")
    if args.history_days < 0:
        raise SystemExit("--history-days must be 0 or more")
    db = plain(args.db)
    started = time.perf_counter()
    first = datetime.datetime.strptime(args.first, "%Y%m%d").date()
    dates = business_dates(first, args.nights + 1)
    directory = Path(args.dir) / f"nights-{args.customers}-{args.seed}-{dates[0]:%Y%m%d}-{args.balances}"
    marker = directory / ".nights"
    if marker.exists() and int(marker.read_text()) >= args.nights:
        print(f"== Reusing the batches in {directory}")
    else:
        print(
            f"== Generating night 0 and {args.nights} nights of {args.customers:,} customers in {directory}"
        )
        generated = run_phase(url, None, "--phase", "generate", "--customers", str(args.customers),
                              "--nights", str(args.nights), "--dir", str(directory), "--seed", str(args.seed),
                              "--first", f"{dates[0]:%Y%m%d}", "--balances", args.balances)  # fmt: skip
        print(
            f"   {generated['seconds']:.0f} s, {generated['bytes'] / 2**20:,.0f} MB; balances '{args.balances}': "
            f"{generated['balances_moved']:.0%} of the balances and the balances of "
            f"{generated['customers_moved']:.0%} of the customers move in a night"
        )

    print(f"== PostgreSQL: {server_settings(url)}")
    saved = directory / f"nights-{db}.json"
    results: list[dict] = []
    start = args.from_night or 0
    if start:
        newest = newest_loaded(url, db)
        if start > args.nights or newest != dates[start - 1]:
            raise SystemExit(
                f"--from-night {start}: {db} must hold nights 0..{start - 1}, up to {dates[start - 1]}; "
                f"its newest loaded business date is {newest} (and {start} must be at most --nights)"
            )
        results = [r for r in json.loads(saved.read_text()) if r["night"] < start] if saved.exists() else []
        print(f"== Continuing {db} from night {start} ({len(results)} earlier nights' results kept)")
    else:
        template = f"{db}_template"
        print(f"== A migrated database with the demo organisation ({template}), then {db} from it")
        admin(url, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
        admin(url, f"CREATE DATABASE {template}")
        run_phase(url, template, "--phase", "prepare")
        admin(url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin(url, f"CREATE DATABASE {db} TEMPLATE {template}")
        admin(url, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")

    inbox = directory / f"inbox-{db}"
    names: list[str] = []
    for night in range(start, args.nights + 1):
        day = dates[night]
        result = run_phase(
            url, db, "--phase", "night", "--path", str(directory / f"{day:%Y%m%d}"), inbox=inbox
        )
        statuses = [load["status"] for load in result["loads"]]
        if "loaded" not in statuses:
            raise SystemExit(f"night {night} ({day}): the batch did not load: {result['loads']}")
        result.update(night=night, date=day.isoformat())
        results.append(result)
        saved.write_text(json.dumps(results, indent=1))
        if not names:
            names = list(result["steps"])
            print(header(names), flush=True)
        print_row(result, names)
        if night == 0 and args.history_days:
            result["history"] = history = run_phase(
                url,
                db,
                "--phase",
                "history",
                "--history-days",
                str(args.history_days),
                "--first",
                f"{day:%Y%m%d}",
            )
            saved.write_text(json.dumps(results, indent=1))
            print_history(history, args.history_days, day)
        if night == 0:
            print_flush(f"   (untimed) VACUUM ANALYZE after night 0: {settle(url, db):.0f} s")
    if start and args.history_days:
        print("(--history-days is written after night 0: not again when continuing from a later night)")
    shutil.rmtree(inbox, ignore_errors=True)
    report(results)
    print(f"\nwhole benchmark: {(time.perf_counter() - started) / 60:.1f} min; {db} is left in place.")


if __name__ == "__main__":
    main()

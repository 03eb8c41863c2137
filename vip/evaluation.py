"""The nightly tier evaluation, set-based.

For every customer (merged records aside) one statement computes, from the monthly
average AUM (`customers.CustomerMonthlyAum`):

* the window sums: the sum of the month averages over the policy's window ending in
  the business date's month, and in each of the observation period's months before
  it (and the window before, for the growth rule), in whole cents;
* the rule rank of each window (the highest active level whose threshold × window
  the sum reaches; 0 = no tier);
* the decision: a running override pins its tier; otherwise an upgrade as soon as
  the latest window reaches a higher level; a downgrade only when every window of
  the observation period stays below the current level (to the best level any of
  them reached); a tier whose level was withdrawn is re-evaluated at once;
* the potential-VIP flag: the latest window within the policy's distance below the
  next level, or grown by the policy's percentage on the window before.

Only the customers whose tier or VIP status changes are kept (in a temporary table);
then one INSERT writes their history rows, one UPDATE ... FROM the customer rows,
one INSERT the reminders of their managers, one UPDATE ends the overrides that
expired. The same SQL runs on PostgreSQL and SQLite (3.33+); sums are integers
(cents), so both give exactly the same result. Running it twice for the same date
changes nothing the second time.

`evaluate_customer` is the same rule for one customer in plain Python: the
reference the tests compare the SQL with, and the per-customer baseline of
`bench/tier_evaluation.py`.
"""

from __future__ import annotations

import datetime
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import Action, audit
from core import locks
from core.months import month_back

from . import events
from .choices import RunStatus, TierChangeSource, VipStatus
from .models import TIER_CODE_RE, EvaluationRun, TierLevel, TierPolicy

# One evaluation at a time; the services that write a customer's tier or VIP status
# take the same lock shared, so nothing changes under a running evaluation.
LOCK_KEY = locks.TIER_EVALUATION
WORK_TABLE = "vip_eval_work"


def _json_pairs(*pairs: str) -> str:
    """A JSON object (as text) built in SQL from alternating key literals and columns."""
    function = "json_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"CAST({function}({', '.join(pairs)}) AS TEXT)"


@dataclass(frozen=True)
class LevelRule:
    code: str
    threshold_cents: int
    contact_interval_days: int


@dataclass(frozen=True)
class Rules:
    """The parameters one evaluation runs with (levels ascending by threshold)."""

    levels: tuple[LevelRule, ...]
    window: int
    observation: int
    distance_bp: int  # potential: within this many basis points below the next level
    growth_bp: int  # potential: grown by this many basis points on the window before
    growth_min_cents: int

    def as_json(self) -> dict:
        data = asdict(self)
        data["levels"] = [asdict(level) for level in self.levels]
        return data


def current_rules() -> Rules:
    policy = TierPolicy.current()
    levels = tuple(
        LevelRule(level.code, _cents(level.aum_threshold), level.contact_interval_days)
        for level in TierLevel.objects.filter(is_active=True).order_by("aum_threshold")
    )
    for level in levels:
        if not re.fullmatch(TIER_CODE_RE, level.code):  # they go into the SQL as literals
            raise ValueError(f"bad tier code {level.code!r}")
    return Rules(
        levels=levels,
        window=policy.window_months,
        observation=policy.observation_months,
        distance_bp=int(Decimal(policy.potential_distance_pct) * 100),
        growth_bp=int(Decimal(policy.growth_pct) * 100),
        growth_min_cents=_cents(policy.growth_min_aum),
    )


def _cents(amount) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def latest_business_date() -> datetime.date:
    """The latest date daily AUM was loaded for (its primary key leads with the
    date, so this is one index probe), else yesterday."""
    from customers.models import CustomerDailyAum

    latest = CustomerDailyAum.objects.aggregate(d=Max("business_date"))["d"]
    return latest or timezone.localdate() - datetime.timedelta(days=1)


def current_business_date() -> datetime.date:
    """The business date the bank's data stands at: the last loaded business date
    (customers.ingest), else the latest date with daily AUM (a seeded database), else
    yesterday. What the nightly jobs and the reports take for "today"."""
    from customers.ingest.loads import newest_loaded_date

    return newest_loaded_date() or latest_business_date()


# --- the rule for one customer, in Python ------------------------------------------


@dataclass(frozen=True)
class Decision:
    tier: str
    source: str  # a TierChangeSource value, "" when the tier stays
    window_sum_cents: int
    threshold_cents: int | None
    vip_status: str


def _rank(rules: Rules, window_sum: int) -> int:
    rank = 0
    for position, level in enumerate(rules.levels, start=1):
        if window_sum >= level.threshold_cents * rules.window:
            rank = position
    return rank


def evaluate_customer(
    *,
    rules: Rules,
    tier: str,
    vip_status: str,
    month_cents: dict[datetime.date, int],
    reference_month: datetime.date,
    override_tier: str | None = None,
    override_running: bool = False,
    override_expired: bool = False,
) -> Decision:
    """The evaluation of one customer: `month_cents` maps month starts to the month
    average AUM in cents (a missing month counts as zero)."""
    w, n = rules.window, rules.observation

    def window_sum(offset: int) -> int:
        return sum(month_cents.get(month_back(reference_month, offset + k), 0) for k in range(w))

    sums = [window_sum(o) for o in range(n)]
    previous = window_sum(w)
    r0 = _rank(rules, sums[0])
    rmax = max(_rank(rules, s) for s in sums)
    codes = {level.code: position for position, level in enumerate(rules.levels, start=1)}
    current = 0 if tier == "" else codes.get(tier, -1)

    if override_running:
        new_tier, source = override_tier or "", TierChangeSource.OVERRIDE
        new_rank = codes.get(new_tier, 0)
    else:
        if current == -1 or r0 > current:
            new_rank = r0
        elif rmax < current:
            new_rank = rmax
        else:
            new_rank = current
        new_tier = rules.levels[new_rank - 1].code if new_rank else ""
        if override_expired:
            source = TierChangeSource.OVERRIDE_END
        elif current == -1:
            source = TierChangeSource.RULE
        elif new_rank > current:
            source = TierChangeSource.UPGRADE
        else:
            source = TierChangeSource.DOWNGRADE
    threshold_rank = new_rank if new_rank >= current else current
    threshold = rules.levels[threshold_rank - 1].threshold_cents if threshold_rank > 0 else None
    if override_running:
        threshold = None

    # potential VIP
    flagged = False
    if r0 < len(rules.levels):
        next_threshold = rules.levels[r0].threshold_cents * w
        flagged = sums[0] * 10000 >= next_threshold * (10000 - rules.distance_bp)
    if sums[0] >= rules.growth_min_cents * w and sums[0] * 10000 >= previous * (10000 + rules.growth_bp):
        flagged = True
    new_status = vip_status
    if vip_status == VipStatus.NONE and flagged:
        new_status = VipStatus.POTENTIAL
    elif vip_status == VipStatus.POTENTIAL and not flagged:
        new_status = VipStatus.NONE
    return Decision(
        tier=new_tier,
        source=str(source) if new_tier != tier else "",
        window_sum_cents=sums[0],
        threshold_cents=threshold,
        vip_status=str(new_status),
    )


# --- the same, set-based ------------------------------------------------------------


def _literal(value: str) -> str:
    if not re.fullmatch(TIER_CODE_RE, value) and value not in ("",) and value not in TierChangeSource.values:
        raise ValueError(f"not a safe literal: {value!r}")
    return f"'{value}'"


def _greatest(expressions: list[str]) -> str:
    if len(expressions) == 1:
        return expressions[0]
    name = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})"


def _rank_sql(rules: Rules, sum_expr: str) -> str:
    arms = [
        f"WHEN {sum_expr} >= {level.threshold_cents * rules.window} THEN {position}"
        for position, level in reversed(list(enumerate(rules.levels, start=1)))
    ]
    return f"(CASE {' '.join(arms)} ELSE 0 END)" if arms else "0"


def _by_rank_sql(rules: Rules, rank_expr: str, values: list[str], default: str) -> str:
    arms = [f"WHEN {position} THEN {value}" for position, value in enumerate(values, start=1)]
    return f"(CASE {rank_expr} {' '.join(arms)} ELSE {default} END)" if arms else default


def _build_sql(rules: Rules, as_of: datetime.date) -> tuple[str, list]:
    """The statement that fills the work table with the customers that change."""
    ops = connection.ops
    w, n = rules.window, rules.observation
    reference = as_of.replace(day=1)
    span = max(n + w - 1, 2 * w)  # months of data the windows need
    date = ops.adapt_datefield_value

    def window_filter(offset: int) -> tuple[str, list]:
        return "m.month BETWEEN %s AND %s", [
            date(month_back(reference, offset + w - 1)),
            date(month_back(reference, offset)),
        ]

    cents = "CAST(ROUND(m.avg_aum * 100) AS BIGINT)"
    sum_columns, params = [], []
    for o in range(n):
        condition, values = window_filter(o)
        sum_columns.append(f"SUM({cents}) FILTER (WHERE {condition}) AS s{o}")
        params += values
    condition, values = window_filter(w)
    sum_columns.append(f"SUM({cents}) FILTER (WHERE {condition}) AS sp")
    params += values
    params += [date(month_back(reference, span - 1)), date(reference)]

    codes = [level.code for level in rules.levels]
    thresholds = [str(level.threshold_cents) for level in rules.levels]
    current_rank = (
        "(CASE c.tier WHEN '' THEN 0 "
        + " ".join(f"WHEN {_literal(code)} THEN {position}" for position, code in enumerate(codes, start=1))
        + " ELSE -1 END)"
    )
    ranks = [_rank_sql(rules, f"COALESCE(s.s{o}, 0)") for o in range(n)]
    code_of = _by_rank_sql(rules, "d.new_rank", [_literal(c) for c in codes], "''")
    threshold_rank = "(CASE WHEN d.new_rank >= d.cur THEN d.new_rank ELSE d.cur END)"
    threshold_of = _by_rank_sql(rules, threshold_rank, thresholds, "NULL")
    # Products computed here: integer literals multiplied in SQL could overflow int4.
    next_threshold = _by_rank_sql(
        rules,
        "d.r0 + 1",
        [str(level.threshold_cents * w * (10000 - rules.distance_bp)) for level in rules.levels],
        "NULL",
    )
    near = f"(d.s0 * 10000 >= {next_threshold})"
    grown = f"(d.s0 >= {rules.growth_min_cents * w} AND d.s0 * 10000 >= d.sp * {10000 + rules.growth_bp})"
    flagged = f"(COALESCE({near}, FALSE) OR {grown})"
    new_vip = (
        f"(CASE WHEN d.old_vip = '' AND {flagged} THEN 'potential' "
        f"WHEN d.old_vip = 'potential' AND NOT {flagged} THEN '' ELSE d.old_vip END)"
    )
    sql = f"""
        CREATE TEMP TABLE {WORK_TABLE} AS
        WITH sums AS (
            SELECT m.customer_id, {", ".join(sum_columns)}
              FROM customers_customermonthlyaum m
             WHERE m.month BETWEEN %s AND %s
             GROUP BY m.customer_id
        ),
        base AS (
            SELECT c.id AS customer_id, c.tier AS old_tier, c.vip_status AS old_vip,
                   c.primary_manager_id AS manager_id,
                   COALESCE(s.s0, 0) AS s0, COALESCE(s.sp, 0) AS sp,
                   {ranks[0]} AS r0, {_greatest(ranks)} AS rmax, {current_rank} AS cur,
                   o.tier AS o_tier,
                   CASE WHEN o.id IS NULL THEN 0 WHEN o.expires_on > %s THEN 1 ELSE 2 END AS o_state
              FROM customers_customer c
              LEFT JOIN sums s ON s.customer_id = c.id
              LEFT JOIN vip_tieroverride o ON o.customer_id = c.id AND o.ended_on IS NULL
             WHERE c.merged_into_id IS NULL
        ),
        decided AS (
            SELECT b.*,
                   CASE WHEN b.cur = -1 THEN b.r0 WHEN b.r0 > b.cur THEN b.r0
                        WHEN b.rmax < b.cur THEN b.rmax ELSE b.cur END AS new_rank
              FROM base b
        ),
        result AS (
            SELECT d.customer_id, d.old_tier, d.old_vip, d.manager_id, d.s0,
                   CASE WHEN d.o_state = 1 THEN d.o_tier ELSE {code_of} END AS new_tier,
                   CASE WHEN d.o_state = 1 THEN 'override' WHEN d.o_state = 2 THEN 'override_end'
                        WHEN d.cur = -1 THEN 'rule' WHEN d.new_rank > d.cur THEN 'upgrade'
                        ELSE 'downgrade' END AS source,
                   CASE WHEN d.o_state = 1 THEN NULL ELSE {threshold_of} END AS threshold_cents,
                   {new_vip} AS new_vip
              FROM decided d
        )
        SELECT * FROM result WHERE new_tier <> old_tier OR new_vip <> old_vip
    """
    params.append(date(as_of))
    return sql, params


@contextmanager
def _evaluation_lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    yield


def lock_against_evaluation() -> None:
    """For services that write a customer's tier or VIP status: wait while an
    evaluation runs (a shared hold of its lock, released at commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LOCK_KEY])


def evaluate_tiers(
    *, as_of: datetime.date | None = None, source: str = "nightly", remind: bool = True
) -> EvaluationRun:
    """Evaluate every customer's tier for the business date `as_of` (default the
    latest loaded) and return the run with its counts. One transaction: a run that
    fails changes nothing and can simply be run again."""
    as_of = as_of or latest_business_date()
    rules = current_rules()
    run = EvaluationRun.objects.create(as_of=as_of, source=source[:20], parameters=rules.as_json())
    started = time.perf_counter()
    try:
        with transaction.atomic():
            counts = _evaluate(run, rules, as_of, remind=remind)
            run.status = RunStatus.DONE
            run.counts = counts
            run.finished_at = timezone.now()
            run.seconds = round(time.perf_counter() - started, 3)
            run.save(update_fields=["status", "counts", "finished_at", "seconds"])
            audit(
                Action.TIER_CHANGED,
                target=run,
                target_repr=f"tier evaluation {as_of}",
                details={"run": run.pk, "as_of": as_of.isoformat(), **counts},
            )
    except Exception:
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), seconds=time.perf_counter() - started
        )
        raise
    return run


def _evaluate(run: EvaluationRun, rules: Rules, as_of: datetime.date, *, remind: bool) -> dict[str, Any]:
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    day = ops.adapt_datefield_value(as_of)
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}

    def step(name: str, sql: str, params: list | tuple = ()) -> int:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = max(cursor.rowcount, 0)
        timings[name] = round(time.perf_counter() - started, 3)
        return rows

    with _evaluation_lock():
        if connection.vendor == "postgresql":
            # For this transaction only: the window sums hash a row per customer
            # (give the aggregate room), and compiling the long CASE expressions
            # (JIT) costs more than it saves on a statement that runs once.
            step("settings", "SET LOCAL work_mem = '256MB'")
            step("jit", "SET LOCAL jit = off")
        step("drop", f"DROP TABLE IF EXISTS {WORK_TABLE}")
        sql, params = _build_sql(rules, as_of)
        step("evaluate", sql, params)
        if connection.vendor == "postgresql":
            step("analyze", f"ANALYZE {WORK_TABLE}")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT source, COUNT(*) FROM {WORK_TABLE} WHERE new_tier <> old_tier GROUP BY source"
            )
            by_source = dict(cursor.fetchall())
            cursor.execute(
                f"SELECT new_vip, COUNT(*) FROM {WORK_TABLE} WHERE new_vip <> old_vip GROUP BY new_vip"
            )
            by_status = dict(cursor.fetchall())
            cursor.execute("SELECT COUNT(*) FROM customers_customer WHERE merged_into_id IS NULL")
            counts["evaluated"] = cursor.fetchone()[0]
        for key in TierChangeSource.values:
            counts[key] = int(by_source.get(key, 0))
        counts["tier_changes"] = sum(int(v) for v in by_source.values())
        counts["potential_flagged"] = int(by_status.get(VipStatus.POTENTIAL, 0))
        counts["potential_cleared"] = int(by_status.get(VipStatus.NONE, 0))

        step(
            "history",
            f"""INSERT INTO vip_tierchange (customer_id, from_tier, to_tier, effective_date, source, run_id,
                                            reason, window_avg_aum, threshold, window_months,
                                            observation_months, created_at)
                SELECT customer_id, old_tier, new_tier, %s, source, %s, '',
                       ROUND(s0 / {rules.window}.0 / 100.0, 2),
                       CASE WHEN threshold_cents IS NULL THEN NULL ELSE threshold_cents / 100.0 END,
                       {rules.window}, {rules.observation}, %s
                  FROM {WORK_TABLE} WHERE new_tier <> old_tier""",
            [day, run.pk, now],
        )
        step(
            "status_history",
            f"""INSERT INTO vip_vipstatuschange (customer_id, from_status, to_status, effective_date, run_id,
                                                 tier, reason, benefits, created_at)
                SELECT customer_id, old_vip, new_vip, %s, %s, new_tier, 'rule', '', %s
                  FROM {WORK_TABLE} WHERE new_vip <> old_vip""",
            [day, run.pk, now],
        )
        counts["customers_updated"] = step(
            "update",
            f"""UPDATE customers_customer SET tier = e.new_tier, vip_status = e.new_vip
                  FROM {WORK_TABLE} e WHERE e.customer_id = customers_customer.id""",
        )
        counts["overrides_ended"] = step(
            "overrides",
            "UPDATE vip_tieroverride SET ended_on = %s, end_reason = 'expired' "
            "WHERE ended_on IS NULL AND expires_on <= %s",
            [day, day],
        )
        counts["reminders"] = 0
        if remind:
            # announced (vip.events): the alerts of keep close tell the managers
            started = time.perf_counter()
            counts["reminders"] += events.announce_rows(
                kind=events.TIER_CHANGE,
                day=as_of,
                select=f"""SELECT manager_id, customer_id,
                                  {_json_pairs("'from'", "old_tier", "'to'", "new_tier")}
                             FROM {WORK_TABLE} WHERE manager_id IS NOT NULL AND new_tier <> old_tier""",
                params=[],
            )
            counts["reminders"] += events.announce_rows(
                kind=events.POTENTIAL_VIP,
                day=as_of,
                select=f"""SELECT manager_id, customer_id, {_json_pairs("'tier'", "new_tier")}
                             FROM {WORK_TABLE} WHERE manager_id IS NOT NULL AND new_vip = 'potential'
                              AND old_vip <> 'potential'""",
                params=[],
            )
            timings["remind"] = round(time.perf_counter() - started, 3)
        step("drop_work", f"DROP TABLE {WORK_TABLE}")
    counts["timings"] = timings
    return counts

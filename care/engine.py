"""Running the alert rules (care.rules) for a business date, and escalating the alerts
left open past their due date.

- `alerts_evaluate(day=...)` runs every rule (or the given kinds) for the date, each
  one statement, all in one transaction with one audit event giving the count of
  new alerts per kind. Idempotent: the same date again adds nothing. On a
  database other than PostgreSQL (the demo's SQLite) the same rules run through
  the ORM (care.rules_portable), with the same alerts and the same audit event.
- `alerts_after_load(dates)` is the post-load step (crm_portal.tasks): every rule
  for each loaded date, oldest first, then the escalation.
- `alerts_daily()` is the beat job for the days without a batch: the rules that
  need no new data (birthdays, maturities, risk assessments, overdue contacts) for
  today, then the escalation.
- `alerts_escalate()` raises the alerts open past due by the parameter's number of
  days to the head of the nearest branch that has one (once per alert).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import Action, audit

from . import rules as alert_rules
from . import rules_portable as portable
from .parameters import current_parameters


def default_business_date() -> datetime.date:
    """The business date the rules run for (`vip.evaluation.current_business_date`)."""
    from vip.evaluation import current_business_date

    return current_business_date()


def _set_based() -> bool:
    """Whether the set-based statements of care.rules run here (PostgreSQL); elsewhere
    (the demo's embedded SQLite) care.rules_portable raises the same alerts."""
    return connection.vendor == "postgresql"


@transaction.atomic
def alerts_evaluate(
    *, day: datetime.date, kinds: Iterable[str] | None = None, source: str = "command"
) -> dict[str, int]:
    """Raise the alerts of the rules (all, or `kinds`) for business date `day`;
    returns the new alerts per kind."""
    wanted = set(kinds) if kinds is not None else None
    unknown = (wanted or set()) - {rule.kind for rule in alert_rules.RULES}
    if unknown:
        raise ValueError(f"unknown alert rules: {', '.join(sorted(unknown))}")
    params = current_parameters()
    ctx = alert_rules.Context(day=day, rules=params, now=timezone.now())
    set_based = _set_based()
    if set_based:
        with connection.cursor() as cursor:
            # Big hash joins and aggregates (the customer table, daily and monthly AUM)
            # stay in memory; JIT compiling each statement costs more than it saves here.
            cursor.execute(f"SET LOCAL work_mem = '{alert_rules.WORK_MEM}'")
            cursor.execute("SET LOCAL jit = off")
    assignees = None if set_based else portable.Assignees()
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    for rule in alert_rules.RULES:
        if wanted is not None and rule.kind not in wanted:
            continue
        began = time.perf_counter()
        if assignees is None:
            counts[str(rule.kind)] = rule.evaluate(ctx)
        else:
            counts[str(rule.kind)] = portable.evaluate(rule.kind, ctx, assignees)
        seconds[str(rule.kind)] = round(time.perf_counter() - began, 3)
    audit(
        Action.ALERTS_EVALUATED,
        actor_username="care.alerts",
        target_type="care.alert",
        target_repr=day.isoformat(),
        details={
            "business_date": day.isoformat(),
            "source": source,
            "counts": counts,
            "total": sum(counts.values()),
            "seconds": seconds,
            "total_seconds": round(time.perf_counter() - started, 3),
            "parameters": params.as_json(),
        },
    )
    return counts


@transaction.atomic
def alerts_escalate(*, today: datetime.date | None = None, source: str = "daily") -> int:
    """Escalate the alerts open past their due date by the parameter's days; returns
    how many were escalated now (each alert once)."""
    today = today or timezone.localdate()
    days = current_parameters().escalation_days
    escalate = alert_rules.escalate if _set_based() else portable.escalate
    escalated = escalate(today=today, days=days)
    audit(
        Action.ALERTS_ESCALATED,
        actor_username="care.alerts",
        target_type="care.alert",
        target_repr=today.isoformat(),
        details={"date": today.isoformat(), "days": days, "escalated": escalated, "source": source},
    )
    return escalated


def alerts_after_load(dates: Iterable[datetime.date]) -> dict[str, dict[str, int]]:
    """The post-load step: every rule for each loaded date (oldest first), then the
    escalation as of today."""
    done: dict[str, dict[str, int]] = {}
    for day in sorted(set(dates)):
        done[day.isoformat()] = alerts_evaluate(day=day, source="load")
    done["escalated"] = {"alerts": alerts_escalate(source="load")}
    return done


def alerts_daily(*, today: datetime.date | None = None) -> dict[str, object]:
    """The daily job: the rules that need no batch, for today, then the escalation."""
    today = today or timezone.localdate()
    kinds = [rule.kind for rule in alert_rules.RULES if not rule.needs_batch]
    counts = alerts_evaluate(day=today, kinds=kinds, source="daily")
    return {"counts": counts, "escalated": alerts_escalate(today=today, source="daily")}

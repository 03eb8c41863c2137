"""The save list's alerts (docs/analysis.md, "The save list"): each night, per
manager of record, the 20 customers with the highest value at risk among those
with a churn probability of at least 0.3 and a value at risk of at least 1,000
become `at_risk` alerts of the keep-close engine, high priority from a probability
of 0.6. Customers without a manager of record are ranked per home branch (the
branch pool) and go to the branch head.

The event is the month of the analysis ("2026-11"): a customer is raised at most
once a month, whatever the number of nights they stay on the list, and an alert
closed during the month is not raised again before the next one (the unique
constraint `alert_once_per_event` of care.Alert, as for every rule).

The alerts go in through care's own statement (`care.rules.INSERT_ALERTS`), which
decides whom each is for exactly as for care's rules: the manager of record if an
active user, else the head of the nearest branch at or above the customer's home
branch. Elsewhere than PostgreSQL (the demo's SQLite) the same alerts are written
through the ORM with care's portable assignees (`care.rules_portable.Assignees`).

Figures, numbers only (care.reasons makes the sentence; the 360 view's panel, where
the alert leads, words the reasons):
{"probability": "0.4200", "value_at_risk": "5185.00", "contribution": "12345.00"}."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, When
from django.utils import timezone

from accounts.audit import Action, audit
from accounts.roles import Role
from care.choices import AlertKind, AlertPriority, AlertStatus
from care.models import Alert
from care.parameters import current_parameters
from customers.choices import CustomerStatus

from .models import CustomerAnalysis

TOP_PER_MANAGER = 20
MIN_PROBABILITY = Decimal("0.3")
MIN_VALUE_AT_RISK = Decimal("1000")
HIGH_FROM = Decimal("0.6")

# The hits of care.rules.INSERT_ALERTS (customer_id, event_key, event_date, due_date,
# valid_until, figures, branch_id, manager_id): the customers analysed on %(d)s who
# pass both floors, ranked by value at risk within their manager's book (a pool
# customer within their home branch's pool), the first TOP_PER_MANAGER; of them the
# ones of one priority band (`%(high)s`: probability at or above HIGH_FROM or not),
# since the statement writes one priority.
AT_RISK_HITS = """
SELECT r.customer_id, %(month)s AS event_key, %(d)s::date AS event_date, %(d)s::date AS due_date,
       %(d)s::date + %(validity)s AS valid_until,
       jsonb_build_object('probability', r.churn_probability::text,
                          'value_at_risk', r.value_at_risk::text,
                          'contribution', r.contribution::text) AS figures,
       r.branch_id, r.manager_id
  FROM (SELECT a.customer_id, a.churn_probability, a.value_at_risk, a.contribution,
               c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id,
               ROW_NUMBER() OVER (
                   PARTITION BY c.primary_manager_id,
                                CASE WHEN c.primary_manager_id IS NULL THEN c.home_branch_id END
                   ORDER BY a.value_at_risk DESC, a.customer_id) AS position
          FROM analysis_customeranalysis a
          JOIN customers_customer c ON c.id = a.customer_id
         WHERE a.as_of = %(d)s AND a.churn_probability >= %(min_probability)s
           AND a.value_at_risk >= %(min_value)s
           AND c.merged_into_id IS NULL AND c.status <> %(closed)s) r
 WHERE r.position <= %(top)s AND (r.churn_probability >= %(high_from)s) = %(high)s
"""


def _month(as_of: datetime.date) -> str:
    return f"{as_of:%Y-%m}"


def _priority(probability: Decimal) -> int:
    return AlertPriority.HIGH if probability >= HIGH_FROM else AlertPriority.NORMAL


@transaction.atomic
def raise_at_risk_alerts(as_of: datetime.date) -> int:
    """Raise the month's at-risk alerts from the analysis of `as_of`; returns how
    many are new (0 on a second run in the same month). Audited as an evaluation of
    the alert rules."""
    validity = current_parameters().validity_days
    if connection.vendor == "postgresql":
        raised = _raise_set_based(as_of, validity)
    else:
        raised = _raise_portable(as_of, validity)
    audit(
        Action.ALERTS_EVALUATED,
        actor_username="analysis.alerts",
        target_type="care.alert",
        target_repr=as_of.isoformat(),
        details={
            "business_date": as_of.isoformat(),
            "source": "analysis",
            "counts": {str(AlertKind.AT_RISK): raised},
            "total": raised,
        },
    )
    return raised


def _raise_set_based(as_of: datetime.date, validity: int) -> int:
    from care.rules import INSERT_ALERTS

    statement = INSERT_ALERTS.replace("{hits}", AT_RISK_HITS)
    params: dict[str, Any] = {
        "kind": AlertKind.AT_RISK.value,
        "now": timezone.now(),
        "open": AlertStatus.OPEN.value,
        "head_role": Role.BRANCH_HEAD.value,
        "closed": CustomerStatus.CLOSED.value,
        "d": as_of,
        "month": _month(as_of),
        "validity": validity,
        "min_probability": MIN_PROBABILITY,
        "min_value": MIN_VALUE_AT_RISK,
        "top": TOP_PER_MANAGER,
        "high_from": HIGH_FROM,
    }
    raised = 0
    with connection.cursor() as cursor:
        for high, priority in ((True, AlertPriority.HIGH), (False, AlertPriority.NORMAL)):
            cursor.execute(statement, {**params, "high": high, "priority": int(priority)})
            raised += max(cursor.rowcount, 0)
    return raised


def _candidates(as_of: datetime.date) -> Iterator[tuple[Any, ...]]:
    """The rows passing both floors, each book's (a pool's) by value at risk."""
    return (
        CustomerAnalysis.objects.filter(
            as_of=as_of,
            churn_probability__gte=MIN_PROBABILITY,
            value_at_risk__gte=MIN_VALUE_AT_RISK,
            customer__merged_into__isnull=True,
        )
        .exclude(customer__status=CustomerStatus.CLOSED)
        .annotate(
            pool_branch=Case(
                When(customer__primary_manager__isnull=True, then=F("customer__home_branch_id")),
                default=None,
            )
        )
        .order_by("customer__primary_manager_id", "pool_branch", "-value_at_risk", "customer_id")
        .values_list(
            "customer_id",
            "churn_probability",
            "value_at_risk",
            "contribution",
            "customer__home_branch_id",
            "customer__primary_manager_id",
        )
        .iterator(chunk_size=2000)
    )


def _figures(probability: Decimal, value_at_risk: Decimal, contribution: Decimal) -> dict:
    """The figures as the set-based statement writes them (decimals as text)."""
    return {
        "probability": str(probability),
        "value_at_risk": str(value_at_risk),
        "contribution": str(contribution),
    }


def _raise_portable(as_of: datetime.date, validity: int) -> int:
    from care.rules_portable import BATCH, Assignees, Hit

    assignees = Assignees()
    month, now = _month(as_of), timezone.now()
    valid_until = as_of + datetime.timedelta(days=validity)
    before = Alert.objects.filter(kind=AlertKind.AT_RISK).count()
    batch: list[tuple[Hit, int]] = []
    group: tuple[Any, Any] | None = None
    position = 0

    def write(rows: list[tuple[Hit, int]]) -> None:
        whom = assignees.resolve([hit for hit, _priority in rows])
        Alert.objects.bulk_create(
            [
                Alert(
                    kind=AlertKind.AT_RISK,
                    customer_id=hit.customer_id,
                    event_key=hit.event_key,
                    event_date=hit.event_date,
                    due_date=hit.due_date,
                    valid_until=hit.valid_until,
                    priority=priority,
                    assignee_id=whom[(hit.customer_id, hit.event_key)],
                    branch_id=hit.branch_id,
                    figures=hit.figures,
                    status=AlertStatus.OPEN,
                    created_at=now,
                )
                for hit, priority in rows
            ],
            ignore_conflicts=True,
        )

    for customer_id, probability, value_at_risk, contribution, branch_id, manager_id in _candidates(as_of):
        # a manager's book, or (no manager of record) a branch's pool
        key = (manager_id, None if manager_id is not None else branch_id)
        position = position + 1 if key == group else 1
        group = key
        if position > TOP_PER_MANAGER:
            continue
        hit = Hit(
            customer_id=customer_id,
            event_key=month,
            event_date=as_of,
            due_date=as_of,
            valid_until=valid_until,
            figures=_figures(probability, value_at_risk, contribution),
            branch_id=branch_id,
            manager_id=manager_id,
        )
        batch.append((hit, _priority(probability)))
        if len(batch) >= BATCH:
            write(batch)
            batch = []
    if batch:
        write(batch)
    return Alert.objects.filter(kind=AlertKind.AT_RISK).count() - before

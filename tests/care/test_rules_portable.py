"""The portable evaluation of the alert rules (care.rules_portable: the ORM and Python,
for the demo's SQLite) raises exactly the alerts of the set-based statements
(care.rules, PostgreSQL) for the same data, dates and parameters, and escalates the
same alerts to the same heads."""

from __future__ import annotations

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from lunardate import LunarDate  # type: ignore[import-untyped]

from accounts.models import AuditEvent
from care import engine
from care import rules as alert_rules
from care import rules_portable as portable
from care.choices import AlertKind, AlertStatus
from care.models import Alert
from care.parameters import current_parameters
from customers.choices import (
    AccountCategory,
    AccountStatus,
    BirthdayCalendar,
    CustomerStatus,
    InteractionKind,
)
from customers.models import CustomerAssignment, CustomerMonthlyAum, Interaction, LoanStatus
from tests.care.test_rules_fixtures import account_fixture, customer_fixture  # noqa: F401
from tests.care.test_rules_support import D, daily_aum, days, profile
from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)
from vip.models import TierChange, TierOverride

pytestmark = pytest.mark.django_db

LUNAR_BIRTH = LunarDate(1980, 8, 15).to_solar_date()
LUNAR_DAY = LunarDate(2026, 8, 15).to_solar_date()
LUNAR_30TH_DAY = LunarDate(2026, 7, 29).to_solar_date()  # born on a 30th, a month of 29 days
# D, the next night, a lunar birthday, 29 February in a common and in a leap year
DATES = [
    days(-1),
    D,
    days(1),
    LUNAR_30TH_DAY,
    LUNAR_DAY,
    datetime.date(2027, 2, 25),
    datetime.date(2028, 2, 25),
]


@pytest.fixture
def levels(db):
    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)


def _interaction(person, manager, on: datetime.date, kind=InteractionKind.CALL) -> None:
    Interaction.objects.create(
        customer=person,
        kind=kind,
        subject="contact",
        manager=manager,
        occurred_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(23, 30))),
    )


@pytest.fixture
def world(customer, account, demo_users, levels, org):
    """Every rule's boundaries, and whom for: a manager of record, an inactive one (the
    branch head instead), none at a branch without a head (nobody)."""
    from vip.models import TierLevel

    cm1, cm2 = demo_users["demo_cm1"], demo_users["demo_cm2"]
    # birthdays: the window's edges, the new year, 29 February, born this year, lunar
    for offset in (-1, 0, 7, 8, 30):
        customer(birth_date=days(offset).replace(year=1980))
    customer(birth_date=datetime.date(1990, 1, 2))
    customer(birth_date=datetime.date(1980, 2, 29))
    customer(birth_date=datetime.date(1984, 2, 28))
    customer(birth_date=days(3))  # born this year: no birthday until next year
    customer(birth_date=LUNAR_BIRTH, birthday_calendar=BirthdayCalendar.LUNAR)
    customer(birth_date=LUNAR_BIRTH)
    customer(birth_date=LunarDate(1984, 7, 30).to_solar_date(), birthday_calendar=BirthdayCalendar.LUNAR)
    customer(birth_date=days(2).replace(year=1970), status=CustomerStatus.CLOSED)
    customer(birth_date=days(2).replace(year=1971), manager=cm2)  # cm2 leaves: the head instead
    customer(birth_date=days(2).replace(year=1972), manager=None, branch="12101")  # no head there
    customer(birth_date=days(2).replace(year=1973), manager=None)  # the head of 11100
    # maturities
    person = customer()
    account(person, category=AccountCategory.DEP_TIME, maturity_date=days(30), cny_balance="50000.5")
    account(person, category=AccountCategory.WEALTH, maturity_date=days(31))
    account(person, category=AccountCategory.INSURANCE, maturity_date=D, account_no="12")
    account(person, category=AccountCategory.DEP_TIME, maturity_date=days(-1))
    account(person, category=AccountCategory.DEP_TIME, maturity_date=days(3), status=AccountStatus.CLOSED)
    account(person, category=AccountCategory.DEP_CUR, maturity_date=days(3))
    # risk assessments
    for offset in (-40, -1, 0, 30, 31):
        customer(risk_expiry=days(offset))
    customer(risk_expiry=days(5), status=CustomerStatus.CLOSED)
    # outflows: both thresholds, one of them, from nothing, a third (-66.7), again the next night
    for before, now in (
        ("500000", "200000"),
        ("300000", "100000"),
        ("100000", "1000"),
        ("1000000", "750000"),
        ("0", "0"),
        ("200000.01", "100000.00"),
    ):
        person = customer()
        daily_aum(person, days(-7), before)
        daily_aum(person, days(-6), before)
        daily_aum(person, D, now)
        daily_aum(person, days(1), str(int(float(now) / 2)))
    # dormancy
    for status, last in (
        (CustomerStatus.DORMANT, days(-400)),
        (CustomerStatus.DORMANT, None),
        (CustomerStatus.ACTIVE, days(-180)),
        (CustomerStatus.ACTIVE, days(-179)),
        (CustomerStatus.ACTIVE, days(-181)),
        (CustomerStatus.ACTIVE, None),
    ):
        profile(customer(status=status, open_date=days(-900)), last_txn=last)
    customer(status=CustomerStatus.DORMANT)  # no profile, no open date
    # tier changes: two of the day (the latest), one of the day before
    person = customer(tier="gold")
    TierChange.objects.create(
        customer=person, from_tier="", to_tier="silver", effective_date=D, source="upgrade"
    )
    TierChange.objects.create(
        customer=person, from_tier="silver", to_tier="gold", effective_date=D, source="upgrade"
    )
    TierChange.objects.create(
        customer=customer(), from_tier="", to_tier="silver", effective_date=days(-1), source="upgrade"
    )
    # downgrade warnings: in the observation period, with an override running, still above
    from vip.evaluation import current_rules

    rules = current_rules()
    w = rules.window
    month = D.replace(day=1)

    def month_back(k: int) -> datetime.date:
        index = month.year * 12 + month.month - 1 - k
        return datetime.date(index // 12, index % 12 + 1, 1)

    gold = TierLevel.objects.get(code="gold")
    for kind in ("warned", "override", "above"):
        person = customer(tier="gold")
        CustomerMonthlyAum.objects.create(
            customer=person, month=month_back(w), avg_aum=gold.aum_threshold * w, end_aum=0, avg_liabilities=0
        )
        average = gold.aum_threshold + 1 if kind == "above" else "333.33"
        CustomerMonthlyAum.objects.create(
            customer=person, month=month, avg_aum=average, end_aum=0, avg_liabilities=0
        )
        if kind == "override":
            TierOverride.objects.create(
                customer=person, tier="gold", expires_on=days(60), reason="test", created_by=cm1
            )
    # overdue contacts: gold contacted long ago, lately, never; a book's top customer
    interval = gold.contact_interval_days
    for last in (days(-interval - 1), days(-interval), None):
        person = customer(tier="gold")
        CustomerAssignment.objects.filter(customer=person).update(start_date=days(-1000))
        if last is not None:
            _interaction(person, cm1, last)
    top = customer(aum="90000000", manager=cm2)
    CustomerAssignment.objects.filter(customer=top).update(start_date=days(-1000))
    _interaction(top, cm2, days(-400), kind=InteractionKind.VISIT)
    # loans and cards: across thresholds (a missed day, a jump, repaid), downgraded
    # (manager and head; an inactive manager: the head once; no head: nobody), closed
    loans = [
        (customer(), [(days(-1), 29, 1), (D, 31, 1), (days(1), 0, 1)]),
        (customer(), [(D, 75, 2), (days(1), 95, 2)]),
        (customer(), [(days(-1), 0, 2), (D, 3, 3), (days(1), 3, 4)]),
        (customer(manager=cm2), [(D, 0, 5)]),
        (customer(manager=None, branch="12101"), [(D, 90, 3)]),
        (customer(status=CustomerStatus.CLOSED), [(D, 90, 5)]),
    ]
    for n, (person, statuses) in enumerate(loans):
        loan = account(person, category=AccountCategory.CREDIT_CARD, account_no=f"43674200000{n:05d}")
        for on, late, risk in statuses:
            LoanStatus.objects.create(
                account=loan, business_date=on, overdue_days=late, overdue_amount=late * 10, risk_class=risk
            )
    # cm2 leaves without the customers being handed over
    type(cm2).objects.filter(pk=cm2.pk).update(is_active=False, status="disabled")


def _rows() -> set[tuple]:
    return {
        (
            a.kind,
            a.customer_id,
            a.event_key,
            a.event_date,
            a.due_date,
            a.valid_until,
            a.priority,
            a.assignee_id,
            a.branch_id,
            a.status,
            repr(sorted(a.figures.items())),
        )
        for a in Alert.objects.all()
    }


def _portable_run(day: datetime.date) -> dict[str, int]:
    ctx = alert_rules.Context(day=day, rules=current_parameters(), now=timezone.now())
    return {str(rule.kind): portable.evaluate(rule.kind, ctx) for rule in alert_rules.RULES}


def _sql_run(day: datetime.date) -> dict[str, int]:
    return engine.alerts_evaluate(day=day, source="test")


def test_portable_raises_exactly_the_alerts_of_the_statements(world, demo_users):
    sql_counts = [_sql_run(day) for day in DATES]
    by_sql = _rows()
    kinds = {row[0] for row in by_sql}
    # the data set reaches every rule
    assert kinds == {str(rule.kind) for rule in alert_rules.RULES}
    # whom for: a manager of record, the branch head instead of one who left, nobody
    assignees = {row[7] for row in by_sql}
    assert {demo_users["demo_cm1"].pk, demo_users["demo_bh"].pk, None} <= assignees
    assert demo_users["demo_cm2"].pk not in assignees
    # the overdue rule's priorities and the branch head's copy of a classification
    overdue = {(row[2].split(":")[0], row[6], row[7]) for row in by_sql if row[0] == AlertKind.OVERDUE}
    assert {
        ("due", 2, demo_users["demo_cm1"].pk),
        ("due", 1, None),
        ("class", 1, demo_users["demo_bh"].pk),
    } <= overdue
    assert any(row[0] == AlertKind.OVERDUE and row[2].endswith(":head") for row in by_sql)
    Alert.objects.all().delete()

    portable_counts = [_portable_run(day) for day in DATES]
    assert _rows() == by_sql
    assert portable_counts == sql_counts

    # a second run of every date adds nothing
    again = [_portable_run(day) for day in DATES]
    assert all(count == 0 for counts in again for count in counts.values())
    assert _rows() == by_sql


def test_the_portable_figures_are_written_as_the_statements_write_them(world):
    for day in DATES:
        _portable_run(day)
    outflow = Alert.objects.get(kind=AlertKind.LARGE_OUTFLOW, figures__aum_before="300000.00")
    assert outflow.figures == {
        "aum_before": "300000.00",
        "aum_now": "100000.00",
        "change": "-200000.00",
        "percent": "-66.7",
        "since": days(-7).isoformat(),
    }
    leap = Alert.objects.filter(kind=AlertKind.BIRTHDAY, figures__birthday="2027-02-28")
    assert {a.figures["age"] for a in leap} >= {47}  # born 29 February 1980
    lunar = Alert.objects.filter(kind=AlertKind.BIRTHDAY, figures__calendar="lunar", event_key="2026")
    assert {a.due_date for a in lunar} == {LUNAR_DAY, LUNAR_30TH_DAY}


def test_portable_escalation_matches_the_statement(world):
    if connection.vendor != "postgresql":
        pytest.skip("the statement it is compared with is PostgreSQL's SQL (DISTINCT ON)")
    for day in DATES:
        _sql_run(day)
    Alert.objects.filter(pk__in=Alert.objects.order_by("pk").values("pk")[:3]).update(
        status=AlertStatus.SNOOZED, snoozed_until=days(400)
    )
    now = timezone.now()

    def escalated(escalate) -> set[tuple]:
        class Undo(Exception):
            pass

        found: set[tuple] = set()
        try:
            with transaction.atomic():
                count = escalate(today=days(40), days=3, now=now)
                found = set(
                    Alert.objects.filter(escalated_at__isnull=False).values_list("pk", "escalated_to_id")
                )
                assert count == len(found)
                raise Undo
        except Undo:
            pass
        return found

    by_sql = escalated(alert_rules.escalate)
    assert by_sql, "the data set has alerts to escalate"
    assert escalated(portable.escalate) == by_sql


def test_alerts_evaluate_runs_the_portable_rules_off_postgresql(world, monkeypatch):
    # what the demo's SQLite gets: the same counts and the same audit event
    monkeypatch.setattr(engine, "_set_based", lambda: False)
    counts = engine.alerts_evaluate(day=D, source="test")
    assert counts == {
        str(rule.kind): Alert.objects.filter(kind=rule.kind).count() for rule in alert_rules.RULES
    }
    assert sum(counts.values()) > 0
    event = AuditEvent.objects.filter(action="alerts_evaluated").latest("id")
    assert event.details["counts"] == counts and event.details["total"] == sum(counts.values())
    assert set(event.details) == {
        "business_date",
        "source",
        "counts",
        "total",
        "seconds",
        "total_seconds",
        "parameters",
    }
    assert engine.alerts_evaluate(day=D, source="test") == dict.fromkeys(counts, 0)
    assert engine.alerts_escalate(today=days(40)) > 0

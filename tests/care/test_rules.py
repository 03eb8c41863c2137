"""Each alert rule of docs/alerts.md on its boundaries, for business date D, with the
figures the reason sentence reads."""

from __future__ import annotations

import datetime
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone
from lunardate import LunarDate  # type: ignore[import-untyped]

from care.choices import AlertKind, AlertPriority, AlertStatus
from care.rules import lunar_birthday_in
from customers.choices import (
    AccountCategory,
    AccountStatus,
    BirthdayCalendar,
    CustomerStatus,
    InteractionKind,
)
from customers.models import CustomerAssignment, CustomerMonthlyAum, Interaction
from tests.care.test_rules_fixtures import account_fixture, customer_fixture  # noqa: F401
from tests.care.test_rules_support import (
    D,
    alerts,
    daily_aum,
    days,
    profile,
    run,
)
from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)
from vip.models import TierChange

pytestmark = pytest.mark.django_db


# --- birthdays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "raised"),
    [
        (datetime.date(1980, 12, 4), True),  # d
        (datetime.date(1980, 12, 11), True),  # d + 7
        (datetime.date(1980, 12, 12), False),  # d + 8
        (datetime.date(1980, 12, 3), False),  # yesterday: next year's is far
    ],
)
def test_birthday_window_is_d_to_d_plus_7(customer, birth, raised):
    person = customer(birth_date=birth)
    run(D, AlertKind.BIRTHDAY)
    found = list(alerts(AlertKind.BIRTHDAY, person))
    assert bool(found) is raised
    if raised:
        (alert,) = found
        on = birth.replace(year=2026)
        assert alert.event_key == "2026"
        assert alert.due_date == alert.event_date == on
        assert alert.valid_until == on + datetime.timedelta(days=1)
        assert alert.figures == {"birthday": on.isoformat(), "age": 46, "calendar": "solar"}
        assert alert.priority == AlertPriority.LOW
        assert alert.status == AlertStatus.OPEN


def test_birthday_window_crosses_the_new_year(customer):
    person = customer(birth_date=datetime.date(1990, 1, 2))
    run(datetime.date(2026, 12, 28), AlertKind.BIRTHDAY)
    (alert,) = alerts(AlertKind.BIRTHDAY, person)
    assert alert.event_key == "2027"
    assert alert.figures == {"birthday": "2027-01-02", "age": 37, "calendar": "solar"}


def test_29_february_falls_on_28_february_in_other_years(customer):
    person = customer(birth_date=datetime.date(2000, 2, 29))
    # a non-leap year: on 28 February (d + 8 from the 20th, d + 7 from the 21st)
    run(datetime.date(2027, 2, 20), AlertKind.BIRTHDAY)
    assert not alerts(AlertKind.BIRTHDAY, person).exists()
    run(datetime.date(2027, 2, 21), AlertKind.BIRTHDAY)
    (alert,) = alerts(AlertKind.BIRTHDAY, person)
    assert alert.due_date == datetime.date(2027, 2, 28)
    assert alert.figures["birthday"] == "2027-02-28" and alert.figures["age"] == 27


def test_29_february_is_kept_in_a_leap_year(customer):
    person = customer(birth_date=datetime.date(2000, 2, 29))
    run(datetime.date(2028, 2, 22), AlertKind.BIRTHDAY)  # 28 Feb is in the window, 29 Feb is d + 7
    (alert,) = alerts(AlertKind.BIRTHDAY, person)
    assert alert.due_date == datetime.date(2028, 2, 29)
    assert alert.event_key == "2028"


def test_lunar_birthday_follows_the_lunar_calendar(customer):
    # born on the 15th of the 8th lunar month (Mid-Autumn) of 1980
    birth = LunarDate(1980, 8, 15).to_solar_date()
    this_year = LunarDate(2026, 8, 15).to_solar_date()
    assert this_year != birth.replace(year=2026)  # the two calendars disagree this year
    lunar = customer(birth_date=birth, birthday_calendar=BirthdayCalendar.LUNAR)
    solar = customer(birth_date=birth)
    assert birth.replace(year=2026) < this_year
    run(this_year, AlertKind.BIRTHDAY)
    (alert,) = alerts(AlertKind.BIRTHDAY, lunar)
    assert alert.due_date == this_year
    assert alert.figures == {"birthday": this_year.isoformat(), "age": 46, "calendar": "lunar"}
    assert alert.event_key == "2026"
    assert alert.assignee == lunar.primary_manager
    # the solar customer born the same day is not due then
    assert not alerts(AlertKind.BIRTHDAY, solar).exists()


def test_a_lunar_30th_falls_on_the_29th_in_a_short_month():
    # the 12th month of lunar 1980 has 30 days; find a later year where it has 29
    birth = LunarDate(1980, 12, 30).to_solar_date()
    short = next(y for y in range(2020, 2040) if _month_days(y, 12) == 29)
    assert lunar_birthday_in(birth, short) == LunarDate(short, 12, 29).to_solar_date()


def _month_days(year: int, month: int) -> int:
    try:
        LunarDate(year, month, 30).to_solar_date()
    except ValueError:
        return 29
    return 30


# --- maturities --------------------------------------------------------------------------


def test_maturity_window_is_d_to_d_plus_30(customer, account):
    person = customer()
    inside = account(
        person, category=AccountCategory.DEP_TIME, maturity_date=days(30), cny_balance="50000.00"
    )
    account(person, category=AccountCategory.WEALTH, maturity_date=days(31))
    account(person, category=AccountCategory.INSURANCE, maturity_date=D)
    run(D, AlertKind.MATURITY)
    found = list(alerts(AlertKind.MATURITY, person))
    assert sorted(a.due_date for a in found) == [D, days(30)]
    alert = next(a for a in found if a.due_date == days(30))
    assert alert.event_key == f"{inside.pk}:{days(30).isoformat()}"
    assert alert.valid_until == days(30)
    assert alert.figures == {
        "account_tail": inside.account_no[-4:],
        "category": "DEP_TIME",
        "maturity_date": days(30).isoformat(),
        "amount": "50000.00",
    }


def test_closed_accounts_and_other_categories_do_not_mature(customer, account):
    person = customer()
    account(person, category=AccountCategory.DEP_TIME, maturity_date=days(5), status=AccountStatus.CLOSED)
    account(person, category=AccountCategory.DEP_CUR, maturity_date=days(5))
    account(person, category=AccountCategory.LOAN_MORTGAGE, maturity_date=days(5))
    run(D, AlertKind.MATURITY)
    assert not alerts(AlertKind.MATURITY).exists()


# --- risk assessment ---------------------------------------------------------------------


def test_risk_expiry_within_30_days_and_expired(customer):
    soon = customer(risk_level="R3", risk_expiry=days(30))
    later = customer(risk_level="R3", risk_expiry=days(31))
    expired = customer(risk_level="R3", risk_expiry=days(-10))
    run(D, AlertKind.RISK_EXPIRY)
    (alert,) = alerts(AlertKind.RISK_EXPIRY, soon)
    assert alert.due_date == days(30) and alert.figures == {
        "expiry_date": days(30).isoformat(),
        "expired": False,
    }
    assert not alerts(AlertKind.RISK_EXPIRY, later).exists()
    (old,) = alerts(AlertKind.RISK_EXPIRY, expired)
    assert old.figures == {"expiry_date": days(-10).isoformat(), "expired": True}
    assert old.event_key == days(-10).isoformat()
    assert old.due_date == D  # due now, not in the past


# --- large outflow -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now", "raised"),
    [
        ("1000000.00", "700000.00", True),  # exactly -30% (and -300,000)
        ("1000000.00", "700000.01", False),  # just under 30%
        ("300000.00", "200000.00", True),  # exactly -100,000 (and -33.3%)
        ("300000.00", "200000.01", False),  # 33% but just under 100,000
        ("200000.00", "120000.00", False),  # -40% but only -80,000
        ("5000000.00", "4000000.00", False),  # -1,000,000 but only -20%
    ],
)
def test_large_outflow_needs_both_thresholds(customer, before, now, raised):
    person = customer()
    daily_aum(person, days(-7), before)
    daily_aum(person, D, now)
    run(D, AlertKind.LARGE_OUTFLOW)
    found = list(alerts(AlertKind.LARGE_OUTFLOW, person))
    assert bool(found) is raised
    if raised:
        (alert,) = found
        change = Decimal(now) - Decimal(before)
        assert alert.figures == {
            "aum_before": before,
            "aum_now": now,
            "change": str(change),
            "percent": str((change * 100 / Decimal(before)).quantize(Decimal("0.1"))),
            "since": days(-7).isoformat(),
        }
        assert alert.priority == AlertPriority.HIGH
        assert alert.event_key == D.isoformat() and alert.due_date == D


def test_outflow_compares_with_the_last_loaded_date_on_or_before_d_minus_7(customer):
    person = customer()
    daily_aum(person, days(-9), "1000000.00")  # a weekend/holiday gap: d-7 and d-8 not loaded
    daily_aum(person, days(-6), "650000.00")  # after d-7: not the reference
    daily_aum(person, D, "650000.00")
    run(D, AlertKind.LARGE_OUTFLOW)
    (alert,) = alerts(AlertKind.LARGE_OUTFLOW, person)
    assert alert.figures["since"] == days(-9).isoformat()
    assert alert.figures["percent"] == "-35.0"


def test_the_same_fall_is_not_raised_again_on_the_following_days(customer):
    person = customer()
    for offset in range(-9, 3):
        daily_aum(person, days(offset), "1000000.00" if offset < 0 else "500000.00")
    run(D, AlertKind.LARGE_OUTFLOW)
    run(days(1), AlertKind.LARGE_OUTFLOW)
    run(days(2), AlertKind.LARGE_OUTFLOW)
    assert alerts(AlertKind.LARGE_OUTFLOW, person).count() == 1


# --- dormancy ----------------------------------------------------------------------------


def test_dormant_status_raises_once_per_spell(customer):
    person = customer(status=CustomerStatus.DORMANT)
    profile(person, last_txn=days(-400))
    run(D, AlertKind.DORMANCY)
    run(days(1), AlertKind.DORMANCY)
    (alert,) = alerts(AlertKind.DORMANCY, person)
    assert alert.event_key == f"status:{D.isoformat()}"
    assert alert.figures == {"reason": "status", "last_transaction": days(-400).isoformat(), "days": 400}
    # a transaction after the alert, and dormant again later: a new spell
    profile(person, last_txn=days(3))
    run(days(200), AlertKind.DORMANCY)
    assert alerts(AlertKind.DORMANCY, person).count() == 2


@pytest.mark.parametrize(("idle_days", "raised"), [(180, True), (179, False)])
def test_no_transaction_for_180_days(customer, idle_days, raised):
    person = customer()
    profile(person, last_txn=days(-idle_days))
    run(D, AlertKind.DORMANCY)
    found = list(alerts(AlertKind.DORMANCY, person))
    assert bool(found) is raised
    if raised:
        assert found[0].event_key == f"idle:{days(-idle_days).isoformat()}"
        assert found[0].figures == {
            "reason": "no_transaction",
            "last_transaction": days(-idle_days).isoformat(),
            "days": 180,
        }


def test_an_active_customer_with_recent_transactions_is_not_dormant(customer):
    person = customer()
    profile(person, last_txn=days(-1))
    run(D, AlertKind.DORMANCY)
    assert not alerts(AlertKind.DORMANCY).exists()


# --- tier change, downgrade warning, overdue contact ----------------------------------------


def test_tier_change_of_the_day(customer):
    person = customer(tier="gold")
    TierChange.objects.create(
        customer=person, from_tier="silver", to_tier="gold", effective_date=D, source="upgrade"
    )
    other = customer()
    TierChange.objects.create(
        customer=other, from_tier="", to_tier="silver", effective_date=days(-1), source="upgrade"
    )
    run(D, AlertKind.TIER_CHANGE)
    (alert,) = alerts(AlertKind.TIER_CHANGE)
    assert alert.customer == person
    assert alert.figures == {"from": "silver", "to": "gold"}
    assert alert.event_key == D.isoformat()


@pytest.fixture
def levels(db):
    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)


def test_downgrade_warning_inside_the_observation_period(customer, levels):
    from vip.evaluation import current_rules
    from vip.models import TierLevel

    rules = current_rules()
    w, n = rules.window, rules.observation
    gold = TierLevel.objects.get(code="gold")
    person = customer(tier="gold")
    month = D.replace(day=1)

    def month_back(k: int) -> datetime.date:
        index = month.year * 12 + month.month - 1 - k
        return datetime.date(index // 12, index % 12 + 1, 1)

    # one strong month just before the latest window, nothing since: the latest
    # window falls below the threshold, the one ending last month is still at it
    CustomerMonthlyAum.objects.create(
        customer=person, month=month_back(w), avg_aum=gold.aum_threshold * w, end_aum=0, avg_liabilities=0
    )
    CustomerMonthlyAum.objects.create(customer=person, month=month, avg_aum=0, end_aum=0, avg_liabilities=0)
    assert n >= 2, "the default policy has an observation period"
    run(D, AlertKind.DOWNGRADE_WARNING)
    (alert,) = alerts(AlertKind.DOWNGRADE_WARNING, person)
    effective = month_back(-(n - 1))
    assert alert.due_date == effective and alert.event_key == effective.isoformat()
    assert alert.figures["tier"] == "gold"
    assert alert.figures["threshold"] == str(gold.aum_threshold)
    assert alert.figures["effective_date"] == effective.isoformat()


def test_contact_overdue_from_the_last_contact(customer, demo_users, levels):
    from vip.models import TierLevel

    interval = TierLevel.objects.get(code="gold").contact_interval_days
    person = customer(tier="gold")
    CustomerAssignment.objects.filter(customer=person).update(start_date=days(-1000))
    last = days(-interval - 1)
    Interaction.objects.create(
        customer=person,
        kind=InteractionKind.CALL,
        subject="call",
        manager=demo_users["demo_cm1"],
        occurred_at=timezone.make_aware(datetime.datetime.combine(last, datetime.time(10))),
    )
    contacted = customer(tier="gold")
    CustomerAssignment.objects.filter(customer=contacted).update(start_date=days(-1000))
    Interaction.objects.create(
        customer=contacted,
        kind=InteractionKind.VISIT,
        subject="visit",
        manager=demo_users["demo_cm1"],
        occurred_at=timezone.make_aware(datetime.datetime.combine(days(-interval), datetime.time(10))),
    )
    run(D, AlertKind.CONTACT_OVERDUE)
    (alert,) = alerts(AlertKind.CONTACT_OVERDUE, person)
    assert alert.figures == {
        "tier": "gold",
        "last_contact": last.isoformat(),
        "standard_days": interval,
        "overdue_since": days(-1).isoformat(),  # the day the contact fell due
    }
    assert alert.event_key == days(-1).isoformat() and alert.assignee == demo_users["demo_cm1"]
    assert not alerts(AlertKind.CONTACT_OVERDUE, contacted).exists()


def test_contact_overdue_and_the_vip_announcement_make_one_alert(customer, levels):
    # vip.standards announces the same overdue contact (care.services.alerts keeps it):
    # the same event key, so whichever runs first, there is one alert
    from vip.standards import contact_warnings_refresh

    person = customer(tier="gold")
    CustomerAssignment.objects.filter(customer=person).update(start_date=days(-1000))
    contact_warnings_refresh(as_of=D)
    assert alerts(AlertKind.CONTACT_OVERDUE, person).count() == 1
    run(D, AlertKind.CONTACT_OVERDUE)
    contact_warnings_refresh(as_of=D)
    (alert,) = alerts(AlertKind.CONTACT_OVERDUE, person)
    assert alert.figures["last_contact"] is None
    assert alert.event_key == alert.figures["overdue_since"]

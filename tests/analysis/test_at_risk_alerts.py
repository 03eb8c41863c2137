"""The save list's nightly alerts (analysis.alerts.raise_at_risk_alerts): per
manager of record the 20 customers with the most value at risk among those at
least 30% likely to leave with at least 1,000 CNY at risk, once per customer and
month, high priority from 60%, for the manager (else the branch head). Run on the
embedded SQLite and on PostgreSQL alike (the ORM path and care's statement)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.audit import Action
from accounts.models import AuditEvent, User, UserStatus
from analysis.alerts import raise_at_risk_alerts
from care.choices import AlertKind, AlertPriority, AlertStatus
from care.models import Alert
from care.reasons import alert_reason
from tests.analysis.save_helpers import AS_OF, analysed
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _alerts():
    return Alert.objects.filter(kind=AlertKind.AT_RISK)


@pytest.fixture
def cm1(demo_users) -> User:
    return demo_users["demo_cm1"]


def test_a_customer_at_risk_becomes_an_alert_for_their_manager(new_customer, cm1):  # noqa: F811
    # given a customer 40% likely to leave with 12,000 CNY of contribution at risk
    customer = new_customer(branch="11101", manager=cm1)
    analysed(
        customer,
        churn_probability="0.4200",
        contribution="30000",
        aum_change_3m=Decimal("-0.35"),
        push_aum_change_3m=25,
        dormant_days=120,
        push_dormant_days=8,
    )

    # when the night's alerts are raised
    raised = raise_at_risk_alerts(AS_OF)

    # then one alert, for the manager, of the month, with the figures only
    assert raised == 1
    alert = _alerts().get()
    assert (alert.customer_id, alert.assignee_id, alert.branch_id) == (
        customer.pk,
        cm1.pk,
        customer.home_branch_id,
    )
    assert alert.event_key == "2026-11"
    assert alert.event_date == AS_OF and alert.due_date == AS_OF
    assert alert.valid_until is not None and alert.valid_until > AS_OF
    assert alert.status == AlertStatus.OPEN
    assert alert.priority == AlertPriority.NORMAL
    assert alert.figures == {
        "probability": "0.4200",
        "value_at_risk": "12600.00",
        "contribution": "30000.00",
    }
    assert customer.name not in str(alert.figures)
    assert alert_reason(alert) == (
        "Churn probability 42.0%: 12,600.00 CNY of a 12-month contribution of 30,000.00 CNY at risk"
    )
    # audited as an evaluation of the alert rules
    event = AuditEvent.objects.filter(action=Action.ALERTS_EVALUATED, target_repr=AS_OF.isoformat()).get()
    assert event.details["counts"] == {"at_risk": 1}


def test_only_customers_over_both_floors_are_raised(new_customer, cm1):  # noqa: F811
    likely = new_customer(branch="11101", manager=cm1)
    unlikely = new_customer(branch="11101", manager=cm1)
    small = new_customer(branch="11101", manager=cm1)
    losing = new_customer(branch="11101", manager=cm1)
    analysed(likely, churn_probability="0.3000", contribution="3334")  # 1,000.20 at risk
    analysed(unlikely, churn_probability="0.2999", contribution="900000")
    analysed(small, churn_probability="0.9000", contribution="1110")  # 999.00 at risk
    analysed(losing, churn_probability="0.9000", contribution="-50000", value_at_risk=Decimal("0"))

    assert raise_at_risk_alerts(AS_OF) == 1
    assert list(_alerts().values_list("customer_id", flat=True)) == [likely.pk]


def test_the_month_raises_each_customer_once_and_the_next_month_again(new_customer, cm1):  # noqa: F811
    customer = new_customer(branch="11101", manager=cm1)
    row = analysed(customer)
    assert raise_at_risk_alerts(AS_OF) == 1

    # the same night again, and a later night of the month, add nothing
    assert raise_at_risk_alerts(AS_OF) == 0
    row.as_of = datetime.date(2026, 11, 30)
    row.save()
    # closed by the manager in the meantime: not raised again this month
    _alerts().update(status=AlertStatus.DISMISSED)
    assert raise_at_risk_alerts(AS_OF) == 0
    assert _alerts().count() == 1

    # next month the customer is still at risk: a new alert
    december = datetime.date(2026, 12, 1)
    row.as_of = december
    row.save()
    assert raise_at_risk_alerts(december) == 1
    assert sorted(_alerts().values_list("event_key", flat=True)) == ["2026-11", "2026-12"]


def test_rows_of_another_night_are_not_raised(new_customer, cm1):  # noqa: F811
    analysed(new_customer(branch="11101", manager=cm1), as_of=AS_OF - datetime.timedelta(days=1))
    assert raise_at_risk_alerts(AS_OF) == 0


def test_high_priority_from_sixty_percent(new_customer, cm1):  # noqa: F811
    high = new_customer(branch="11101", manager=cm1)
    normal = new_customer(branch="11101", manager=cm1)
    analysed(high, churn_probability="0.6000")
    analysed(normal, churn_probability="0.5999")

    assert raise_at_risk_alerts(AS_OF) == 2
    priorities = dict(_alerts().values_list("customer_id", "priority"))
    assert priorities == {high.pk: AlertPriority.HIGH, normal.pk: AlertPriority.NORMAL}


def test_the_twenty_most_at_risk_of_each_manager(new_customer, demo_users, cm1):  # noqa: F811
    # 21 customers of cm1, the value at risk rising with the number; one of cm2
    book = []
    for n in range(21):
        customer = new_customer(branch="11101", manager=cm1)
        analysed(customer, churn_probability="0.5000", contribution=str(10000 + n * 1000))
        book.append(customer)
    colleague = new_customer(branch="11102", manager=demo_users["demo_cm2"])
    analysed(colleague, churn_probability="0.5000", contribution="2500")

    assert raise_at_risk_alerts(AS_OF) == 21
    raised = set(_alerts().values_list("customer_id", flat=True))
    assert book[0].pk not in raised  # the least at risk of cm1's 21
    assert raised == {c.pk for c in book[1:]} | {colleague.pk}
    assert _alerts().filter(assignee=cm1).count() == 20


def test_without_an_active_manager_the_branch_head_is_told(new_customer, demo_users, cm1):  # noqa: F811
    pool = new_customer(branch="11101")  # no manager of record
    left = new_customer(branch="11102", manager=demo_users["demo_cm2"])
    User.objects.filter(pk=demo_users["demo_cm2"].pk).update(is_active=False, status=UserStatus.DISABLED)
    analysed(pool)
    analysed(left)

    assert raise_at_risk_alerts(AS_OF) == 2
    head = demo_users["demo_bh"]  # the head of 11100, above both outlets
    assert dict(_alerts().values_list("customer_id", "assignee_id")) == {pool.pk: head.pk, left.pk: head.pk}


def test_a_merged_customer_is_not_raised(new_customer, cm1):  # noqa: F811
    survivor = new_customer(branch="11101", manager=cm1)
    merged = new_customer(branch="11101", manager=cm1, merged_into=survivor)
    analysed(merged)
    assert raise_at_risk_alerts(AS_OF) == 0

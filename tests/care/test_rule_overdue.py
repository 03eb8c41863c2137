"""The `overdue` rule (docs/alerts.md): a loan or card past due raises an alert when it
crosses 1, 30, 60 and 90 days, once per delinquency episode and threshold; a move to
classification 3 or worse raises a high-priority alert for the manager and one for
the branch head. Every scenario runs through the set-based statement (PostgreSQL) and
the portable ORM evaluation (SQLite), which must agree."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from care import engine, parameters
from care.choices import AlertKind, AlertPriority
from care.models import AlertParameterProposal
from care.reasons import alert_reason
from customers.choices import AccountCategory, CustomerStatus, RiskClass
from customers.models import LoanStatus
from tests.care.test_rules_fixtures import account_fixture, customer_fixture  # noqa: F401
from tests.care.test_rules_support import D, alerts, days, run
from tests.customers.conftest import add_account, new_customer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

OVERDUE = AlertKind.OVERDUE


@pytest.fixture(params=["statement", "portable"], autouse=True)
def path(request, monkeypatch):
    """Each test twice: the set-based statements where the database has them, and the
    portable rules."""
    if request.param == "portable":
        monkeypatch.setattr(engine, "_set_based", lambda: False)
    return request.param


@pytest.fixture
def loan(customer, account):
    """A mortgage ending 1234 of a customer of demo_cm1."""

    def _make(
        person=None, *, category=AccountCategory.LOAN_MORTGAGE, account_no="6222020000001234", **fields
    ):
        return account(person or customer(**fields), category=category, account_no=account_no)

    return _make


def status(account, day: datetime.date, overdue_days: int = 0, amount: str = "0", risk=RiskClass.NORMAL):
    LoanStatus.objects.create(
        account=account, business_date=day, overdue_days=overdue_days, overdue_amount=amount, risk_class=risk
    )


def evaluate(day: datetime.date = D) -> int:
    return run(day, OVERDUE)[OVERDUE]


def thresholds(person) -> list[int]:
    return [a.figures["threshold"] for a in alerts(OVERDUE, person) if "threshold" in a.figures]


def test_each_threshold_is_raised_once_in_an_episode(loan, demo_users):
    mortgage = loan()
    person = mortgage.customer
    start = days(-89)
    for offset, amount in ((0, "5000.00"), (29, "10000.00"), (59, "15000.00"), (89, "20000.00")):
        status(mortgage, days(offset, start), offset + 1, amount)
    for day in (start, days(10, start), days(29, start), days(59, start), days(89, start)):
        evaluate(day)
    raised = list(alerts(OVERDUE, person))
    assert [a.figures["threshold"] for a in raised] == [1, 30, 60, 90]
    assert [a.event_date for a in raised] == [start, days(29, start), days(59, start), D]
    assert {a.event_key for a in raised} == {
        f"due:{mortgage.pk}:{start.isoformat()}:{n}" for n in (1, 30, 60, 90)
    }
    # normal below 60 days past due, high from 60
    assert [a.priority for a in raised] == [AlertPriority.NORMAL] * 2 + [AlertPriority.HIGH] * 2
    assert {a.assignee for a in raised} == {demo_users["demo_cm1"]}
    assert raised[1].figures == {
        "account": mortgage.pk,
        "tail": "1234",
        "category": "LOAN_MORTGAGE",
        "days": 30,
        "amount": "10000.00",
        "threshold": 30,
    }
    # evaluating the dates again adds nothing
    assert evaluate(D) == 0 and evaluate(days(29, start)) == 0
    assert alerts(OVERDUE, person).count() == 4


def test_a_jump_over_thresholds_raises_only_the_highest(loan):
    missed, sudden = loan(), loan(account_no="6222020000005678")
    status(missed, days(-3), 29, "900.00")
    status(missed, D, 31, "950.00")  # a missed day: still crosses 30
    status(sudden, D, 65, "3000.00")  # from current straight to 65: 60, not 1 or 30
    assert evaluate(days(-3)) == 1  # 29 days: 1 crossed (from current)
    assert evaluate(D) == 2
    assert thresholds(missed.customer) == [1, 30]
    assert thresholds(sudden.customer) == [60]
    assert alerts(OVERDUE, sudden.customer).get().priority == AlertPriority.HIGH


def test_a_change_without_a_new_threshold_raises_nothing(loan):
    mortgage = loan()
    status(mortgage, days(-5), 31, "100.00")
    status(mortgage, D, 45, "200.00")  # still between 30 and 60
    evaluate(days(-5))
    assert evaluate(D) == 0
    assert thresholds(mortgage.customer) == [30]


def test_a_new_episode_raises_again(loan):
    mortgage = loan()
    status(mortgage, days(-40), 1, "100.00")
    status(mortgage, days(-20), 0)  # repaid
    status(mortgage, D, 1, "120.00")  # late again: a new episode
    for day in (days(-40), days(-20), D):
        evaluate(day)
    keys = list(alerts(OVERDUE, mortgage.customer).values_list("event_key", flat=True))
    assert keys == [f"due:{mortgage.pk}:{days(-40).isoformat()}:1", f"due:{mortgage.pk}:{D.isoformat()}:1"]


def test_a_closed_alert_of_the_episode_is_not_raised_again(loan):
    mortgage = loan()
    status(mortgage, D, 30, "100.00")
    evaluate(D)
    alerts(OVERDUE, mortgage.customer).update(status="done")
    assert evaluate(D) == 0


def test_classification_substandard_alerts_the_manager_and_the_branch_head(loan, demo_users):
    card = loan(category=AccountCategory.CREDIT_CARD, account_no="4367420000005678")
    status(card, days(-30), 0, risk=RiskClass.SPECIAL_MENTION)
    status(card, D, 0, risk=RiskClass.SUBSTANDARD)
    evaluate(days(-30))  # special mention: nothing
    assert not alerts(OVERDUE).exists()
    assert evaluate(D) == 2
    manager, head = alerts(OVERDUE, card.customer).order_by("event_key")  # the head's key ends ":head"
    assert (manager.assignee, head.assignee) == (demo_users["demo_cm1"], demo_users["demo_bh"])
    assert manager.priority == head.priority == AlertPriority.HIGH
    assert (
        manager.figures
        == head.figures
        == {
            "account": card.pk,
            "tail": "5678",
            "category": "CREDIT_CARD",
            "class": 3,
            "from": 2,
        }
    )
    assert head.event_key == f"{manager.event_key}:head"
    assert manager.branch == head.branch == card.customer.home_branch
    assert evaluate(D) == 0  # once


def test_a_move_from_3_to_4_raises_again_within_1_and_2_not(loan, demo_users):
    mortgage = loan()
    status(mortgage, days(-20), risk=RiskClass.SPECIAL_MENTION)
    status(mortgage, days(-10), risk=RiskClass.NORMAL)
    status(mortgage, days(-5), risk=RiskClass.SUBSTANDARD)
    status(mortgage, D, risk=RiskClass.DOUBTFUL)
    status(mortgage, days(1), risk=RiskClass.SUBSTANDARD)  # better: nothing
    assert [evaluate(day) for day in (days(-20), days(-10), days(-5), D, days(1))] == [0, 0, 2, 2, 0]
    doubtful = alerts(OVERDUE, mortgage.customer).filter(figures__class=4)
    assert {(a.figures["from"], a.assignee_id) for a in doubtful} == {
        (3, demo_users["demo_cm1"].pk),
        (3, demo_users["demo_bh"].pk),
    }


def test_the_classification_parameter_moves_the_line(loan, demo_users, make_user):
    proposal = parameters.alert_parameters_propose(
        by=demo_users["demo_pm"], values={"overdue_class": 2}, reason="watch list"
    )
    parameters.alert_parameters_approve(proposal=proposal, by=make_user(Role.PARAMETER_MANAGER, "10000"))
    mortgage = loan()
    status(mortgage, D, risk=RiskClass.SPECIAL_MENTION)
    assert evaluate(D) == 2


def test_a_customer_without_a_manager_goes_to_the_branch_head(loan, customer, demo_users):
    mortgage = loan(customer(manager=None))
    status(mortgage, D, 30, "500.00", risk=RiskClass.SUBSTANDARD)
    evaluate(D)
    raised = alerts(OVERDUE, mortgage.customer)
    # the past-due alert and one classification alert (not two for the same head)
    assert sorted(a.event_key.split(":")[0] for a in raised) == ["class", "due"]
    assert {a.assignee for a in raised} == {demo_users["demo_bh"]}


def test_a_manager_who_left_is_replaced_by_the_head_once(loan, customer, demo_users):
    cm2 = demo_users["demo_cm2"]
    mortgage = loan(customer(manager=cm2))
    type(cm2).objects.filter(pk=cm2.pk).update(is_active=False, status="disabled")
    status(mortgage, D, risk=RiskClass.LOSS)
    assert evaluate(D) == 1
    assert alerts(OVERDUE, mortgage.customer).get().assignee == demo_users["demo_bh"]


def test_a_head_who_is_the_manager_gets_one_alert(loan, customer, demo_users):
    mortgage = loan(customer(manager=demo_users["demo_bh"]))
    status(mortgage, D, risk=RiskClass.SUBSTANDARD)
    assert evaluate(D) == 1
    assert alerts(OVERDUE, mortgage.customer).get().assignee == demo_users["demo_bh"]


def test_closed_and_merged_customers_are_skipped(loan, customer):
    closed = loan(customer(status=CustomerStatus.CLOSED))
    survivor = customer()
    merged = loan(customer(merged_into=survivor), account_no="6222020000009999")
    for account in (closed, merged):
        status(account, D, 90, "100.00", risk=RiskClass.LOSS)
    assert evaluate(D) == 0


def test_the_sentence_names_the_product_the_tail_and_the_classes(loan):
    mortgage = loan(name="李四")
    card = loan(mortgage.customer, category=AccountCategory.CREDIT_CARD, account_no="4367420000005678")
    status(mortgage, D, 30, "5000.00")
    status(card, days(-1), risk=RiskClass.SPECIAL_MENTION)
    status(card, D, risk=RiskClass.SUBSTANDARD)
    evaluate(days(-1))
    evaluate(D)
    reasons = {alert_reason(a) for a in alerts(OVERDUE, mortgage.customer)}
    assert reasons == {
        "Mortgage loan ****1234 is 30 days past due: 5,000.00 CNY",
        "Credit card ****5678 classified Substandard (was Special mention)",
    }
    text = " ".join(reasons)
    for secret in ("6222020000001234", "4367420000005678", "李四", mortgage.customer.customer_no):
        assert secret not in text
    assert "LOAN_MORTGAGE" not in text and "CREDIT_CARD" not in text


def test_the_sentence_survives_odd_figures():
    class Odd:
        kind = OVERDUE
        figures = {"tail": "6222020000001234", "category": "NOPE", "days": 1, "amount": "x"}
        event_date = D

    assert alert_reason(Odd()) == "Account ****1234 is 1 day past due: — CNY"
    Odd.figures = {"class": 9, "from": None}
    assert alert_reason(Odd()) == "Account ****— classified — (was —)"


def test_the_thresholds_are_a_parameter(loan, demo_users, make_user):
    assert parameters.current_parameters().overdue_thresholds == (1, 30, 60, 90)
    proposal = parameters.alert_parameters_propose(
        by=demo_users["demo_pm"], values={"overdue_thresholds": "45, 15 ,15", "overdue_high_days": 45},
        reason="earlier calls",
    )  # fmt: skip
    assert proposal.changes == {"overdue_thresholds": "15,45", "overdue_high_days": "45"}
    parameters.alert_parameters_approve(proposal=proposal, by=make_user(Role.PARAMETER_MANAGER, "10000"))
    assert parameters.current_parameters().overdue_thresholds == (15, 45)
    mortgage = loan()
    status(mortgage, days(-1), 30, "100.00")
    status(mortgage, D, 50, "100.00")
    evaluate(days(-1))
    evaluate(D)
    assert [(a.figures["threshold"], a.priority) for a in alerts(OVERDUE, mortgage.customer)] == [
        (15, AlertPriority.NORMAL),
        (45, AlertPriority.HIGH),
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"overdue_thresholds": ""}, "at least one number"),
        ({"overdue_thresholds": "1,x"}, "x is not a number"),
        ({"overdue_thresholds": "0,30"}, "between 1 and 3660"),
        ({"overdue_thresholds": "1,30.5"}, "whole number"),
        ({"overdue_thresholds": ",".join(str(n) for n in range(1, 12))}, "at most 10 numbers"),
        ({"overdue_thresholds": "90,60,30,1"}, "Nothing would change"),
        ({"overdue_high_days": 0}, "between 1 and 3660"),
        ({"overdue_class": 1}, "between 2 and 5"),
        ({"overdue_class": 6}, "between 2 and 5"),
        ({"priority_overdue": 0}, "between 1 and 3"),
    ],
)
def test_bad_overdue_parameters_are_refused(demo_users, values, message, path):
    if path == "portable":
        pytest.skip("no rule runs")
    with pytest.raises(ValidationError, match=message):
        parameters.alert_parameters_propose(by=demo_users["demo_pm"], values=values, reason="try this")
    assert not AlertParameterProposal.objects.exists()


def test_the_admin_form_refuses_bad_thresholds_and_proposes_good_ones(client, demo_users, path):
    if path == "portable":
        pytest.skip("no rule runs")
    client.force_login(demo_users["demo_pm"])
    form = {
        name: parameters.PARAMETERS[name].text(value) for name, value in parameters.parameter_values().items()
    }
    page = client.get("/admin/care/alertparameterproposal/add/")
    assert 'value="1,30,60,90"' in page.content.decode()
    url = "/admin/care/alertparameterproposal/add/"
    refused = client.post(url, {**form, "overdue_thresholds": "1,abc", "reason": "new lines"})
    assert refused.status_code == 200 and "abc is not a number" in refused.content.decode()
    assert not AlertParameterProposal.objects.exists()
    client.post(url, {**form, "overdue_thresholds": "1,30,60,90,120", "reason": "new lines"})
    assert AlertParameterProposal.objects.get().changes == {"overdue_thresholds": "1,30,60,90,120"}

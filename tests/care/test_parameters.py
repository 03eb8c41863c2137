"""The alert parameters change only through maker-checker: proposed by a parameter
manager, in force only once someone else approves; the next evaluation uses them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from accounts.roles import Role
from care import parameters
from care.choices import AlertKind, AlertPriority
from care.models import AlertParameterProposal
from core.approvals import ApprovalStatus
from tests.care.test_rules_fixtures import account_fixture, customer_fixture  # noqa: F401
from tests.care.test_rules_support import D, alerts, run
from tests.customers.conftest import new_customer  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def checker(make_user):
    return make_user(Role.PARAMETER_MANAGER, "10000")


def _propose(users, **values):
    return parameters.alert_parameters_propose(by=users["demo_pm"], values=values, reason="quarterly review")


def test_the_defaults_are_the_spec(db):
    rules = parameters.current_parameters()
    assert (rules.birthday_days, rules.maturity_days, rules.risk_expiry_days) == (7, 30, 30)
    assert (rules.outflow_lookback_days, rules.outflow_percent, rules.outflow_amount) == (7, 30, 100000)
    assert (rules.dormancy_days, rules.escalation_days) == (180, 3)
    assert rules.priorities[AlertKind.LARGE_OUTFLOW] == AlertPriority.HIGH


def test_a_proposal_changes_nothing_until_someone_else_approves(demo_users, checker):
    proposal = _propose(demo_users, birthday_days=10, outflow_percent="25.5")
    assert proposal.status == ApprovalStatus.PENDING
    assert proposal.changes == {"birthday_days": "10", "outflow_percent": "25.5"}
    assert proposal.base == {"birthday_days": "7", "outflow_percent": "30"}
    assert parameters.current_parameters().birthday_days == 7
    with pytest.raises(PermissionDenied, match="your own"):
        parameters.alert_parameters_approve(proposal=proposal, by=demo_users["demo_pm"])
    assert parameters.current_parameters().birthday_days == 7
    parameters.alert_parameters_approve(proposal=proposal, by=checker, note="ok")
    rules = parameters.current_parameters()
    assert rules.birthday_days == 10 and rules.outflow_percent == Decimal("25.5")
    assert rules.maturity_days == 30  # the others stay
    assert AuditEvent.objects.filter(action="parameter_changed", details__status="approved").count() == 1


def test_the_engine_uses_the_approved_values(customer, demo_users, checker):
    person = customer(birth_date=datetime.date(1980, 12, 13))  # d + 9
    run(D, AlertKind.BIRTHDAY)
    assert not alerts(AlertKind.BIRTHDAY, person).exists()
    proposal = _propose(demo_users, birthday_days=10, priority_birthday=1)
    run(D, AlertKind.BIRTHDAY)
    assert not alerts(AlertKind.BIRTHDAY, person).exists()  # pending: not in force
    parameters.alert_parameters_approve(proposal=proposal, by=checker)
    run(D, AlertKind.BIRTHDAY)
    assert alerts(AlertKind.BIRTHDAY, person).get().priority == AlertPriority.HIGH


def test_a_rejected_proposal_applies_nothing(demo_users, checker):
    proposal = _propose(demo_users, escalation_days=5)
    with pytest.raises(ValidationError):
        parameters.alert_parameters_reject(proposal=proposal, by=checker, note="")
    parameters.alert_parameters_reject(proposal=proposal, by=checker, note="not now")
    assert AlertParameterProposal.objects.get(pk=proposal.pk).status == ApprovalStatus.REJECTED
    assert parameters.current_parameters().escalation_days == 3


def test_a_proposal_over_values_that_moved_since_is_refused(demo_users, checker):
    first = _propose(demo_users, dormancy_days=200)
    second = _propose(demo_users, dormancy_days=150)
    parameters.alert_parameters_approve(proposal=first, by=checker)
    with pytest.raises(ValidationError, match="changed since"):
        parameters.alert_parameters_approve(proposal=second, by=checker)
    assert parameters.current_parameters().dormancy_days == 200
    assert AlertParameterProposal.objects.get(pk=second.pk).status == ApprovalStatus.PENDING


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"birthday_days": "7.5"}, "whole number"),
        ({"birthday_days": "-1"}, "between 0 and 60"),
        ({"outflow_percent": "abc"}, "not a number"),
        ({"outflow_percent": "30.123"}, "at most 2 decimals"),
        ({"priority_birthday": 4}, "between 1 and 3"),
        ({"no_such_thing": 1}, "Unknown alert parameter"),
        ({"birthday_days": 7}, "Nothing would change"),
        ({}, "at least one"),
    ],
)
def test_bad_proposals_are_refused(demo_users, values, message):
    with pytest.raises(ValidationError, match=message):
        _propose(demo_users, **values)
    assert not AlertParameterProposal.objects.exists()


def test_only_a_parameter_manager_proposes(demo_users):
    for who in ("demo_bm", "demo_cm1", "demo_audit"):
        with pytest.raises(PermissionDenied):
            parameters.alert_parameters_propose(
                by=demo_users[who], values={"birthday_days": 9}, reason="why not"
            )


def test_a_system_administrator_may_approve_an_auditor_may_not(demo_users):
    proposal = _propose(demo_users, maturity_days=45)
    with pytest.raises(PermissionDenied):
        parameters.alert_parameters_approve(proposal=proposal, by=demo_users["demo_audit"])
    parameters.alert_parameters_approve(proposal=proposal, by=demo_users["demo_admin"])
    assert parameters.current_parameters().maturity_days == 45


def test_the_admin_proposes_and_another_approves(client, demo_users, checker):
    # the add form proposes (nothing in force yet)
    client.force_login(demo_users["demo_pm"])
    form = {
        name: parameters.PARAMETERS[name].text(value) for name, value in parameters.parameter_values().items()
    }
    response = client.post(
        "/admin/care/alertparameterproposal/add/", {**form, "maturity_days": "40", "reason": "longer notice"}
    )
    assert response.status_code == 302
    proposal = AlertParameterProposal.objects.get()
    assert proposal.changes == {"maturity_days": "40"} and proposal.proposed_by == demo_users["demo_pm"]
    assert parameters.current_parameters().maturity_days == 30
    # the proposer's own approval is refused, another parameter manager's applies
    client.post(
        "/admin/care/alertparameterproposal/",
        {"action": "approve", "_selected_action": [proposal.pk], "note": ""},
    )
    assert parameters.current_parameters().maturity_days == 30
    client.logout()
    client.force_login(checker)
    client.post(
        "/admin/care/alertparameterproposal/",
        {"action": "approve", "_selected_action": [proposal.pk], "note": ""},
    )
    assert parameters.current_parameters().maturity_days == 40
    page = client.get("/admin/care/alertparameters/")
    assert page.status_code == 200

"""One maker-checker flow: `accounts.approvals.decide` driven alike for every flow
that needs a second person (tier parameters, customer transfers, campaigns, the
contact-frequency policy, product changes, user accounts, FTP spreads). The proposer cannot
decide, a rejection needs a reason, a decided item stays decided, a user without
the flow's permission is refused, an approval applies the flow's effect and
writes one audit event, a rejection applies nothing."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.approvals import ApprovalFlow, decide, flows, withdraw
from accounts.models import AuditEvent, User
from accounts.roles import Role
from accounts.services import USER_FLOW, user_request
from care import parameters as alert_parameters
from core.approvals import ApprovalRecord, ApprovalStatus
from credit import services as credit_services  # noqa: F401  (defines the credit-report query flow)
from marketing import catalogue
from marketing import services as marketing
from marketing.choices import CampaignObjective, PolicyStatus
from marketing.models import Campaign, ContactPolicy, Product
from performance import parameters as ftp
from tests.conftest import PASSWORD
from tests.customers.conftest import new_customer  # noqa: F401  (fixture)
from vip import services as vip
from vip.models import TierLevel

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    """One pending item of a flow and the people around it."""

    flow: ApprovalFlow
    item: ApprovalRecord
    proposer: User
    checker: User  # holds the permission, did not propose
    outsider: User  # does not hold the permission
    applied: Callable[[], bool]  # whether the flow's effect happened


@pytest.fixture(autouse=True)
def _default_levels():
    # The levels the data migration makes (a transactional test elsewhere may
    # have flushed them).
    import_module("vip.migrations.0002_default_levels").create_defaults(apps, None)


def _parameters(users, make_user, make_customer) -> Case:
    proposal = vip.parameter_propose(
        proposed_by=users["demo_pm"],
        reason="quarterly review",
        levels={"gold": {"contact_interval_days": 45}},
    )
    return Case(
        flow=vip.PARAMETER_FLOW,
        item=proposal,
        proposer=users["demo_pm"],
        checker=make_user(Role.PARAMETER_MANAGER, "10000"),
        outsider=users["demo_bm"],
        applied=lambda: TierLevel.objects.get(code="gold").contact_interval_days == 45,
    )


def _transfer(users, make_user, make_customer) -> Case:
    # the branch head asks (and could approve others' requests); head office decides
    customer = make_customer(manager=users["demo_cm1"])
    transfer = vip.transfer_request(
        customer=customer, to_manager=users["demo_cm2"], by=users["demo_bh"], reason="moved to Wudaokou"
    )

    def applied() -> bool:
        customer.refresh_from_db()
        return customer.primary_manager_id == users["demo_cm2"].pk

    return Case(
        flow=vip.TRANSFER_FLOW,
        item=transfer,
        proposer=users["demo_bh"],
        checker=users["demo_bm"],
        outsider=users["demo_cm2"],
        applied=applied,
    )


def _campaign(users, make_user, make_customer) -> Case:
    bm = users["demo_bm"]
    product = Product.objects.create(
        code="TD-12M", name="一年定期", category="DEP_TIME", sale_start=datetime.date(2020, 1, 1)
    )
    today = timezone.localdate()
    campaign = marketing.campaign_create(
        user=bm,
        name="季末存款",
        objective=CampaignObjective.CROSS_SELL,
        segment=marketing.segment_save(user=bm, name="大额客户", rules={"aum_min": "50000"}),
        channels=["call"],
        budget=Decimal("1000"),
        start_date=today,
        end_date=today + datetime.timedelta(days=20),
        products=[product],
    )
    campaign = marketing.campaign_submit(campaign=campaign, user=bm)
    # an approved campaign may start: that is what its approval does
    return Case(
        flow=marketing.CAMPAIGN_FLOW,
        item=campaign,
        proposer=bm,
        checker=make_user(Role.BUSINESS_MANAGER, "10000"),
        outsider=users["demo_pm"],
        applied=lambda: Campaign.objects.get(pk=campaign.pk).status == "approved",
    )


def _policy(users, make_user, make_customer) -> Case:
    in_force = ContactPolicy.objects.create(
        max_contacts=3,
        window_days=7,
        quiet_start=datetime.time(21),
        quiet_end=datetime.time(8),
        status=PolicyStatus.ACTIVE,
    )
    proposal = ContactPolicy.objects.create(
        max_contacts=1,
        window_days=30,
        quiet_start=datetime.time(22),
        quiet_end=datetime.time(7),
        proposed_by=users["demo_pm"],
    )

    def applied() -> bool:
        in_force.refresh_from_db()
        proposal.refresh_from_db()
        return in_force.status == PolicyStatus.RETIRED and proposal.status == PolicyStatus.ACTIVE

    return Case(
        flow=marketing.POLICY_FLOW,
        item=proposal,
        proposer=users["demo_pm"],
        checker=make_user(Role.PARAMETER_MANAGER, "10000"),
        outsider=users["demo_bm"],
        applied=applied,
    )


def _product(users, make_user, make_customer) -> Case:
    Product.objects.create(code="TD-12M", name="一年定期", category="DEP_TIME", rate=Decimal("1.65"))
    change = catalogue.product_change_propose(
        proposed_by=users["demo_pm"], reason="rate review", products={"TD-12M": {"rate": "1.75"}}
    )
    return Case(
        flow=catalogue.PRODUCT_FLOW,
        item=change,
        proposer=users["demo_pm"],
        checker=make_user(Role.PARAMETER_MANAGER, "10000"),
        outsider=users["demo_bm"],
        applied=lambda: Product.objects.get(code="TD-12M").rate == Decimal("1.75"),
    )


def _user(users, make_user, make_customer) -> Case:
    account = user_request(
        requested_by=users["demo_admin"],
        username="zhang.wei",
        employee_no="E7788",
        display_name="张伟",
        branch=users["demo_cm1"].branch,
        roles=[Role.CLIENT_MANAGER],
        password=PASSWORD,
    )
    return Case(
        flow=USER_FLOW,
        item=account,
        proposer=users["demo_admin"],
        checker=users["demo_audit"],
        outsider=users["demo_bm"],
        applied=lambda: User.objects.get(pk=account.pk).is_active,
    )


def _user_change(users, make_user, make_customer) -> Case:
    from accounts.user_changes import USER_CHANGE_FLOW, user_change_request

    mover = make_user(Role.CLIENT_MANAGER, "11102")
    change = user_change_request(
        user=mover,
        roles=[Role.BRANCH_HEAD],
        branch=users["demo_bh"].branch,
        reason="promotion",
        requested_by=users["demo_admin"],
    )
    return Case(
        flow=USER_CHANGE_FLOW,
        item=change,
        proposer=users["demo_admin"],
        checker=make_user(Role.SYSTEM_ADMIN, "10000"),
        outsider=users["demo_audit"],
        applied=lambda: set(mover.groups.values_list("name", flat=True)) == {Role.BRANCH_HEAD},
    )


def _ftp(users, make_user, make_customer) -> Case:
    proposal = ftp.ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
    return Case(
        flow=ftp.FTP_FLOW,
        item=proposal,
        proposer=users["demo_pm"],
        checker=make_user(Role.PARAMETER_MANAGER, "10000"),
        outsider=users["demo_bm"],
        applied=lambda: ftp.spreads_for(None)["DEP_CUR"] == Decimal("0.0210"),
    )


def _alert_parameters(users, make_user, make_customer) -> Case:
    proposal = alert_parameters.alert_parameters_propose(
        by=users["demo_pm"], values={"maturity_days": 45}, reason="longer notice"
    )
    return Case(
        flow=alert_parameters.ALERT_PARAMETER_FLOW,
        item=proposal,
        proposer=users["demo_pm"],
        checker=make_user(Role.PARAMETER_MANAGER, "10000"),
        outsider=users["demo_bm"],
        applied=lambda: alert_parameters.current_parameters().maturity_days == 45,
    )


def _credit_query(users, make_user, make_customer) -> Case:
    from credit import services as credit
    from credit.choices import QueryPurpose, QueryStatus
    from credit.models import CreditQuery

    head = users["demo_bh"]  # asks, and may approve (not their own)
    customer = make_customer(manager=users["demo_cm1"])
    today = timezone.localdate()
    credit.authorization_record(
        customer=customer,
        form_reference="SCAN-0001",
        purpose=QueryPurpose.LOAN_APPROVAL,
        signed_on=today,
        valid_until=today + datetime.timedelta(days=90),
        by=users["demo_cm1"],
    )
    query = credit.query_request(customer=customer, purpose=QueryPurpose.LOAN_APPROVAL, by=head)
    return Case(
        flow=credit.QUERY_FLOW,
        item=query,
        proposer=head,
        checker=make_user(Role.BRANCH_HEAD, head.branch.code),
        outsider=users["demo_audit"],
        # the flow approves; credit.services.query_approve then sends it to the bureau
        applied=lambda: CreditQuery.objects.get(pk=query.pk).status == QueryStatus.APPROVED,
    )


CASES = {
    "parameters": _parameters,
    "transfer": _transfer,
    "campaign": _campaign,
    "policy": _policy,
    "product": _product,
    "user": _user,
    "user_change": _user_change,
    "ftp": _ftp,
    "alert_parameters": _alert_parameters,
    "credit_query": _credit_query,
}


@pytest.fixture(params=list(CASES))
def case(request, demo_users, make_user) -> Case:
    return CASES[request.param](demo_users, make_user, request.getfixturevalue("new_customer"))


def _reloaded(case: Case) -> Any:
    return type(case.item).objects.get(pk=case.item.pk)


def _decisions():
    """Every decision in the audit trail (proposals are events too, not decisions)."""
    return AuditEvent.objects.filter(details__decision__in=["approved", "rejected", "withdrawn"])


def _decision_events(case: Case, decision: str):
    return AuditEvent.objects.filter(action=case.flow.action_for(decision), details__decision=decision)


def _still_pending(case: Case) -> None:
    item = _reloaded(case)
    assert item.approval_status == ApprovalStatus.PENDING
    assert item.decided_by_id is None and item.decided_at is None
    assert not case.applied()
    assert not _decisions().exists()


def test_every_approval_record_has_one_flow():
    models = {m._meta.label_lower for m in apps.get_models() if issubclass(m, ApprovalRecord)}
    assert (
        models
        == set(flows())
        == {
            "vip.parameterproposal",
            "vip.transferrequest",
            "marketing.campaign",
            "marketing.contactpolicy",
            "marketing.productchange",
            "accounts.user",
            "accounts.userchangerequest",
            "performance.ftpproposal",
            "performance.publication",
            "performance.scheme",
            "performance.dispute",
            "care.alertparameterproposal",
            "credit.creditquery",
        }
    )


def test_the_proposer_cannot_decide(case):
    # the proposer holds the right to decide: only the maker-checker rule stops them
    assert case.proposer.has_perm(case.flow.permission)
    for approve in (True, False):
        with pytest.raises(PermissionDenied, match="your own"):
            decide(case.flow, case.item, by=case.proposer, approve=approve, note="my own proposal")
    _still_pending(case)


def test_a_rejection_needs_a_reason(case):
    for note in ("", "   ", "no"):
        with pytest.raises(ValidationError) as refused:
            decide(case.flow, case.item, by=case.checker, approve=False, note=note)
        assert refused.value.code == "reason_required"
        assert "Give a reason" in refused.value.messages[0]
    _still_pending(case)


def test_a_decided_item_cannot_be_decided_again(case):
    decide(case.flow, case.item, by=case.checker, approve=True, note="fine")
    for approve in (True, False):
        with pytest.raises(ValidationError) as refused:
            decide(case.flow, case.item, by=case.checker, approve=approve, note="once more")
        assert refused.value.code == "not_pending"
        assert "only when it is" in refused.value.messages[0]
    item = _reloaded(case)
    assert item.approval_status == ApprovalStatus.APPROVED
    assert _decision_events(case, ApprovalStatus.APPROVED).count() == 1
    assert not _decision_events(case, ApprovalStatus.REJECTED).exists()


def test_a_rejected_item_cannot_be_approved_afterwards(case):
    decide(case.flow, case.item, by=case.checker, approve=False, note="not this time")
    with pytest.raises(ValidationError, match="only when it is"):
        decide(case.flow, case.item, by=case.checker, approve=True)
    assert not case.applied()


def test_the_row_is_locked_for_the_decision(case):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite serialises whole transactions)")
    with CaptureQueriesContext(connection) as queries:
        decide(case.flow, case.item, by=case.checker, approve=True)
    table = f'"{case.item._meta.db_table}"'
    assert any(table in q["sql"] and "FOR UPDATE" in q["sql"] for q in queries.captured_queries)


def test_a_user_without_the_permission_is_refused(case):
    assert not case.outsider.has_perm(case.flow.permission)
    for approve in (True, False):
        with pytest.raises(PermissionDenied):
            decide(case.flow, case.item, by=case.outsider, approve=approve, note="not mine to decide")
    _still_pending(case)


def test_an_approval_applies_the_effect_and_writes_one_audit_event(case):
    decided = decide(case.flow, case.item, by=case.checker, approve=True, note="  looks right ")
    assert case.applied()
    item = _reloaded(case)
    assert item.approval_status == ApprovalStatus.APPROVED == decided.approval_status
    assert (item.decided_by, item.decision_note) == (case.checker, "looks right")
    assert item.decided_at is not None
    # one event says so (the effect may write its own history, e.g. an assignment)
    (event,) = _decisions()
    assert event.action == case.flow.action_for(ApprovalStatus.APPROVED)
    assert event.details["decision"] == "approved" and event.details["note"] == "looks right"
    assert event.actor == case.checker


def test_a_rejection_applies_nothing(case):
    decide(case.flow, case.item, by=case.checker, approve=False, note="not now, next quarter")
    assert not case.applied()
    item = _reloaded(case)
    assert item.approval_status == ApprovalStatus.REJECTED
    assert (item.decided_by, item.decision_note) == (case.checker, "not now, next quarter")
    (event,) = _decisions()
    assert event.action == case.flow.action_for(ApprovalStatus.REJECTED)
    assert event.details["decision"] == "rejected" and event.details["note"] == "not now, next quarter"
    assert event.actor == case.checker


def test_only_the_proposer_withdraws_where_a_flow_allows_it(case):
    if case.item.status_for(ApprovalStatus.WITHDRAWN) is None:
        with pytest.raises(ValueError):
            withdraw(case.flow, case.item, by=case.proposer)
        return
    with pytest.raises(PermissionDenied, match="proposer"):
        withdraw(case.flow, case.item, by=case.checker)
    withdraw(case.flow, case.item, by=case.proposer)
    assert _reloaded(case).approval_status == ApprovalStatus.WITHDRAWN
    with pytest.raises(ValidationError, match="only when it is"):
        decide(case.flow, case.item, by=case.checker, approve=True)
    assert not case.applied()


class TestARefusedEffectDecidesNothing:
    def test_parameters_that_moved_since_the_proposal(self, demo_users, make_user):
        case = _parameters(demo_users, make_user, None)
        TierLevel.objects.filter(code="gold").update(contact_interval_days=60)
        with pytest.raises(ValidationError, match="changed since"):
            decide(case.flow, case.item, by=case.checker, approve=True)
        assert _reloaded(case).approval_status == ApprovalStatus.PENDING
        assert not _decision_events(case, ApprovalStatus.APPROVED).exists()

    def test_a_product_that_moved_since_the_change(self, demo_users, make_user):
        case = _product(demo_users, make_user, None)
        Product.objects.filter(code="TD-12M").update(rate=Decimal("1.70"))
        with pytest.raises(ValidationError, match="changed since"):
            decide(case.flow, case.item, by=case.checker, approve=True)
        assert _reloaded(case).approval_status == ApprovalStatus.PENDING
        assert Product.objects.get(code="TD-12M").rate == Decimal("1.70")

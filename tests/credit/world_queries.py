"""The URL harness's objects of credit (queries); see tests/url_world.py.

For each client manager, a customer of their own kept for credit-report queries,
with the customer's written authorizations for loan and card approval (valid), and
two queries of the manager for loan approval: one waiting for a decision and one
approved that the bureau failed (sent through `FailingBureau`; approved by demo_bh
in Beijing, by a branch head of Pudong in Shanghai)."""

from __future__ import annotations

import datetime

from django.test import override_settings

from credit.bureau import BureauError, BureauRequest, BureauResult


class FailingBureau:
    """A bureau that never answers (tests of the failure path)."""

    def query(self, request: BureauRequest) -> BureauResult:
        raise BureauError("bureau unreachable (timeout after 30 s)")


def build(world, today: datetime.date) -> None:
    from accounts.roles import Role
    from credit import services
    from credit.choices import QueryPurpose
    from tests.url_world import WHO, WHO_MANAGER, _customer, _provision

    world.users["bh_12100"] = _provision(world.org, "bh_12100", Role.BRANCH_HEAD, "12100", "HC1210")
    approver = {"cm1": world.users["demo_bh"], "cm2": world.users["demo_bh"], "cm3": world.users["bh_12100"]}
    world.customers["credit"] = {who: _customer(world, who) for who in WHO}
    authorizations, pending, failed = {}, {}, {}
    for who in WHO:
        manager, customer = world.users[WHO_MANAGER[who]], world.customer("credit", who)
        for number, purpose in enumerate((QueryPurpose.LOAN_APPROVAL, QueryPurpose.CARD_APPROVAL), start=1):
            authorization = services.authorization_record(
                customer=customer,
                form_reference=f"SCAN-{who}-{number}",
                purpose=purpose,
                signed_on=today - datetime.timedelta(days=30),
                valid_until=today + datetime.timedelta(days=300),
                by=manager,
            )
            authorizations.setdefault(who, authorization)
        failing = services.query_request(customer=customer, purpose=QueryPurpose.LOAN_APPROVAL, by=manager)
        with override_settings(CREDIT_BUREAU_BACKEND="tests.credit.world_queries.FailingBureau"):
            failed[who] = services.query_approve(query=failing, by=approver[who])
        pending[who] = services.query_request(
            customer=customer, purpose=QueryPurpose.LOAN_APPROVAL, by=manager
        )
    world.objects["credit_authorization"] = authorizations
    world.objects["credit_query_pending"] = pending
    world.objects["credit_query_failed"] = failed

"""FTP spreads (docs/performance.md, "Contribution"), maker-checker: the definition's
defaults until a parameter manager's proposal is approved by someone else; a
period's own spreads over the bank's default; a proposal made against spreads that
moved since is refused; every step audited; the page scoped by permission."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.roles import Role
from core.approvals import ApprovalStatus
from performance.models import FtpProposal, FtpSpreads, Period
from performance.parameters import (
    CATEGORIES,
    DEFAULT_SPREADS,
    ftp_approve,
    ftp_propose,
    ftp_reject,
    ftp_withdraw,
    spreads_for,
)
from tests.conftest import PASSWORD
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

SPEC = {
    "DEP_CUR": Decimal("0.0200"),
    "DEP_TIME": Decimal("0.0080"),
    "LOAN_MORTGAGE": Decimal("0.0100"),
    "LOAN_CONSUMER": Decimal("0.0250"),
    "LOAN_BUSINESS": Decimal("0.0180"),
    "CREDIT_CARD": Decimal("0.0500"),
}


@pytest.fixture
def users(demo_users):
    return demo_users


@pytest.fixture
def second_pm(make_user):
    return make_user(Role.PARAMETER_MANAGER, "10000", username="pm_two")


def _period(code: str = "2026-03") -> Period:
    year, month = int(code[:4]), int(code[5:])
    start = datetime.date(year, month, 1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return Period.objects.create(code=code, kind="month", start=start, end=end)


def _events(proposal: FtpProposal):
    return AuditEvent.objects.filter(
        action=Action.PARAMETER_CHANGED, target_type="performance.ftpproposal", target_id=str(proposal.pk)
    )


class TestDefaults:
    def test_the_defaults_are_the_definitions(self):
        assert DEFAULT_SPREADS == SPEC
        assert tuple(DEFAULT_SPREADS) == CATEGORIES
        assert spreads_for(None) == SPEC
        assert spreads_for(_period()) == SPEC
        # as exact text, the way a computed version records them
        assert {c: str(v) for c, v in spreads_for(None).items()}["DEP_CUR"] == "0.0200"
        assert not FtpSpreads.objects.exists()


class TestMakerChecker:
    def test_a_proposal_changes_nothing_until_approved(self, users, second_pm):
        pm = users["demo_pm"]
        # when: two spreads are proposed for the bank's default
        proposal = ftp_propose(
            by=pm, spreads={"DEP_CUR": "0.021", "CREDIT_CARD": Decimal("0.0450")}, reason="treasury curve"
        )
        # then: nothing is in force yet
        assert spreads_for(None) == SPEC and not FtpSpreads.objects.exists()
        assert proposal.status == ApprovalStatus.PENDING
        assert proposal.changes == {"period": "", "spreads": {"DEP_CUR": "0.0210", "CREDIT_CARD": "0.0450"}}
        assert proposal.base == {"spreads": {"DEP_CUR": "0.0200", "CREDIT_CARD": "0.0500"}}
        (event,) = _events(proposal)
        assert (event.actor, event.details["status"], event.details["reason"]) == (
            pm,
            "proposed",
            "treasury curve",
        )

    def test_the_proposer_cannot_approve_their_own(self, users):
        pm = users["demo_pm"]
        proposal = ftp_propose(by=pm, spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        with pytest.raises(PermissionDenied, match="your own"):
            ftp_approve(proposal=proposal, by=pm)
        with pytest.raises(PermissionDenied, match="your own"):
            ftp_reject(proposal=proposal, by=pm, note="on second thoughts")
        proposal.refresh_from_db()
        assert proposal.status == ApprovalStatus.PENDING
        assert spreads_for(None) == SPEC

    def test_a_rejection_needs_a_reason(self, users, second_pm):
        proposal = ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        for note in ("", "  ", "no"):
            with pytest.raises(ValidationError, match="Give a reason"):
                ftp_reject(proposal=proposal, by=second_pm, note=note)
        ftp_reject(proposal=proposal, by=second_pm, note="wait for the new curve")
        proposal.refresh_from_db()
        assert (proposal.status, proposal.decided_by, proposal.decision_note) == (
            ApprovalStatus.REJECTED,
            second_pm,
            "wait for the new curve",
        )
        assert spreads_for(None) == SPEC and not FtpSpreads.objects.exists()
        with pytest.raises(ValidationError, match="only when it is"):
            ftp_approve(proposal=proposal, by=second_pm)

    def test_an_approval_writes_the_spreads_and_an_audit_event(self, users, second_pm):
        pm = users["demo_pm"]
        proposal = ftp_propose(by=pm, spreads={"LOAN_BUSINESS": "0.0175"}, reason="business loans")
        ftp_approve(proposal=proposal, by=second_pm, note="agreed with treasury")
        assert spreads_for(None) == {**SPEC, "LOAN_BUSINESS": Decimal("0.0175")}
        row = FtpSpreads.objects.get(period=None)
        # the row holds every category, as text with 4 decimals
        assert row.spreads == {**{c: str(v) for c, v in SPEC.items()}, "LOAN_BUSINESS": "0.0175"}
        proposal.refresh_from_db()
        assert (proposal.status, proposal.decided_by) == (ApprovalStatus.APPROVED, second_pm)
        approved = _events(proposal).get(details__status="approved")
        assert approved.actor == second_pm
        assert (
            approved.details["decision"] == "approved" and approved.details["note"] == "agreed with treasury"
        )
        assert approved.details["changes"] == {"period": "", "spreads": {"LOAN_BUSINESS": "0.0175"}}
        assert approved.details["before"] == {"spreads": {"LOAN_BUSINESS": "0.0180"}}
        assert approved.details["spreads"]["LOAN_BUSINESS"] == "0.0175"
        # a second approval on top of the first keeps the first
        later = ftp_propose(by=second_pm, spreads={"DEP_TIME": "0.0085"}, reason="time deposits")
        ftp_approve(proposal=later, by=pm)
        assert spreads_for(None) == {
            **SPEC,
            "LOAN_BUSINESS": Decimal("0.0175"),
            "DEP_TIME": Decimal("0.0085"),
        }
        assert FtpSpreads.objects.count() == 1

    def test_a_system_administrator_approves_other_roles_may_not(self, users):
        proposal = ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        for name in ("demo_bm", "demo_audit", "demo_bh", "demo_cm1"):
            with pytest.raises(PermissionDenied):
                ftp_approve(proposal=proposal, by=users[name])
        ftp_approve(proposal=proposal, by=users["demo_admin"])
        assert spreads_for(None)["DEP_CUR"] == Decimal("0.0210")

    def test_only_a_parameter_manager_proposes(self, users):
        for name in ("demo_admin", "demo_bm", "demo_audit", "demo_bh", "demo_cm1"):
            with pytest.raises(PermissionDenied):
                ftp_propose(by=users[name], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        assert not FtpProposal.objects.exists()

    def test_only_the_proposer_withdraws(self, users, second_pm):
        proposal = ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        with pytest.raises(PermissionDenied, match="proposer"):
            ftp_withdraw(proposal=proposal, by=second_pm)
        ftp_withdraw(proposal=proposal, by=users["demo_pm"])
        proposal.refresh_from_db()
        assert proposal.status == ApprovalStatus.WITHDRAWN
        assert spreads_for(None) == SPEC


class TestStaleProposals:
    def test_a_proposal_made_against_spreads_that_moved_is_refused(self, users, second_pm):
        pm = users["demo_pm"]
        first = ftp_propose(by=pm, spreads={"DEP_CUR": "0.0210"}, reason="first review")
        second = ftp_propose(by=pm, spreads={"DEP_CUR": "0.0190", "DEP_TIME": "0.0070"}, reason="second")
        ftp_approve(proposal=first, by=second_pm)
        with pytest.raises(ValidationError, match="changed since the proposal was made: Current deposit"):
            ftp_approve(proposal=second, by=second_pm)
        second.refresh_from_db()
        assert second.status == ApprovalStatus.PENDING
        assert not _events(second).filter(details__status="approved").exists()
        assert spreads_for(None) == {**SPEC, "DEP_CUR": Decimal("0.0210")}

    def test_a_period_proposal_is_stale_when_the_default_it_was_made_against_moved(self, users, second_pm):
        pm, march = users["demo_pm"], _period("2026-03")
        for_march = ftp_propose(by=pm, period=march, spreads={"DEP_CUR": "0.0220"}, reason="march curve")
        default = ftp_propose(by=pm, spreads={"DEP_CUR": "0.0210"}, reason="new default")
        ftp_approve(proposal=default, by=second_pm)
        # March had no spreads of its own: the 0.0200 it replaced is no longer in force
        with pytest.raises(ValidationError, match="changed since"):
            ftp_approve(proposal=for_march, by=second_pm)
        assert not FtpSpreads.objects.filter(period=march).exists()


class TestPeriods:
    def test_a_periods_own_spreads_override_the_default(self, users, second_pm):
        pm = users["demo_pm"]
        march, april = _period("2026-03"), _period("2026-04")
        proposal = ftp_propose(by=pm, period=march, spreads={"LOAN_MORTGAGE": "0.0120"}, reason="march")
        assert proposal.changes == {"period": "2026-03", "spreads": {"LOAN_MORTGAGE": "0.0120"}}
        ftp_approve(proposal=proposal, by=second_pm)
        assert spreads_for(march) == {**SPEC, "LOAN_MORTGAGE": Decimal("0.0120")}
        assert spreads_for(april) == SPEC
        assert spreads_for(None) == SPEC
        # a later change of the default reaches April, not March (it has its own)
        default = ftp_propose(by=pm, spreads={"CREDIT_CARD": "0.0480"}, reason="cards")
        ftp_approve(proposal=default, by=second_pm)
        assert spreads_for(april) == {**SPEC, "CREDIT_CARD": Decimal("0.0480")}
        assert spreads_for(march) == {**SPEC, "LOAN_MORTGAGE": Decimal("0.0120")}

    def test_a_period_proposal_is_made_against_the_periods_spreads(self, users, second_pm):
        pm = users["demo_pm"]
        default = ftp_propose(by=pm, spreads={"DEP_CUR": "0.0210"}, reason="new default")
        ftp_approve(proposal=default, by=second_pm)
        march = _period("2026-03")
        # the value in force for March is the default's 0.0210: proposing it changes nothing
        with pytest.raises(ValidationError, match="Nothing would change"):
            ftp_propose(by=pm, period=march, spreads={"DEP_CUR": "0.0210"}, reason="march")
        proposal = ftp_propose(by=pm, period=march, spreads={"DEP_CUR": "0.0200"}, reason="march")
        assert proposal.base == {"spreads": {"DEP_CUR": "0.0210"}}


class TestBadInput:
    @pytest.mark.parametrize(
        ("spreads", "message"),
        [
            ({"WEALTH": "0.0100"}, "Unknown category WEALTH"),
            ({"dep_cur": "0.0100"}, "Unknown category dep_cur"),
            ({"DEP_CUR": "0.02005"}, "Current deposit: at most 4 decimals"),
            ({"DEP_CUR": "1.5"}, "Current deposit: a spread is between -1 and 1"),
            ({"LOAN_CONSUMER": "-1.0001"}, "Consumer loan: a spread is between -1 and 1"),
            ({"DEP_CUR": "two percent"}, "Current deposit: two percent is not a decimal number"),
            ({"DEP_CUR": "NaN"}, "is not a decimal number"),
            ({"DEP_CUR": "0.0200"}, "Nothing would change"),
            ({"DEP_CUR": "0.02", "DEP_TIME": "0.008"}, "Nothing would change"),
            ({}, "at least one category"),
        ],
    )
    def test_refused_with_a_message_and_nothing_kept(self, users, spreads, message):
        with pytest.raises(ValidationError, match=message):
            ftp_propose(by=users["demo_pm"], spreads=spreads, reason="treasury curve")
        assert not FtpProposal.objects.exists()
        assert not AuditEvent.objects.filter(action=Action.PARAMETER_CHANGED).exists()

    def test_every_wrong_value_is_reported_together(self, users):
        with pytest.raises(ValidationError) as refused:
            ftp_propose(
                by=users["demo_pm"],
                spreads={"DEP_CUR": "0.12345", "CREDIT_CARD": "2", "GOLD": "0.01"},
                reason="treasury curve",
            )
        assert len(refused.value.messages) == 3

    def test_the_limits_and_the_reason(self, users):
        pm = users["demo_pm"]
        proposal = ftp_propose(by=pm, spreads={"DEP_CUR": "-1", "CREDIT_CARD": "1.0000"}, reason="limits")
        assert proposal.changes["spreads"] == {"DEP_CUR": "-1.0000", "CREDIT_CARD": "1.0000"}
        with pytest.raises(ValidationError, match="Give a reason"):
            ftp_propose(by=pm, spreads={"DEP_CUR": "0.0210"}, reason=" ok ")


class TestPage:
    URL = "/performance/ftp/"

    def test_roles_without_the_permission_are_refused(self, client, users, demo_password):
        for name in ("demo_bh", "demo_cm1"):
            log_in(client, name, demo_password)
            assert client.get(self.URL).status_code == 403
            client.logout()
        # readers may not propose or decide
        log_in(client, "demo_bm", demo_password)
        assert client.get(self.URL).status_code == 200
        response = client.post(self.URL, {"DEP_CUR": "0.0210", "reason": "treasury curve"})
        assert response.status_code == 403
        proposal = ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        assert client.post(f"/performance/ftp/{proposal.pk}/approve/").status_code == 403
        assert not FtpProposal.objects.exclude(pk=proposal.pk).exists()
        assert spreads_for(None) == SPEC

    def test_propose_and_approve_on_the_page(self, client, users, second_pm, demo_password):
        log_in(client, "demo_pm", demo_password)
        page = client.get(self.URL).content.decode()
        # categories by their labels, never their codes
        assert "Current deposit" in page and "Credit card" in page and "DEP_CUR</td>" not in page
        assert "0.0200" in page
        response = client.post(
            self.URL, {"period": "", "DEP_CUR": " 0.0215 ", "DEP_TIME": "", "reason": "treasury curve"}
        )
        assert response.status_code == 302
        proposal = FtpProposal.objects.get()
        assert proposal.changes == {"period": "", "spreads": {"DEP_CUR": "0.0215"}}
        # the proposer gets no approve button for their own proposal, only withdraw
        page = client.get(self.URL).content.decode()
        assert 'data-testid="approve-ftp"' not in page and 'data-testid="withdraw-ftp"' in page
        # and the server refuses anyway
        client.post(f"/performance/ftp/{proposal.pk}/approve/")
        assert spreads_for(None) == SPEC
        client.logout()
        log_in(client, "pm_two", PASSWORD)
        page = client.get(self.URL).content.decode()
        assert 'data-testid="approve-ftp"' in page
        response = client.post(f"/performance/ftp/{proposal.pk}/approve/", {"note": "fine"})
        assert response.status_code == 302
        assert spreads_for(None)["DEP_CUR"] == Decimal("0.0215")

    def test_bad_input_on_the_page_is_shown_and_kept_out(self, client, users, demo_password):
        log_in(client, "demo_pm", demo_password)
        response = client.post(self.URL, {"period": "", "DEP_CUR": "0.02005", "reason": "treasury curve"})
        assert response.status_code == 400
        assert "Current deposit: at most 4 decimals" in response.content.decode()
        response = client.post(self.URL, {"period": "", "reason": "treasury curve"})
        assert response.status_code == 400
        assert "at least one category" in response.content.decode()
        response = client.post(self.URL, {"period": "1999-01", "DEP_CUR": "0.03", "reason": "treasury"})
        assert response.status_code == 400
        assert not FtpProposal.objects.exists()

    def test_a_rejection_without_a_note_is_refused_on_the_page(self, client, users, second_pm, demo_password):
        proposal = ftp_propose(by=second_pm, spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        log_in(client, "demo_admin", demo_password)
        response = client.post(f"/performance/ftp/{proposal.pk}/reject/", {"note": ""}, follow=True)
        assert "Give a reason" in response.content.decode()
        proposal.refresh_from_db()
        assert proposal.status == ApprovalStatus.PENDING
        client.post(f"/performance/ftp/{proposal.pk}/reject/", {"note": "not this month"})
        proposal.refresh_from_db()
        assert proposal.status == ApprovalStatus.REJECTED

    def test_the_page_reads_as_many_rows_in_as_many_queries(self, client, users, second_pm, demo_password):
        log_in(client, "demo_bm", demo_password)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(self.URL).status_code == 200
            return len(captured)

        ftp_propose(by=second_pm, spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        few = queries()
        for value in ("0.0220", "0.0230", "0.0240"):
            proposal = ftp_propose(by=second_pm, spreads={"DEP_TIME": value}, reason="treasury curve")
            ftp_reject(proposal=proposal, by=users["demo_admin"], note="not this one")
        for_march = ftp_propose(by=second_pm, period=_period(), spreads={"DEP_CUR": "0.03"}, reason="march")
        ftp_approve(proposal=for_march, by=users["demo_pm"])
        assert queries() == few

    def test_the_page_for_a_period(self, client, users, second_pm, demo_password):
        march = _period("2026-03")
        log_in(client, "demo_pm", demo_password)
        client.post(self.URL, {"period": "2026-03", "LOAN_CONSUMER": "0.0300", "reason": "march curve"})
        proposal = FtpProposal.objects.get()
        ftp_approve(proposal=proposal, by=second_pm)
        page = client.get(self.URL).content.decode()
        assert "2026-03" in page and "0.0300" in page
        assert spreads_for(march)["LOAN_CONSUMER"] == Decimal("0.0300")


class TestAdmin:
    def test_the_proposer_cannot_approve_in_the_admin_someone_else_can(
        self, client, users, second_pm, demo_password
    ):
        proposal = ftp_propose(by=users["demo_pm"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve")
        log_in(client, "demo_pm", demo_password)
        page = client.get(f"/admin/performance/ftpproposal/{proposal.pk}/change/").content.decode()
        assert "Current deposit" in page and "0.0200" in page and "0.0210" in page
        client.post(
            "/admin/performance/ftpproposal/", {"action": "approve", "_selected_action": [proposal.pk]}
        )
        assert spreads_for(None) == SPEC
        client.logout()
        log_in(client, "pm_two", PASSWORD)
        client.post(
            "/admin/performance/ftpproposal/", {"action": "approve", "_selected_action": [proposal.pk]}
        )
        assert spreads_for(None)["DEP_CUR"] == Decimal("0.0210")
        # the spreads in force are read-only in the admin
        row = FtpSpreads.objects.get()
        assert client.get(f"/admin/performance/ftpspreads/{row.pk}/change/").status_code == 200
        assert client.get("/admin/performance/ftpspreads/add/").status_code == 403

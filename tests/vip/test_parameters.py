"""Tier parameters, maker-checker: one parameter manager proposes, someone else
approves; nothing changes before; every step is audited and kept as history."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.roles import Role
from tests.customers.conftest import log_in
from vip.choices import ProposalSource, ProposalStatus
from vip.models import ParameterProposal, TierLevel, TierPolicy
from vip.services import parameter_approve, parameter_propose, parameter_reject, parameter_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_pm(make_user):
    return make_user(Role.PARAMETER_MANAGER, "10000", username="pm_two")


def _gold() -> TierLevel:
    return TierLevel.objects.get(code="gold")


class TestMakerChecker:
    def test_nothing_changes_before_approval_and_the_proposer_cannot_approve(self, users, second_pm):
        pm = users["demo_pm"]
        # when: a threshold and the window are proposed
        proposal = parameter_propose(
            proposed_by=pm,
            reason="market review 2026",
            levels={"gold": {"aum_threshold": "600000"}},
            policy={"window_months": 6},
        )
        # then: nothing changed yet
        assert _gold().aum_threshold == Decimal("500000.00")
        assert TierPolicy.current().window_months == 3
        assert proposal.changes == {
            "levels": {"gold": {"aum_threshold": "600000.00"}},
            "policy": {"window_months": 6},
        }
        assert proposal.base == {
            "levels": {"gold": {"aum_threshold": "500000.00"}},
            "policy": {"window_months": 3},
        }
        # the proposer cannot approve their own proposal
        with pytest.raises(PermissionDenied):
            parameter_approve(proposal=proposal, approved_by=pm)
        assert _gold().aum_threshold == Decimal("500000.00")
        # another parameter manager approves: now it changes
        parameter_approve(proposal=proposal, approved_by=second_pm, note="ok")
        gold = _gold()
        assert gold.aum_threshold == Decimal("600000.00") and gold.version == 2
        assert TierPolicy.current().window_months == 6
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.APPROVED and proposal.decided_by == second_pm
        events = AuditEvent.objects.filter(action=Action.PARAMETER_CHANGED, target_id=str(proposal.pk))
        assert {(e.actor_id, e.details["status"]) for e in events} == {
            (pm.pk, "proposed"),
            (second_pm.pk, "approved"),
        }

    def test_a_system_administrator_may_approve_others_may_not(self, users):
        proposal = parameter_propose(
            proposed_by=users["demo_pm"], reason="review", levels={"gold": {"contact_interval_days": 60}}
        )
        for name in ("demo_bm", "demo_cm1", "demo_audit"):
            with pytest.raises(PermissionDenied):
                parameter_approve(proposal=proposal, approved_by=users[name])
        parameter_approve(proposal=proposal, approved_by=users["demo_admin"])
        assert _gold().contact_interval_days == 60

    def test_only_parameter_managers_propose(self, users):
        with pytest.raises(PermissionDenied):
            parameter_propose(proposed_by=users["demo_bm"], reason="no", levels={"gold": {"name": "x"}})

    def test_bad_values_are_refused_before_anything_is_kept(self, users):
        pm = users["demo_pm"]
        for levels in (
            {"gold": {"aum_threshold": "-5"}},
            {"gold": {"aum_threshold": "lots"}},
            {"gold": {"aum_threshold": "300000"}},  # same as potential
            {"gold": {"contact_interval_days": 0}},
            {"diamond": {"name": "钻石级"}},  # a new level needs its threshold and interval
            {"Bad Code": {"name": "x", "aum_threshold": "1", "contact_interval_days": 5}},
        ):
            with pytest.raises(ValidationError):
                parameter_propose(proposed_by=pm, reason="review", levels=levels)
        with pytest.raises(ValidationError):
            parameter_propose(proposed_by=pm, reason="review", policy={"window_months": 13})
        with pytest.raises(ValidationError):
            parameter_propose(proposed_by=pm, reason="review", levels={"gold": {"aum_threshold": "500000"}})
        with pytest.raises(ValidationError):
            parameter_propose(proposed_by=pm, reason="", levels={"gold": {"aum_threshold": "550000"}})
        assert not ParameterProposal.objects.exists()

    def test_a_proposal_made_against_old_values_is_refused(self, users, second_pm):
        first = parameter_propose(
            proposed_by=users["demo_pm"], reason="first review", levels={"gold": {"aum_threshold": "550000"}}
        )
        second = parameter_propose(
            proposed_by=users["demo_pm"], reason="second review", levels={"gold": {"aum_threshold": "450000"}}
        )
        parameter_approve(proposal=first, approved_by=second_pm)
        with pytest.raises(ValidationError, match="changed since"):
            parameter_approve(proposal=second, approved_by=second_pm)
        assert _gold().aum_threshold == Decimal("550000.00")

    def test_two_levels_may_swap_thresholds_in_one_proposal(self, users, second_pm):
        proposal = parameter_propose(
            proposed_by=users["demo_pm"],
            reason="swap",
            levels={"gold": {"aum_threshold": "1000000"}, "platinum": {"aum_threshold": "500000"}},
        )
        parameter_approve(proposal=proposal, approved_by=second_pm)
        assert _gold().aum_threshold == Decimal("1000000.00")

    def test_a_new_level_and_a_withdrawn_one(self, users, second_pm):
        proposal = parameter_propose(
            proposed_by=users["demo_pm"],
            reason="private banking tier",
            levels={
                "private": {"name": "私行级", "aum_threshold": "10000000", "contact_interval_days": 14},
                "growth": {"is_active": False},
            },
        )
        assert proposal.base["levels"]["private"] is None
        parameter_approve(proposal=proposal, approved_by=second_pm)
        assert TierLevel.objects.get(code="private").is_active
        assert not TierLevel.objects.get(code="growth").is_active

    def test_reject_needs_a_note_and_someone_else_withdraw_only_the_proposer(self, users, second_pm):
        proposal = parameter_propose(
            proposed_by=users["demo_pm"], reason="x-ray", levels={"gold": {"name": "金卡级"}}
        )
        with pytest.raises(ValidationError):
            parameter_reject(proposal=proposal, rejected_by=second_pm, note="")
        with pytest.raises(PermissionDenied):
            parameter_reject(proposal=proposal, rejected_by=users["demo_pm"], note="my own")
        with pytest.raises(PermissionDenied):
            parameter_withdraw(proposal=proposal, by=second_pm)
        parameter_reject(proposal=proposal, rejected_by=second_pm, note="not now")
        with pytest.raises(ValidationError):
            parameter_approve(proposal=proposal, approved_by=second_pm)
        assert _gold().name == "金级"


class TestAdmin:
    def test_saving_a_level_in_the_admin_proposes_and_changes_nothing(self, client, users, demo_password):
        log_in(client, "demo_pm", demo_password)
        gold = _gold()
        response = client.post(
            f"/admin/vip/tierlevel/{gold.pk}/change/",
            {
                "name": "金级",
                "aum_threshold": "520000",
                "contact_interval_days": "90",
                "is_active": "on",
                "reason": "quarterly review",
            },
        )
        proposal = ParameterProposal.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(
            f"/vip/parameterproposal/{proposal.pk}/change/"
        )
        assert proposal.changes == {"levels": {"gold": {"aum_threshold": "520000.00"}}, "policy": {}}
        assert _gold().aum_threshold == Decimal("500000.00")
        # the proposal page shows before and after
        page = client.get(f"/admin/vip/parameterproposal/{proposal.pk}/change/").content.decode()
        assert "500000.00" in page and "520000.00" in page

    def test_approving_in_the_admin_by_the_proposer_is_refused(self, client, users, second_pm, demo_password):
        proposal = parameter_propose(
            proposed_by=users["demo_pm"], reason="review", levels={"gold": {"name": "G"}}
        )
        log_in(client, "demo_pm", demo_password)
        client.post(
            "/admin/vip/parameterproposal/",
            {"action": "approve", "_selected_action": [proposal.pk]},
        )
        assert _gold().name == "金级"
        client.logout()
        log_in(client, "pm_two", "Test-Pass-2026!")
        client.post("/admin/vip/parameterproposal/", {"action": "approve", "_selected_action": [proposal.pk]})
        assert _gold().name == "G"

    def test_a_business_manager_cannot_reach_the_parameters(self, client, users, demo_password):
        log_in(client, "demo_bm", demo_password)
        assert client.get("/admin/vip/tierlevel/").status_code in (302, 403)

    def test_export_and_import_a_spreadsheet_creates_a_proposal(self, client, users, demo_password):
        log_in(client, "demo_pm", demo_password)
        # export: every level
        response = client.post("/admin/vip/tierlevel/export/", {"format": "1", "resource": "0",
                                                                 **{f"tierlevelresource_{f}": "on" for f in
                                                                    ("code", "name", "aum_threshold", "contact_interval_days", "is_active")}})  # fmt: skip
        assert response.status_code == 200, response.content[:300]
        sheet = load_workbook(io.BytesIO(response.content)).active
        exported = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert set(exported) >= {"core", "growth", "platinum", "gold", "potential"}
        # import: gold's threshold changed, one new level
        book = Workbook()
        ws = book.active
        ws.append(["code", "name", "aum_threshold", "contact_interval_days", "is_active"])
        ws.append(["gold", "金级", 550000, 90, 1])
        ws.append(["diamond", "钻石级", 20000000, 14, 1])
        data = io.BytesIO()
        book.save(data)
        upload = io.BytesIO(data.getvalue())
        upload.name = "levels.xlsx"
        preview = client.post(
            "/admin/vip/tierlevel/import/", {"format": "1", "resource": "0", "import_file": upload}
        )
        assert preview.status_code == 200
        confirm = preview.context["confirm_form"]
        assert confirm is not None, preview.content.decode()[:2000]
        result = client.post("/admin/vip/tierlevel/process_import/", {**confirm.initial, "resource": "0"})
        assert result.status_code == 302
        proposal = ParameterProposal.objects.get()
        assert proposal.source == ProposalSource.IMPORT and proposal.status == ProposalStatus.PENDING
        assert proposal.changes["levels"]["gold"] == {"aum_threshold": "550000.00"}
        assert proposal.changes["levels"]["diamond"]["aum_threshold"] == "20000000.00"
        # nothing changed
        assert _gold().aum_threshold == Decimal("500000.00")
        assert not TierLevel.objects.filter(code="diamond").exists()


class TestPortalPages:
    def test_the_approvals_page_approves_someone_elses_proposal(
        self, client, users, second_pm, demo_password
    ):
        proposal = parameter_propose(
            proposed_by=second_pm, reason="review", levels={"gold": {"contact_interval_days": 45}}
        )
        log_in(client, "demo_pm", demo_password)
        page = client.get("/vip/approvals/")
        assert [p.pk for p in page.context["proposals"]] == [proposal.pk]
        client.post(f"/vip/proposals/{proposal.pk}/approve/")
        assert _gold().contact_interval_days == 45

    def test_the_parameters_page_shows_levels_and_history(self, client, users, second_pm, demo_password):
        proposal = parameter_propose(
            proposed_by=second_pm, reason="review", levels={"gold": {"contact_interval_days": 45}}
        )
        parameter_approve(proposal=proposal, approved_by=users["demo_pm"])
        log_in(client, "demo_pm", demo_password)
        page = client.get("/vip/parameters/").content.decode()
        assert "核心级" in page and 'data-testid="parameter-history"' in page and "review" in page

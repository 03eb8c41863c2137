"""The standard flow: draft → submitted → approved | rejected → running → closed →
evaluated; no self-approval, no skipped step; the target list frozen at start with
exclusions and their reasons."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from marketing import services
from marketing.choices import CampaignObjective, CampaignStatus, ExclusionReason, MarketingAction
from marketing.models import CampaignTarget
from tests.customers.conftest import log_in
from tests.marketing.conftest import campaign_actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(users, segment_for, products):
    today = timezone.localdate()
    return services.campaign_create(
        user=users["demo_bm"],
        name="季末理财",
        objective=CampaignObjective.CROSS_SELL,
        segment=segment_for({"aum_min": "50000"}),
        channels=["call"],
        budget=Decimal("5000"),
        start_date=today,
        end_date=today + datetime.timedelta(days=20),
        products=[products["wealth"]],
    )


class TestApproval:
    def test_the_whole_flow_is_audited_step_by_step(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        services.campaign_approve(campaign=draft, user=users["bm2"], comment="ok")
        services.campaign_start(campaign=draft, user=users["demo_bm"])
        services.campaign_close(campaign=draft, user=users["demo_bm"])
        done = services.campaign_evaluate(
            campaign=draft, user=users["bm2"], evaluation="目标达成一半", actual_cost=Decimal("4200")
        )
        assert done.status == CampaignStatus.EVALUATED
        assert done.results["targets"] == 0
        actions = campaign_actions(draft)
        assert actions == [
            MarketingAction.CAMPAIGN_CREATED,
            MarketingAction.CAMPAIGN_SUBMITTED,
            MarketingAction.CAMPAIGN_APPROVED,
            MarketingAction.CAMPAIGN_STARTED,
            MarketingAction.CAMPAIGN_CLOSED,
            MarketingAction.CAMPAIGN_EVALUATED,
        ]

    def test_the_submitter_cannot_approve_or_reject(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        with pytest.raises(PermissionDenied, match="your own campaign: another user"):
            services.campaign_approve(campaign=draft, user=users["demo_bm"])
        with pytest.raises(PermissionDenied):
            services.campaign_reject(campaign=draft, user=users["demo_bm"], comment="not good")
        draft.refresh_from_db()
        assert draft.status == CampaignStatus.SUBMITTED

    def test_a_role_without_the_approval_right_cannot_approve(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        for username in ("demo_bh", "demo_cm1", "demo_pm", "demo_audit"):
            with pytest.raises(PermissionDenied):
                services.campaign_approve(campaign=draft, user=users[username])

    @pytest.mark.parametrize(
        "step",
        [
            lambda c, u: services.campaign_approve(campaign=c, user=u["bm2"]),
            lambda c, u: services.campaign_reject(campaign=c, user=u["bm2"], comment="skip it"),
            lambda c, u: services.campaign_start(campaign=c, user=u["bm2"]),
            lambda c, u: services.campaign_close(campaign=c, user=u["bm2"]),
            lambda c, u: services.campaign_evaluate(campaign=c, user=u["bm2"], evaluation="too early"),
        ],
        ids=["approve", "reject", "start", "close", "evaluate"],
    )
    def test_no_step_can_be_skipped_from_draft(self, draft, users, step):
        with pytest.raises(ValidationError, match="only when it is"):
            step(draft, users)
        draft.refresh_from_db()
        assert draft.status == CampaignStatus.DRAFT
        assert not CampaignTarget.objects.exists()

    def test_a_submitted_campaign_cannot_start_before_approval_nor_be_edited(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        with pytest.raises(ValidationError, match="only when it is Approved"):
            services.campaign_start(campaign=draft, user=users["demo_bm"])
        with pytest.raises(ValidationError, match="Only a draft"):
            services.campaign_update(campaign=draft, user=users["demo_bm"], name="renamed")

    def test_a_running_campaign_cannot_be_evaluated_before_it_closes(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        services.campaign_approve(campaign=draft, user=users["bm2"])
        services.campaign_start(campaign=draft, user=users["demo_bm"])
        with pytest.raises(ValidationError):
            services.campaign_evaluate(campaign=draft, user=users["bm2"], evaluation="already?")
        with pytest.raises(ValidationError):
            services.campaign_start(campaign=draft, user=users["demo_bm"])

    def test_an_approved_campaign_cannot_start_before_its_start_date(
        self, draft, users, client, demo_password
    ):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        services.campaign_update(campaign=draft, user=users["demo_bm"], start_date=tomorrow)
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        services.campaign_approve(campaign=draft, user=users["bm2"])
        with pytest.raises(ValidationError, match=f"starts on {tomorrow}"):
            services.campaign_start(campaign=draft, user=users["demo_bm"])
        # the page offers no start button and a POST is refused with the reason
        log_in(client, "demo_bm", demo_password)
        page = client.get(f"/marketing/campaigns/{draft.pk}/").content.decode()
        assert 'data-testid="starts-later"' in page and 'data-testid="start"' not in page
        response = client.post(f"/marketing/campaigns/{draft.pk}/start/", follow=True)
        assert f"starts on {tomorrow}" in response.content.decode()
        draft.refresh_from_db()
        assert (
            draft.status == CampaignStatus.APPROVED
            and not CampaignTarget.objects.filter(campaign=draft).exists()
        )
        # on its start date it starts
        started = services.campaign_start(campaign=draft, user=users["demo_bm"], today=tomorrow)
        assert started.status == CampaignStatus.RUNNING

    def test_rejection_needs_a_reason_and_a_rejected_campaign_is_revised_as_draft(self, draft, users):
        services.campaign_submit(campaign=draft, user=users["demo_bm"])
        with pytest.raises(ValidationError, match="Give a reason"):
            services.campaign_reject(campaign=draft, user=users["bm2"], comment="")
        services.campaign_reject(campaign=draft, user=users["bm2"], comment="预算过高")
        with pytest.raises(ValidationError):
            services.campaign_start(campaign=draft, user=users["demo_bm"])
        revised = services.campaign_revise(campaign=draft, user=users["demo_bm"])
        assert revised.status == CampaignStatus.DRAFT
        services.campaign_update(campaign=revised, user=users["demo_bm"], budget=Decimal("3000"))

    def test_submission_needs_a_segment_channels_and_products_on_sale(self, users, products):
        today = timezone.localdate()
        products["fund"].sale_end = today - datetime.timedelta(days=1)
        products["fund"].save()
        campaign = services.campaign_create(
            user=users["demo_bm"],
            name="空",
            objective=CampaignObjective.AUM_GROWTH,
            channels=[],
            start_date=today,
            end_date=today,
            products=[products["fund"]],
        )
        with pytest.raises(ValidationError) as caught:
            services.campaign_submit(campaign=campaign, user=users["demo_bm"])
        text = " ".join(caught.value.messages)
        assert "segment" in text and "channel" in text and "not on sale" in text


class TestFreezingTheTargetList:
    def test_members_are_frozen_with_suitability_and_opt_out_exclusions(
        self, users, make_customer, running_campaign
    ):
        today = timezone.localdate()
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        fine = make_customer(
            manager=cm1,
            aum=Decimal("90000"),
            risk_level="C4",
            risk_expiry=today + datetime.timedelta(days=100),
        )
        no_risk = make_customer(manager=cm1, aum=Decimal("90000"), risk_level="")
        expired = make_customer(
            manager=cm2,
            branch="11102",
            aum=Decimal("90000"),
            risk_level="C5",
            risk_expiry=today - datetime.timedelta(days=1),
        )
        too_low = make_customer(manager=cm2, branch="11102", aum=Decimal("90000"), risk_level="C2")
        opted_out = make_customer(
            manager=cm1, aum=Decimal("90000"), risk_level="C3", consent_call=False, consent_sms=False
        )
        half_opted = make_customer(aum=Decimal("90000"), risk_level="C3", consent_call=False)
        make_customer(aum=Decimal("100"), risk_level="C5")  # not in the segment

        campaign = running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit", "wealth"), channels=("call", "sms")
        )

        rows = {t.customer_id: t for t in CampaignTarget.objects.filter(campaign=campaign)}
        assert set(rows) == {fine.pk, no_risk.pk, expired.pk, too_low.pk, opted_out.pk, half_opted.pk}
        assert rows[fine.pk].excluded_reason == ""
        assert rows[half_opted.pk].excluded_reason == ""
        assert rows[no_risk.pk].excluded_reason == ExclusionReason.NO_RISK_ASSESSMENT
        assert rows[expired.pk].excluded_reason == ExclusionReason.RISK_EXPIRED
        assert rows[too_low.pk].excluded_reason == ExclusionReason.UNSUITABLE
        assert rows[opted_out.pk].excluded_reason == ExclusionReason.OPTED_OUT
        # distributed to the manager of record, with the customer's branch
        assert rows[fine.pk].manager_id == cm1.pk and rows[too_low.pk].manager_id == cm2.pk
        assert rows[half_opted.pk].manager_id is None
        assert rows[expired.pk].branch.code == "11102"
        assert (campaign.target_count, campaign.excluded_count) == (2, 4)
        assert campaign.frozen_rules == {"aum_min": "50000"}

    def test_the_list_stays_frozen_when_customers_or_the_segment_change(
        self, users, make_customer, running_campaign
    ):
        member = make_customer(aum=Decimal("90000"), risk_level="C5")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("deposit",))
        make_customer(aum=Decimal("95000"), risk_level="C5")  # joins the segment later
        services.segment_save(
            user=users["demo_bm"], segment=campaign.segment, name="changed", rules={"aum_min": "1"}
        )
        assert list(
            CampaignTarget.objects.filter(campaign=campaign).values_list("customer_id", flat=True)
        ) == [member.pk]

    def test_a_deposit_only_campaign_needs_no_risk_assessment(self, make_customer, running_campaign):
        make_customer(aum=Decimal("90000"), risk_level="")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("deposit",))
        assert campaign.target_count == 1 and campaign.excluded_count == 0

    def test_the_campaign_rating_is_its_highest_product(self, make_customer, running_campaign):
        make_customer(aum=Decimal("90000"), risk_level="C4")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth", "fund"))
        target = CampaignTarget.objects.get(campaign=campaign)
        assert target.excluded_reason == ExclusionReason.UNSUITABLE

    def test_closed_and_merged_customers_are_never_targets(self, make_customer, running_campaign):
        make_customer(aum=Decimal("90000"), risk_level="C5", status="C")
        survivor = make_customer(aum=Decimal("90000"), risk_level="C5")
        make_customer(aum=Decimal("90000"), risk_level="C5", merged_into=survivor)
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("deposit",))
        assert list(
            CampaignTarget.objects.filter(campaign=campaign).values_list("customer_id", flat=True)
        ) == [survivor.pk]

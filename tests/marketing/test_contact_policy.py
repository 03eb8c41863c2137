"""The contact-frequency policy: the (N+1)th contact in the rolling window is
refused across campaigns and channels, opted-out channels and quiet hours are
refused, and every refusal says why; nothing is dropped silently."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Interaction
from marketing import services
from marketing.choices import ContactOutcome, PolicyStatus, TargetStatus
from marketing.models import CampaignTarget, ContactPolicy, MarketingContact
from marketing.policy import DEFAULT_POLICY, ContactRefused, busiest_window, in_quiet_hours

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def world(users, make_customer, running_campaign):
    """One customer of demo_cm1 who is a target of two running campaigns."""
    customer = make_customer(manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5")
    first = running_campaign(
        {"aum_min": "50000"}, product_keys=("deposit",), channels=("call", "sms", "wechat"), name="A"
    )
    second = running_campaign(
        {"aum_min": "50000"}, product_keys=("deposit",), channels=("sms", "visit"), name="B"
    )
    return {
        "customer": customer,
        "a": CampaignTarget.objects.get(campaign=first, customer=customer),
        "b": CampaignTarget.objects.get(campaign=second, customer=customer),
        "cm1": users["demo_cm1"],
    }


@pytest.fixture(autouse=True)
def _now_is_late_june(monkeypatch):
    # Contacts are logged for June 2026; "now" is after them so none is in the future.
    fixed = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: fixed)


def log(world, key, when, channel="sms", outcome=ContactOutcome.NOT_REACHED):
    return services.contact_log(
        user=world["cm1"], target=world[key], channel=channel, outcome=outcome, occurred_at=when
    )


class TestFrequencyCap:
    def test_the_fourth_contact_in_seven_days_is_refused_across_two_campaigns_and_channels(self, world):
        assert (DEFAULT_POLICY.max_contacts, DEFAULT_POLICY.window_days) == (3, 7)
        log(world, "a", at(1), channel="call")
        log(world, "b", at(2), channel="sms")
        log(world, "a", at(3), channel="wechat")
        with pytest.raises(ContactRefused) as refused:
            log(world, "b", at(5), channel="visit")
        assert refused.value.code == "frequency"
        message = refused.value.messages[0]
        assert "already had 3 marketing contacts within 7 days" in message
        assert "Next contact possible from 2026-06-08 10:00" in message
        assert MarketingContact.objects.count() == 3
        assert Interaction.objects.filter(customer=world["customer"]).count() == 3

    def test_the_window_rolls(self, world):
        for day in (1, 2, 3):
            log(world, "a", at(day))
        log(world, "b", at(8, 10, 0))  # the contact of the 1st has left the window
        with pytest.raises(ContactRefused):
            log(world, "b", at(8, 11, 0))

    def test_a_contact_logged_late_cannot_overfill_a_later_window(self, world):
        for day in (5, 6, 7):
            log(world, "a", at(day))
        with pytest.raises(ContactRefused):
            log(world, "b", at(2))  # 2..9 June would hold four

    def test_the_same_product_sms_three_times_a_week_is_the_most_there_can_be(self, world):
        for day in (1, 3, 5):
            log(world, "a", at(day), channel="sms")
        with pytest.raises(ContactRefused):
            log(world, "a", at(6), channel="sms")

    def test_an_approved_policy_replaces_the_default(self, world, users, make_user):
        pm = users["demo_pm"]
        second_pm = make_user("parameter_manager", "10000")
        proposal = ContactPolicy.objects.create(
            max_contacts=1,
            window_days=30,
            quiet_start=datetime.time(22),
            quiet_end=datetime.time(7),
            quiet_channels=["call"],
            proposed_by=pm,
        )
        with pytest.raises(PermissionDenied, match="another user"):
            services.policy_approve(policy_row=proposal, user=pm)
        services.policy_approve(policy_row=proposal, user=second_pm)
        assert ContactPolicy.objects.get(status=PolicyStatus.ACTIVE) == proposal
        log(world, "a", at(1))
        with pytest.raises(ContactRefused, match="policy allows 1"):
            log(world, "b", at(20))


class TestOptOutAndQuietHours:
    def test_an_opted_out_channel_is_refused_and_another_channel_works(self, world):
        customer = world["customer"]
        customer.consent_sms = False
        customer.save(update_fields=["consent_sms"])
        with pytest.raises(ContactRefused, match="opted out of marketing by SMS") as refused:
            log(world, "a", at(1), channel="sms")
        assert refused.value.code == "opted_out"
        log(world, "a", at(1), channel="call")

    @pytest.mark.parametrize("hour,minute", [(21, 0), (23, 30), (2, 0), (7, 59)])
    def test_quiet_hours_refuse_calls_sms_and_wechat(self, world, hour, minute):
        with pytest.raises(ContactRefused, match="quiet hours") as refused:
            log(world, "a", at(1, hour, minute), channel="call")
        assert refused.value.code == "quiet_hours"
        assert not MarketingContact.objects.exists()

    def test_quiet_hours_end_at_eight_and_do_not_apply_to_visits(self, world):
        call = log(world, "a", at(1, 8, 0), channel="call")
        visit = log(world, "b", at(2, 21, 30), channel="visit")
        recorded = MarketingContact.objects.order_by("occurred_at")
        assert [(c.pk, c.channel, c.occurred_at) for c in recorded] == [
            (call.pk, "call", at(1, 8, 0)),
            (visit.pk, "visit", at(2, 21, 30)),
        ]
        assert CampaignTarget.objects.get(pk=world["a"].pk).contact_count == 1
        assert CampaignTarget.objects.get(pk=world["b"].pk).contact_count == 1
        # the same evening visit time is quiet for a call
        with pytest.raises(ContactRefused, match="quiet hours"):
            log(world, "a", at(2, 21, 30), channel="call")

    def test_quiet_hours_arithmetic(self):
        night = (datetime.time(21), datetime.time(8))
        assert in_quiet_hours(datetime.time(21), *night) and in_quiet_hours(datetime.time(0), *night)
        assert not in_quiet_hours(datetime.time(8), *night) and not in_quiet_hours(
            datetime.time(20, 59), *night
        )
        assert in_quiet_hours(datetime.time(12, 30), datetime.time(12), datetime.time(14))
        assert not in_quiet_hours(datetime.time(12), datetime.time(9), datetime.time(9))

    def test_busiest_window(self):
        week = datetime.timedelta(days=7)
        times = [at(1), at(5), at(9)]
        assert busiest_window(times, at(6), week) == 2
        assert busiest_window(times, at(20), week) == 0


class TestContactRecording:
    def test_a_contact_updates_the_target_and_the_customer_timeline(self, world):
        contact = log(world, "a", at(1), channel="call", outcome=ContactOutcome.INTERESTED)
        target = CampaignTarget.objects.get(pk=world["a"].pk)
        assert (target.status, target.contact_count) == (TargetStatus.INTERESTED, 1)
        interaction = Interaction.objects.get(pk=contact.interaction_id)
        assert interaction.kind == "call" and "Interested" in interaction.subject

    def test_do_not_contact_opts_the_customer_out_of_every_channel(self, world):
        log(world, "a", at(1), channel="call", outcome=ContactOutcome.DO_NOT_CONTACT)
        world["customer"].refresh_from_db()
        assert not any(
            getattr(world["customer"], f"consent_{c}") for c in ("call", "sms", "wechat", "email", "visit")
        )
        with pytest.raises(ValidationError):
            log(world, "a", at(2), channel="sms")
        with pytest.raises(ContactRefused, match="opted out"):
            log(world, "b", at(2), channel="visit")

    def test_a_channel_the_campaign_does_not_use_is_refused(self, world):
        with pytest.raises(ValidationError, match="does not use"):
            log(world, "b", at(1), channel="call")

    def test_another_managers_customer_cannot_be_worked(self, world, users):
        with pytest.raises(PermissionDenied):
            services.contact_log(
                user=users["demo_cm2"],
                target=world["a"],
                channel="sms",
                outcome="not_reached",
                occurred_at=at(1),
            )
        assert not MarketingContact.objects.exists()

    def test_a_closed_campaign_cannot_be_worked(self, world, users):
        services.campaign_close(campaign=world["a"].campaign, user=users["demo_bm"])
        with pytest.raises(ValidationError, match="not running"):
            log(world, "a", at(1))

"""Channels as data: the starting list; a switched-off channel refused for a new
campaign but kept by one that has it; a contact through a channel reaching the
customer by its contact channel (consent, cap) and kept as going through it; the
opt-out exclusion by the ways a campaign's channels contact customers; the channels
pages (read by marketing's readers, kept by the business managers, audited); names,
never codes, wherever a campaign's or product's channels show."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from marketing import services
from marketing.channels import (
    channel_create,
    channel_list,
    channel_names,
    channel_switch,
    channel_update,
    contact_channels,
)
from marketing.choices import CampaignObjective, ContactOutcome, ExclusionReason, MarketingAction
from marketing.forms import CampaignForm, ContactForm
from marketing.models import Campaign, CampaignTarget, Channel, MarketingContact
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

SEEDED = [
    "counter", "manager", "mobile", "online", "call", "sms", "wechat", "email", "visit",
    "phone_banking", "call_centre", "atm", "partner",
]  # fmt: skip


def channel(code: str) -> Channel:
    return Channel.objects.get(code=code)


def switch_off(code: str, users) -> Channel:
    return channel_switch(channel(code), by=users["demo_bm"], active=False)


def draft(users, segment_for, products, channels, name="渠道活动") -> Campaign:
    today = timezone.localdate()
    return services.campaign_create(
        user=users["demo_bm"],
        name=name,
        objective=CampaignObjective.CROSS_SELL,
        segment=segment_for({"aum_min": "50000"}),
        channels=list(channels),
        budget=Decimal("5000"),
        start_date=today,
        end_date=today + datetime.timedelta(days=20),
        products=[products["deposit"]],
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- the list and its codes --------------------------------------------------------------------


def test_the_starting_channels_keep_the_codes_products_and_campaigns_carried():
    assert list(Channel.objects.values_list("code", flat=True)) == SEEDED
    assert all(Channel.objects.values_list("is_active", flat=True))
    assert (channel("call_centre").name, channel("call_centre").contact_channel) == ("外呼中心", "call")
    assert (channel("mobile").contact_channel, channel("mobile").transaction_channel) == ("", "MOBILE")


def test_contact_channels_are_the_ways_the_channels_reach_customers_each_once():
    assert contact_channels(["counter", "call_centre", "sms", "call", "mobile"]) == ["call", "sms"]
    assert contact_channels(["counter", "mobile", "atm"]) == []
    assert contact_channels([]) == []
    assert channel_names(["call_centre", "sms", "gone"]) == ["外呼中心", "短信", "gone"]


# --- a switched-off channel ----------------------------------------------------------------------


class TestSwitchedOff:
    def test_refused_for_a_new_campaign_by_the_model(self, users, segment_for, products):
        switch_off("atm", users)
        with pytest.raises(ValidationError, match=r"自助设备 is switched off and cannot be chosen"):
            draft(users, segment_for, products, ["call", "atm"])
        assert not Campaign.objects.exists()

    def test_a_campaign_keeping_it_still_saves_but_none_is_newly_added(self, users, segment_for, products):
        campaign = draft(users, segment_for, products, ["call", "atm"])
        switch_off("atm", users)
        switch_off("partner", users)
        saved = services.campaign_update(
            campaign=campaign, user=users["demo_bm"], name="改名", channels=["atm"]
        )
        assert (saved.name, saved.channels) == ("改名", ["atm"])
        with pytest.raises(ValidationError, match="合作网点 is switched off"):
            services.campaign_update(campaign=campaign, user=users["demo_bm"], channels=["atm", "partner"])
        assert Campaign.objects.get(pk=campaign.pk).channels == ["atm"]

    def test_the_form_offers_it_only_to_the_campaign_keeping_it_marked(self, users):
        switch_off("atm", users)
        fresh = CampaignForm()
        assert "atm" not in dict(fresh.fields["channels"].choices)
        assert dict(fresh.fields["channels"].choices)["call_centre"] == "外呼中心"
        kept = CampaignForm(initial={"channels": ["atm"]})
        assert dict(kept.fields["channels"].choices)["atm"] == "自助设备 (switched off)"

    def test_the_form_refuses_it_newly_chosen_when_it_knows_the_campaigns_channels(self, users):
        switch_off("atm", users)
        data = {"name": "x", "objective": "cross_sell", "budget": "0", "start_date": "2026-07-01"}
        data |= {"end_date": "2026-07-31"}
        form = CampaignForm({**data, "channels": ["call", "atm"]}, kept_channels=["call"])
        assert not form.is_valid()
        assert form.errors["channels"] == ["自助设备 is switched off and cannot be chosen."]
        assert CampaignForm({**data, "channels": ["call", "atm"]}, kept_channels=["atm"]).is_valid()
        unknown = CampaignForm({**data, "channels": ["fax"]})
        assert not unknown.is_valid() and "“fax” is not a channel of the list." in unknown.errors["channels"]

    def test_the_campaign_pages_show_the_refusal_under_the_field_and_keep_an_old_choice(
        self, client, users, segment_for, products, demo_password
    ):
        campaign = draft(users, segment_for, products, ["call", "atm"])
        switch_off("atm", users)
        log_in(client, "demo_bm", demo_password)
        base = {
            "name": "新活动",
            "objective": "cross_sell",
            "budget": "0",
            "start_date": "2026-07-01",
            "end_date": "2026-07-31",
            "products": [products["deposit"].pk],
        }
        response = client.post("/marketing/campaigns/new/", {**base, "channels": ["sms", "atm"]})
        assert response.status_code == 400
        assert "自助设备 is switched off and cannot be chosen." in response.content.decode()
        assert Campaign.objects.count() == 1
        page = client.get(f"/marketing/campaigns/{campaign.pk}/edit/").content.decode()
        assert "自助设备 (switched off)" in page
        response = client.post(
            f"/marketing/campaigns/{campaign.pk}/edit/", {**base, "channels": ["call", "atm"]}
        )
        assert response.status_code == 302
        assert Campaign.objects.get(pk=campaign.pk).channels == ["call", "atm"]

    def test_switching_off_leaves_products_and_campaigns_as_they_are(self, users, segment_for, products):
        campaign = draft(users, segment_for, products, ["manager"])
        switch_off("manager", users)
        assert Campaign.objects.get(pk=campaign.pk).channels == ["manager"]
        products["deposit"].refresh_from_db()
        assert products["deposit"].channels == ["manager", "mobile"]
        products["deposit"].full_clean()  # a product keeping it stays valid


# --- contacts through a channel ------------------------------------------------------------------


@pytest.fixture
def reachable(users, make_customer):
    return make_customer(manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5")


def target_of(campaign, customer) -> CampaignTarget:
    return CampaignTarget.objects.get(campaign=campaign, customer=customer)


def daytime() -> datetime.datetime:
    """Yesterday at 10:00: outside the quiet hours of calls, whenever the test runs."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(10)))


class TestContacts:
    def test_a_contact_through_the_call_centre_is_a_call_through_it(
        self, users, reachable, running_campaign, client, demo_password
    ):
        campaign = running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit",), channels=("call_centre",)
        )
        target = target_of(campaign, reachable)
        contact = services.contact_log(
            user=users["demo_cm1"],
            target=target,
            channel="call_centre",
            outcome=ContactOutcome.INTERESTED,
            occurred_at=daytime(),
        )
        contact.refresh_from_db()
        assert (contact.channel, contact.via.code) == ("call", "call_centre")
        assert contact.interaction.kind == "call"
        event = events(MarketingAction.CONTACT_LOGGED)[-1]
        assert (event.details["channel"], event.details["via"]) == ("call", "call_centre")
        # the target's contact history says through which channel, and how
        client.post("/accounts/login/", {"username": "demo_cm1", "password": demo_password})
        page = client.get(f"/marketing/targets/{target.pk}/")
        assert page.status_code == 200 and "外呼中心 · Phone call" in page.content.decode()

    def test_the_callers_opt_out_of_calls_refuses_a_call_centre_contact(
        self, users, reachable, running_campaign
    ):
        campaign = running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit",), channels=("call_centre", "sms")
        )
        reachable.consent_call = False
        reachable.save(update_fields=["consent_call"])
        with pytest.raises(ValidationError, match="opted out"):
            services.contact_log(
                user=users["demo_cm1"],
                target=target_of(campaign, reachable),
                channel="call_centre",
                outcome=ContactOutcome.INTERESTED,
            )
        assert not MarketingContact.objects.exists()

    def test_a_channel_that_reaches_nobody_cannot_log_a_contact(self, users, reachable, running_campaign):
        campaign = running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit",), channels=("mobile", "call")
        )
        with pytest.raises(ValidationError, match="手机银行 does not contact customers"):
            services.contact_log(
                user=users["demo_cm1"],
                target=target_of(campaign, reachable),
                channel="mobile",
                outcome=ContactOutcome.INTERESTED,
            )
        assert not MarketingContact.objects.exists()

    def test_the_contact_form_offers_the_campaigns_reaching_channels_by_name(self, users):
        form = ContactForm(channels=["mobile", "call_centre", "sms"])
        assert list(form.fields["channel"].choices) == [("call_centre", "外呼中心"), ("sms", "短信")]
        refused = ContactForm({"channel": "mobile", "outcome": "interested"}, channels=["mobile", "sms"])
        assert not refused.is_valid()
        assert refused.errors["channel"] == [
            "手机银行 does not contact customers: a contact cannot be logged through it."
        ]
        foreign = ContactForm({"channel": "email", "outcome": "interested"}, channels=["mobile", "sms"])
        assert not foreign.is_valid() and "channel" in foreign.errors

    def test_the_target_page_logs_through_a_channel_and_refuses_one_reaching_nobody(
        self, client, users, reachable, running_campaign, demo_password
    ):
        campaign = running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit",), channels=("mobile", "call_centre")
        )
        target = target_of(campaign, reachable)
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/marketing/targets/{target.pk}/").content.decode()
        assert ">外呼中心</option>" in page and ">手机银行</option>" not in page
        url = f"/marketing/targets/{target.pk}/contact/"
        response = client.post(url, {"channel": "mobile", "outcome": "interested"})
        assert response.status_code == 400
        assert "手机银行 does not contact customers" in response.content.decode()
        assert not MarketingContact.objects.exists()
        at = timezone.localtime(daytime()).strftime("%Y-%m-%dT%H:%M")
        logged = client.post(url, {"channel": "call_centre", "outcome": "interested", "occurred_at": at})
        assert logged.status_code == 302
        contact = MarketingContact.objects.get()
        assert (contact.channel, contact.via.code) == ("call", "call_centre")


# --- the opt-out exclusion ------------------------------------------------------------------------


class TestOptOutExclusion:
    @pytest.fixture
    def no_calls(self, users, make_customer):
        return make_customer(
            manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5", consent_call=False
        )

    @pytest.fixture
    def no_contact(self, users, make_customer):
        consents = {f"consent_{c}": False for c in ("call", "sms", "wechat", "email", "visit")}
        return make_customer(manager=users["demo_cm1"], aum=Decimal("90000"), risk_level="C5", **consents)

    def start(self, running_campaign, channels):
        return running_campaign(
            {"aum_min": "50000"}, product_keys=("deposit",), channels=channels, name="存款"
        )

    def test_opted_out_of_calls_only_is_excluded_from_a_call_centre_campaign(
        self, no_calls, running_campaign
    ):
        campaign = self.start(running_campaign, ("call_centre",))
        assert target_of(campaign, no_calls).excluded_reason == ExclusionReason.OPTED_OUT

    def test_a_campaign_also_sending_sms_keeps_a_customer_who_allows_sms(self, no_calls, running_campaign):
        campaign = self.start(running_campaign, ("call_centre", "sms"))
        assert target_of(campaign, no_calls).excluded_reason == ""

    def test_channels_that_reach_nobody_exclude_nobody_for_opt_out(self, no_contact, running_campaign):
        campaign = self.start(running_campaign, ("counter", "mobile"))
        assert target_of(campaign, no_contact).excluded_reason == ""
        campaign = self.start(running_campaign, ("counter", "visit"))
        assert target_of(campaign, no_contact).excluded_reason == ExclusionReason.OPTED_OUT


# --- the services ---------------------------------------------------------------------------------


class TestServices:
    def test_create_update_switch_are_audited_with_what_changed(self, users):
        bm = users["demo_bm"]
        made = channel_create(by=bm, code="video", name="视频银行", contact_channel="call", position=200)
        assert (made.updated_by, made.is_active) == (bm, True)
        assert events(MarketingAction.CHANNEL_CREATED)[-1].details["name"] == "视频银行"
        changed = channel_update(made, by=bm, name="远程视频银行", contact_channel="", description="")
        assert (changed.name, changed.contact_channel) == ("远程视频银行", "")
        details = events(MarketingAction.CHANNEL_UPDATED)[-1].details
        assert details == {
            "code": "video",
            "name": {"from": "视频银行", "to": "远程视频银行"},
            "contact_channel": {"from": "call", "to": ""},
        }
        channel_update(changed, by=bm, name="远程视频银行")  # nothing changed, nothing written
        assert len(events(MarketingAction.CHANNEL_UPDATED)) == 1
        channel_switch(changed, by=bm, active=False)
        channel_switch(changed, by=bm, active=True)
        assert events(MarketingAction.CHANNEL_SWITCHED_OFF)[-1].details["is_active"] == {
            "from": True,
            "to": False,
        }
        assert len(events(MarketingAction.CHANNEL_SWITCHED_ON)) == 1

    def test_refusals(self, users):
        bm, cm = users["demo_bm"], users["demo_cm1"]
        with pytest.raises(ValidationError, match="code"):
            channel_create(by=bm, code="call", name="重复")
        with pytest.raises(ValidationError):
            channel_create(by=bm, code="视频", name="不是代码")
        with pytest.raises(ValidationError, match="cannot change"):
            channel_update(channel("sms"), by=bm, code="text")
        with pytest.raises(ValidationError, match="already switched off"):
            channel_switch(switch_off("sms", users), by=bm, active=False)
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            channel_switch(channel("call"), by=cm, active=False)
        assert channel("call").is_active and not AuditEvent.objects.filter(actor=cm).exists()

    def test_the_list_counts_the_products_and_campaigns_choosing_each(self, users, segment_for, products):
        draft(users, segment_for, products, ["call_centre", "sms"])
        counts = {c.code: (c.product_count, c.campaign_count) for c in channel_list()}
        assert counts["manager"] == (len(products), 0)
        assert counts["call_centre"] == (0, 1) and counts["sms"] == (0, 1) and counts["atm"] == (0, 0)
        # a branch head sees no draft campaign: none is counted for them
        assert {c.code: c.campaign_count for c in channel_list(user=users["demo_bh"])}["sms"] == 0


# --- the pages ------------------------------------------------------------------------------------


class TestPages:
    def test_a_reader_sees_the_list_by_name_without_the_managers_buttons(
        self, client, demo_users, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        response = client.get("/marketing/channels/")
        body = response.content.decode()
        assert response.status_code == 200
        assert "外呼中心" in body and "Phone call" in body and "Mobile banking" in body
        assert "Does not contact customers" in body and "No transactions of its own" in body
        assert "New channel" not in body and 'data-testid="channel-switch-off"' not in body

    def test_search_filter_sort_and_paging(self, client, users, demo_password, django_assert_max_num_queries):
        log_in(client, "demo_bm", demo_password)

        def codes(query):
            return [c.code for c in client.get("/marketing/channels/", query).context["page_obj"]]

        assert codes({"q": "外呼"}) == ["call_centre"]
        assert codes({"q": "call"}) == ["call", "call_centre"]
        switch_off("atm", users)
        assert codes({"active": "0"}) == ["atm"]
        assert "atm" not in codes({"active": "1"})
        assert codes({"sort": "-order"})[0] == "partner"
        response = client.get("/marketing/channels/", {"active": "maybe"})
        assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
        with django_assert_max_num_queries(12) as few:
            assert client.get("/marketing/channels/").status_code == 200
        for i in range(40):
            channel_create(by=users["demo_bm"], code=f"extra-{i}", name=f"渠道{i}", position=500 + i)
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = client.get("/marketing/channels/", {"size": "25", "page": "2"})
        assert page.status_code == 200 and len(page.context["page_obj"]) == 25

    def test_a_business_manager_creates_edits_and_switches_a_channel(self, client, users, demo_password):
        log_in(client, "demo_bm", demo_password)
        page = client.get("/marketing/channels/new/").content.decode()
        assert "Does not contact customers" in page and "No transactions of its own" in page
        data = {"code": "video", "name": "视频银行", "contact_channel": "call", "transaction_channel": ""}
        data |= {"position": "200", "description": ""}
        response = client.post("/marketing/channels/new/", data, follow=True)
        assert "Channel “视频银行” added." in response.content.decode()
        video = channel("video")
        assert events(MarketingAction.CHANNEL_CREATED)[-1].actor == users["demo_bm"]
        response = client.post(
            f"/marketing/channels/{video.pk}/", {**data, "code": "other", "name": "远程视频"}, follow=True
        )
        assert "Channel “远程视频” saved." in response.content.decode()
        assert channel("video").name == "远程视频" and not Channel.objects.filter(code="other").exists()
        assert events(MarketingAction.CHANNEL_UPDATED)[-1].details["name"] == {
            "from": "视频银行",
            "to": "远程视频",
        }
        response = client.post(f"/marketing/channels/{video.pk}/switch/", {"active": "0"}, follow=True)
        assert "Channel “远程视频” switched off" in response.content.decode()
        assert not channel("video").is_active
        assert len(events(MarketingAction.CHANNEL_SWITCHED_OFF)) == 1
        response = client.post(f"/marketing/channels/{video.pk}/switch/", {"active": "1"}, follow=True)
        assert "Channel “远程视频” is in use again" in response.content.decode()
        assert channel("video").is_active

    def test_bad_input_is_refused_with_the_reason(self, client, users, demo_password):
        log_in(client, "demo_bm", demo_password)
        base = {
            "code": "video",
            "name": "视频银行",
            "contact_channel": "",
            "transaction_channel": "",
            "position": "1",
        }
        for change, words in (
            ({"code": "call"}, "Another channel has this code already."),
            ({"name": ""}, "This field is required."),
            ({"code": "视频 银行"}, "Enter a valid “slug”"),
            ({"contact_channel": "fax"}, "Select a valid choice. fax is not one of the available choices."),
        ):
            response = client.post("/marketing/channels/new/", {**base, **change})
            assert response.status_code == 400, change
            assert words in response.content.decode(), change
        sms = channel("sms")
        response = client.post(f"/marketing/channels/{sms.pk}/switch/", {"active": "later"})
        assert response.status_code == 400 and channel("sms").is_active
        assert not AuditEvent.objects.filter(action__startswith="channel_").exists()

    def test_a_client_manager_may_not_change_the_list(self, client, demo_users, demo_password):
        log_in(client, "demo_cm1", demo_password)
        sms = channel("sms")
        assert client.get("/marketing/channels/new/").status_code == 403
        assert client.post(f"/marketing/channels/{sms.pk}/", {"name": "x"}).status_code == 403
        assert client.post(f"/marketing/channels/{sms.pk}/switch/", {"active": "0"}).status_code == 403
        assert client.get(f"/marketing/channels/{sms.pk}/switch/").status_code in (403, 405)
        assert channel("sms").is_active and channel("sms").name == "短信"
        assert not AuditEvent.objects.filter(action__startswith="channel_").exists()


# --- names, never codes ---------------------------------------------------------------------------


def test_a_campaigns_and_a_products_channels_show_by_name(
    client, users, segment_for, products, demo_password
):
    campaign = draft(users, segment_for, products, ["call_centre", "sms"])
    log_in(client, "demo_bm", demo_password)
    body = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-channels">外呼中心、短信</span>' in body
    assert "call_centre" not in body
    body = client.get("/marketing/products/").content.decode()
    assert 'data-testid="product-channels">客户经理、手机银行</td>' in body


def test_the_campaign_lists_channel_filter_names_the_channels(
    client, users, segment_for, products, demo_password
):
    campaign = draft(users, segment_for, products, ["call_centre"])
    switch_off("partner", users)
    log_in(client, "demo_bm", demo_password)
    response = client.get("/marketing/", {"channel": "call_centre"})
    choices = dict(response.context["filter"].form.fields["channel"].choices)
    assert choices["call_centre"] == "外呼中心" and choices["partner"] == "合作网点 (switched off)"
    assert [c.pk for c in response.context["page_obj"]] == [campaign.pk]
    assert list(client.get("/marketing/", {"channel": "sms"}).context["page_obj"]) == []
    assert client.get("/marketing/", {"channel": "fax"}).status_code == 400

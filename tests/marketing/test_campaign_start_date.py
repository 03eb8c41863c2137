"""A campaign cannot start before its start date nor after its end date: the service
refuses with the campaign's name and the date, the page says so. Every step of the
flow answers with what it did to which campaign, never a bare "Done."."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketing import services
from marketing.choices import CampaignObjective, CampaignStatus
from marketing.models import CampaignTarget
from tests.conftest import PASSWORD
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(users, segment_for, products):
    def _make(*, start: datetime.date, end: datetime.date):
        campaign = services.campaign_create(
            user=users["demo_bm"],
            name="春季定投",
            objective=CampaignObjective.CROSS_SELL,
            segment=segment_for({"aum_min": "50000"}),
            channels=["call"],
            budget=Decimal("3000"),
            start_date=start,
            end_date=end,
            products=[products["wealth"]],
        )
        services.campaign_submit(campaign=campaign, user=users["demo_bm"])
        return services.campaign_approve(campaign=campaign, user=users["bm2"])

    return _make


def _switch(client, username: str, password: str) -> None:
    client.logout()
    log_in(client, username, password)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, url: str, data: dict | None = None) -> list[str]:
    """POST one step and follow to the campaign's page: the messages it shows."""
    response = client.post(url, data or {}, follow=True)
    assert response.redirect_chain and response.status_code == 200
    return [str(m) for m in response.context["messages"]]


class TestStartDate:
    def test_the_service_refuses_before_the_start_date_naming_it(self, approved, users):
        today = timezone.localdate()
        start = today + datetime.timedelta(days=5)
        campaign = approved(start=start, end=start + datetime.timedelta(days=20))
        with pytest.raises(ValidationError) as refused:
            services.campaign_start(campaign=campaign, user=users["demo_bm"], today=today)
        assert refused.value.messages == [
            f"Campaign “春季定投” starts on {start.isoformat()}; it cannot start before that day."
        ]
        assert refused.value.error_list[0].code == "not_started"
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.APPROVED and campaign.started_at is None
        assert not CampaignTarget.objects.filter(campaign=campaign).exists()
        # the day before is still too early; the start date itself is not
        with pytest.raises(ValidationError):
            services.campaign_start(
                campaign=campaign, user=users["demo_bm"], today=start - datetime.timedelta(days=1)
            )
        assert services.campaign_start(campaign=campaign, user=users["demo_bm"], today=start).status == (
            CampaignStatus.RUNNING
        )

    def test_the_service_refuses_after_the_end_date_naming_it(self, approved, users):
        today = timezone.localdate()
        campaign = approved(start=today, end=today + datetime.timedelta(days=3))
        late = today + datetime.timedelta(days=4)
        with pytest.raises(ValidationError) as refused:
            services.campaign_start(campaign=campaign, user=users["demo_bm"], today=late)
        assert refused.value.messages == [
            f"Campaign “春季定投” ended on {campaign.end_date.isoformat()}; it cannot start."
        ]
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.APPROVED

    def test_the_page_shows_the_refusal_and_starts_nothing(self, approved, client, demo_password):
        start = timezone.localdate() + datetime.timedelta(days=2)
        campaign = approved(start=start, end=start + datetime.timedelta(days=10))
        log_in(client, "demo_bm", demo_password)
        response = client.post(f"/marketing/campaigns/{campaign.pk}/start/")
        assert response.status_code == 302
        assert _messages(response) == [
            f"Campaign “春季定投” starts on {start.isoformat()}; it cannot start before that day."
        ]
        page = client.get(response["Location"]).content.decode()
        assert 'data-testid="starts-later"' in page and 'data-testid="start"' not in page
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.APPROVED
        assert not CampaignTarget.objects.filter(campaign=campaign).exists()


class TestEachStepSaysWhatItDid:
    def test_the_messages_name_the_campaign_and_who_decides_next(
        self, users, segment_for, products, client, demo_password
    ):
        today = timezone.localdate()
        campaign = services.campaign_create(
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
        url = f"/marketing/campaigns/{campaign.pk}"
        log_in(client, "demo_bm", demo_password)
        assert _act(client, f"{url}/submit/") == [
            "Campaign “季末理财” submitted for approval; waiting for another business manager to decide."
        ]
        _switch(client, "bm2", PASSWORD)
        assert _act(client, f"{url}/reject/", {"comment": "预算偏高"}) == [
            f"Campaign “季末理财” rejected and sent back to {users['demo_bm'].get_full_name()}."
        ]
        _switch(client, "demo_bm", demo_password)
        assert _act(client, f"{url}/revise/") == [
            "Campaign “季末理财” is a draft again: change it and submit it anew."
        ]
        _act(client, f"{url}/submit/")
        _switch(client, "bm2", PASSWORD)
        assert _act(client, f"{url}/approve/", {"comment": "同意"}) == [
            f"Campaign “季末理财” approved: it can start from {today.isoformat()}."
        ]
        _switch(client, "demo_bm", demo_password)
        started = _act(client, f"{url}/start/")
        campaign.refresh_from_db()
        assert started == [
            f"Campaign “季末理财” started: {campaign.target_count} customers to contact, "
            f"{campaign.excluded_count} excluded."
        ]
        assert _act(client, f"{url}/close/") == ["Campaign “季末理财” closed: it takes no more contacts."]
        assert _act(client, f"{url}/evaluate/", {"evaluation": "目标达成一半"}) == [
            "Campaign “季末理财” evaluated: its results are kept."
        ]
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.EVALUATED

"""Account-opening requests (开户预约): suitability checked before one is recorded
(with the reason), one open request per customer and product, appointments not in
the past, the scope, who may move or cancel one, the audit trail of every write,
the list (filters, scope, paging, bounded queries), a branch's week of
appointments, the entry points (opportunity, target, 360 view) and the demo's
requests. Who may open and post what, role by role, is the roles × URLs harness's
(tests/marketing/urls_openings.py)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from customers.masking import mask_name
from customers.services import assignment_set_primary
from marketing.choices import MarketingAction, OpeningStatus
from marketing.models import CampaignTarget, Channel, OpeningRequest
from marketing.openings import branch_week, is_overdue, overdue_condition, week_start
from marketing.services.openings import opening_appoint, opening_cancel, opening_request
from tests.customers.conftest import log_in as _log_in

pytestmark = pytest.mark.django_db


def log_in(client, username, password):
    client.logout()
    return _log_in(client, username, password)


def _at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _tomorrow(hour: int = 10) -> datetime.datetime:
    return _at(timezone.localdate() + datetime.timedelta(days=1), hour)


@pytest.fixture
def counter(db):
    return Channel.objects.get(code="counter")


@pytest.fixture
def book(users, make_customer, org):
    cm1, cm3 = users["demo_cm1"], users["demo_cm3"]
    valid = {"risk_level": "C5", "risk_expiry": datetime.date(2030, 1, 1), "aum": Decimal("300000")}
    return {
        "mine": make_customer(manager=cm1, name="王大明", **valid),
        "second": make_customer(manager=cm1, name="赵小燕", **valid),
        "expired": make_customer(manager=cm1, risk_level="C5", risk_expiry=datetime.date(2024, 1, 1)),
        "cautious": make_customer(manager=cm1, risk_level="C2", risk_expiry=datetime.date(2030, 1, 1)),
        "none": make_customer(manager=cm1, risk_level=""),
        "other": make_customer(manager=cm3, branch="12101", name="陈远方", **valid),
    }


@pytest.fixture
def request_of(users, products, counter, org):
    def _make(customer, *, user=None, product="deposit", branch=None, appointment_at=None, **fields):
        return opening_request(
            user=user or users["demo_cm1"],
            customer=customer,
            product=products[product] if isinstance(product, str) else product,
            channel=fields.pop("channel", counter),
            branch=branch or customer.home_branch,
            appointment_at=appointment_at,
            **fields,
        )

    return _make


def _events(action, request=None):
    events = AuditEvent.objects.filter(action=action)
    if request is not None:
        events = events.filter(target_type="marketing.openingrequest", target_id=str(request.pk))
    return events


# --- recording a request ------------------------------------------------------------------


class TestRecording:
    def test_an_expired_assessment_blocks_a_wealth_product_with_the_reason(self, book, request_of):
        with pytest.raises(ValidationError) as refused:
            request_of(book["expired"], product="wealth")
        message = " ".join(refused.value.messages)
        assert "稳健理财2026A" in message and "expired on 2024-01-01" in message
        assert not OpeningRequest.objects.exists()
        assert not _events(MarketingAction.OPENING_REQUESTED).exists()

    def test_an_insufficient_level_blocks_an_r5_fund_with_the_reason(self, book, request_of):
        with pytest.raises(ValidationError) as refused:
            request_of(book["cautious"], product="fund")
        message = " ".join(refused.value.messages)
        assert "成长股票基金" in message and "up to R2" in message
        # no assessment at all: refused too, and told so
        with pytest.raises(ValidationError, match="no risk assessment"):
            request_of(book["none"], product="fund")
        assert not OpeningRequest.objects.exists()

    def test_a_deposit_needs_no_assessment(self, book, request_of, users):
        request = request_of(book["none"], product="deposit", expected_amount=Decimal("20000"))
        assert request.status == OpeningStatus.REQUESTED and request.manager == users["demo_cm1"]
        event = _events(MarketingAction.OPENING_REQUESTED, request).get()
        assert event.actor == users["demo_cm1"]
        assert event.details["customer"] == book["none"].customer_no and event.details["product"] == "TD-12M"

    def test_a_time_makes_it_appointed(self, book, request_of):
        request = request_of(book["mine"], product="wealth", appointment_at=_tomorrow())
        assert request.status == OpeningStatus.APPOINTED and request.appointment_at == _tomorrow()

    def test_a_second_open_request_of_the_same_product_is_refused_naming_the_first(self, book, request_of):
        first = request_of(book["mine"], product="wealth", appointment_at=_tomorrow())
        with pytest.raises(ValidationError) as refused:
            request_of(book["mine"], product="wealth")
        message = " ".join(refused.value.messages)
        assert f"no. {first.pk}" in message and "稳健理财2026A" in message
        # another product is another request; once the first is cancelled, a new one is fine
        request_of(book["mine"], product="deposit")
        opening_cancel(first, user=first.manager, reason="客户改期")
        assert request_of(book["mine"], product="wealth").status == OpeningStatus.REQUESTED

    def test_an_appointment_in_the_past_is_refused(self, book, request_of):
        with pytest.raises(ValidationError, match="in the past"):
            request_of(book["mine"], appointment_at=timezone.now() - datetime.timedelta(hours=1))
        assert not OpeningRequest.objects.exists()

    def test_a_customer_outside_the_scope_is_refused(self, book, request_of):
        with pytest.raises(PermissionDenied):
            request_of(book["other"])
        assert not OpeningRequest.objects.exists()

    def test_a_branch_the_customer_cannot_be_served_at_is_refused(self, book, request_of, org):
        # cm1 (11101) for a customer of 11101: not at Pudong's outlet, nor at head office
        for code in ("12101", "10000"):
            with pytest.raises(ValidationError, match="cannot take this request"):
                request_of(book["mine"], branch=org[code])
        # the manager's own outlet is fine
        assert request_of(book["mine"], branch=org["11101"]).branch == org["11101"]

    def test_a_channel_switched_off_is_refused(self, book, request_of):
        sms = Channel.objects.get(code="sms")
        Channel.objects.filter(pk=sms.pk).update(is_active=False)
        sms.refresh_from_db()
        with pytest.raises(ValidationError, match="not in use"):
            request_of(book["mine"], channel=sms)

    def test_an_opportunity_or_target_of_another_customer_or_product_is_refused(
        self, book, request_of, users, products, running_campaign
    ):
        from marketing import services

        opportunity = services.opportunity_create(
            user=users["demo_cm1"],
            customer=book["mine"],
            product=products["deposit"],
            expected_amount=Decimal("1000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )
        with pytest.raises(ValidationError, match="another customer or another product"):
            request_of(book["mine"], product="wealth", opportunity=opportunity)
        with pytest.raises(ValidationError, match="another customer or another product"):
            request_of(book["second"], product="deposit", opportunity=opportunity)
        campaign = running_campaign({"aum_min": "1"}, product_keys=("wealth",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=book["mine"])
        with pytest.raises(ValidationError, match="does not offer"):
            request_of(book["mine"], product="deposit", target=target)
        assert request_of(book["mine"], product="wealth", target=target).target == target


# --- moving and cancelling ----------------------------------------------------------------


class TestAppointmentAndCancellation:
    def test_the_requester_sets_and_moves_the_time_audited_old_to_new(self, book, request_of, users):
        request = request_of(book["mine"])
        opening_appoint(request, user=users["demo_cm1"], appointment_at=_tomorrow(10))
        opening_appoint(request, user=users["demo_cm1"], appointment_at=_tomorrow(15))
        request.refresh_from_db()
        assert request.status == OpeningStatus.APPOINTED and request.appointment_at == _tomorrow(15)
        day = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
        moves = list(
            _events(MarketingAction.OPENING_APPOINTED, request)
            .order_by("pk")
            .values_list("details", flat=True)
        )
        assert moves == [{"from": None, "to": f"{day} 10:00"}, {"from": f"{day} 10:00", "to": f"{day} 15:00"}]
        # the same time again writes nothing
        opening_appoint(request, user=users["demo_cm1"], appointment_at=_tomorrow(15))
        assert _events(MarketingAction.OPENING_APPOINTED, request).count() == 2

    def test_a_cancellation_needs_a_reason_and_the_request_open(self, book, request_of, users):
        request = request_of(book["mine"])
        with pytest.raises(ValidationError, match="Say why"):
            opening_cancel(request, user=users["demo_cm1"], reason="  ")
        opening_cancel(request, user=users["demo_cm1"], reason="客户暂不需要")
        request.refresh_from_db()
        assert request.status == OpeningStatus.CANCELLED and request.cancel_reason == "客户暂不需要"
        assert request.cancelled_by == users["demo_cm1"] and request.cancelled_at is not None
        assert _events(MarketingAction.OPENING_CANCELLED, request).get().details["reason"] == "客户暂不需要"
        with pytest.raises(ValidationError, match="no longer be changed"):
            opening_appoint(request, user=users["demo_cm1"], appointment_at=_tomorrow())
        with pytest.raises(ValidationError, match="no longer be changed"):
            opening_cancel(request, user=users["demo_cm1"], reason="again")

    def test_another_manager_may_not_cancel_a_branch_head_of_the_branch_may(
        self, client, book, request_of, users, demo_password
    ):
        request = request_of(book["mine"], appointment_at=_tomorrow())
        # the customer moves to cm2, who now sees the request cm1 made, but it is not theirs
        assignment_set_primary(
            customer=book["mine"], manager=users["demo_cm2"], by=None, reason="test", on=timezone.localdate()
        )
        with pytest.raises(PermissionDenied):
            opening_cancel(request, user=users["demo_cm2"], reason="not mine")
        log_in(client, "demo_cm2", demo_password)
        response = client.post(f"/marketing/openings/{request.pk}/cancel/", {"reason": "not mine"})
        assert response.status_code == 403
        page = client.get(f"/marketing/openings/{request.pk}/").content.decode()
        assert 'data-testid="cancel-form"' not in page  # and the form is not offered
        request.refresh_from_db()
        assert request.status == OpeningStatus.APPOINTED
        assert not _events(MarketingAction.OPENING_CANCELLED).exists()
        # the head of Haidian (11100, above the request's outlet 11101) may
        log_in(client, "demo_bh", demo_password)
        response = client.post(f"/marketing/openings/{request.pk}/cancel/", {"reason": "客户来电取消"})
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == OpeningStatus.CANCELLED and request.cancelled_by == users["demo_bh"]
        assert _events(MarketingAction.OPENING_CANCELLED, request).get().actor == users["demo_bh"]

    def test_a_branch_head_moves_an_appointment_of_their_branch_only(
        self, book, request_of, users, make_user
    ):
        request = request_of(book["mine"], appointment_at=_tomorrow())
        opening_appoint(request, user=users["demo_bh"], appointment_at=_tomorrow(16))
        assert _events(MarketingAction.OPENING_APPOINTED, request).get().actor == users["demo_bh"]
        shanghai_head = make_user("branch_head", "12100")
        with pytest.raises(PermissionDenied):
            opening_appoint(request, user=shanghai_head, appointment_at=_tomorrow(11))
        with pytest.raises(PermissionDenied):  # head office reads but may not change requests
            opening_appoint(request, user=users["demo_bm"], appointment_at=_tomorrow(11))


# --- overdue ------------------------------------------------------------------------------


def test_overdue_is_open_and_n_days_past_the_appointment_or_recording(book, request_of, settings):
    settings.OPENING_OVERDUE_DAYS = 7
    today = timezone.localdate()
    waiting = request_of(book["mine"], product="deposit")
    appointed = request_of(book["mine"], product="wealth", appointment_at=_tomorrow())
    cancelled = request_of(book["second"], product="deposit")
    opening_cancel(cancelled, user=cancelled.manager, reason="x")
    OpeningRequest.objects.filter(pk=waiting.pk).update(created_at=_at(today - datetime.timedelta(days=8)))
    OpeningRequest.objects.filter(pk=appointed.pk).update(
        appointment_at=_at(today - datetime.timedelta(days=7))
    )
    OpeningRequest.objects.filter(pk=cancelled.pk).update(created_at=_at(today - datetime.timedelta(days=30)))
    overdue = set(OpeningRequest.objects.filter(overdue_condition(today)).values_list("pk", flat=True))
    assert overdue == {waiting.pk}  # 7 days after its appointment is not yet overdue
    assert set(
        OpeningRequest.objects.filter(overdue_condition(today, days=6)).values_list("pk", flat=True)
    ) == {
        waiting.pk,
        appointed.pk,
    }
    for request in OpeningRequest.objects.all():
        assert is_overdue(request, today) == (request.pk in overdue)


# --- the pages ----------------------------------------------------------------------------


class TestCreatePage:
    def test_a_refused_product_shows_the_reason_on_the_form(
        self, client, book, products, counter, demo_password
    ):
        log_in(client, "demo_cm1", demo_password)
        customer = book["expired"]
        url = f"/marketing/openings/new/?customer={customer.customer_no}"
        page = client.get(f"{url}&product={products['wealth'].pk}").content.decode()
        assert "expired on 2024-01-01" in page  # told before filling anything in
        response = client.post(
            url,
            {
                "customer": customer.customer_no,
                "product": products["wealth"].pk,
                "channel": counter.pk,
                "branch": customer.home_branch_id,
            },
        )
        assert response.status_code == 400
        assert "expired on 2024-01-01" in response.content.decode()
        assert not OpeningRequest.objects.exists()

    def test_a_request_recorded_from_the_form(self, client, book, products, org, demo_password):
        log_in(client, "demo_cm1", demo_password)
        customer = book["mine"]
        manager_channel = Channel.objects.get(code="manager")
        day = timezone.localdate() + datetime.timedelta(days=2)
        response = client.post(
            "/marketing/openings/new/",
            {
                "customer": customer.customer_no,
                "product": products["wealth"].pk,
                "channel": manager_channel.pk,
                "branch": org["11101"].pk,
                "appointment_date": day.isoformat(),
                "appointment_time": "14:30",
                "expected_amount": "80000",
                "note": "来电预约",
            },
            follow=True,
        )
        request = OpeningRequest.objects.get()
        assert response.redirect_chain[-1][0] == f"/marketing/openings/{request.pk}/"
        assert request.appointment_at == _at(day, 14, 30) and request.channel == manager_channel
        page = response.content.decode()
        assert "Account opening requested: 稳健理财2026A" in page and mask_name("王大明") in page
        assert "王大明" not in page  # the name is masked

    def test_a_day_without_a_time_is_a_form_error(self, client, book, products, counter, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            "/marketing/openings/new/",
            {
                "customer": book["mine"].customer_no,
                "product": products["deposit"].pk,
                "channel": counter.pk,
                "branch": book["mine"].home_branch_id,
                "appointment_date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
            },
        )
        assert (
            response.status_code == 400 and "Give the time of the appointment." in response.content.decode()
        )

    def test_a_customer_outside_the_scope_is_not_found(self, client, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        response = client.get(f"/marketing/openings/new/?customer={book['other'].customer_no}")
        assert response.status_code == 404
        page = response.content.decode()
        assert "No customer with this number in your scope." in page and "陈远方" not in page
        posted = client.post(
            "/marketing/openings/new/", {"customer": book["other"].customer_no, "product": "1"}
        )
        assert posted.status_code == 404 and not OpeningRequest.objects.exists()
        refused = AuditEvent.objects.filter(action="customer_access_refused", actor_username="demo_cm1")
        assert refused.exists()

    def test_prefilled_from_the_opportunity_with_the_products_channels_first(
        self, client, book, users, products, demo_password
    ):
        from marketing import services

        opportunity = services.opportunity_create(
            user=users["demo_cm1"],
            customer=book["mine"],
            product=products["wealth"],
            expected_amount=Decimal("66000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )
        log_in(client, "demo_cm1", demo_password)
        detail = client.get(f"/marketing/opportunities/{opportunity.pk}/").content.decode()
        assert f"/marketing/openings/new/?opportunity={opportunity.pk}" in detail
        page = client.get(f"/marketing/openings/new/?opportunity={opportunity.pk}").content.decode()
        assert re.search(rf'<option value="{products["wealth"].pk}" selected>', page)
        assert 'value="66000.00"' in page
        channels = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page.split('name="channel"')[1])
        assert channels[:2] == ["客户经理", "手机银行"]  # the product's own channels (manager, mobile) first
        assert re.search(r'<option value="\d+" selected>客户经理</option>', page)

    def test_prefilled_from_the_campaign_target(
        self, client, book, running_campaign, products, demo_password
    ):
        campaign = running_campaign({"aum_min": "1"}, product_keys=("wealth",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=book["mine"])
        log_in(client, "demo_cm1", demo_password)
        detail = client.get(f"/marketing/targets/{target.pk}/").content.decode()
        assert f"/marketing/openings/new/?target={target.pk}" in detail
        page = client.get(f"/marketing/openings/new/?target={target.pk}").content.decode()
        assert book["mine"].customer_no in page and campaign.name in page
        assert re.search(rf'<option value="{products["wealth"].pk}" selected>', page)


class TestList:
    @pytest.fixture
    def requests(self, book, request_of, users, make_customer, org):
        today = timezone.localdate()
        made = {
            "mine": request_of(book["mine"], product="wealth", appointment_at=_tomorrow()),
            "waiting": request_of(book["second"], product="deposit"),
            "other": request_of(book["other"], user=users["demo_cm3"], appointment_at=_tomorrow()),
        }
        OpeningRequest.objects.filter(pk=made["waiting"].pk).update(
            created_at=_at(today - datetime.timedelta(days=20))
        )
        return made

    def test_each_user_sees_their_scope(self, client, requests, demo_password):
        def shown(username):
            log_in(client, username, demo_password)
            page = client.get("/marketing/openings/").content.decode()
            return {pk for pk, request in requests.items() if f"/marketing/openings/{request.pk}/" in page}

        assert shown("demo_cm1") == {"mine", "waiting"}
        assert shown("demo_cm3") == {"other"}
        assert shown("demo_bh") == {"mine", "waiting"}
        assert shown("demo_bm") == {"mine", "waiting", "other"}

    def test_filters_search_masking_and_the_overdue_badge(self, client, requests, book, demo_password):
        log_in(client, "demo_cm1", demo_password)
        page = client.get("/marketing/openings/").content.decode()
        assert mask_name("王大明") in page and "王大明" not in page
        assert page.count('data-testid="overdue"') == 1

        def rows(**query):
            response = client.get("/marketing/openings/", query)
            assert response.status_code == 200
            return response.content.decode().count('data-testid="opening-row"')

        assert rows(overdue="1") == 1
        assert rows(status="appointed") == 1
        assert rows(q=book["second"].customer_no) == 1
        assert rows(q="大明") == 1
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
        assert rows(appointment_from=tomorrow, appointment_to=tomorrow) == 1
        assert rows(channel=Channel.objects.get(code="sms").pk) == 0
        bad = client.get(
            "/marketing/openings/", {"appointment_from": tomorrow, "appointment_to": "2020-01-01"}
        )
        assert bad.status_code == 400 and "ends before it starts" in bad.content.decode()
        assert rows(branch=book["mine"].home_branch_id) == 2
        # statuses, branches and channels are offered by name, never by code
        bar = page.split('data-testid="filter-bar"')[1].split("</form>")[0]
        for name in ("Appointment made", "中关村网点", "柜面"):
            assert f">{name}</option>" in bar
        assert ">11101</option>" not in bar and ">counter</option>" not in bar

    def test_the_query_count_does_not_grow_with_the_rows(
        self, client, book, request_of, make_customer, users, django_assert_max_num_queries, demo_password
    ):
        log_in(client, "demo_bm", demo_password)
        for n in range(30):
            customer = make_customer(manager=users["demo_cm1"], risk_level="")
            request_of(customer, appointment_at=_tomorrow(9 + n % 8))
        # session, user, permissions and roles (5), the count, the branches, channels and
        # products of the filter bar, the page of rows; the session saved (3)
        with django_assert_max_num_queries(14):
            response = client.get("/marketing/openings/", {"size": "25", "sort": "-appointment"})
        assert response.content.decode().count('data-testid="opening-row"') == 25
        response = client.get("/marketing/openings/", {"size": "25", "page": "2"})
        assert response.content.decode().count('data-testid="opening-row"') == 5


class TestCalendar:
    def test_a_week_of_the_branch_by_day_and_another_branch_refused(
        self, client, book, request_of, users, org, demo_password
    ):
        today = timezone.localdate()
        monday = week_start(today) + datetime.timedelta(days=7)  # next week: every day is ahead
        wednesday = _at(monday + datetime.timedelta(days=2), 9, 30)
        friday = _at(monday + datetime.timedelta(days=4), 15)
        a = request_of(book["mine"], product="wealth", appointment_at=wednesday)
        b = request_of(book["second"], product="deposit", appointment_at=friday)
        request_of(book["other"], user=users["demo_cm3"], appointment_at=wednesday)  # Pudong
        cancelled = request_of(book["mine"], product="deposit", appointment_at=friday)
        opening_cancel(cancelled, user=users["demo_cm1"], reason="x")
        request_of(book["second"], product="wealth", appointment_at=friday + datetime.timedelta(days=7))

        days = branch_week(user=users["demo_bh"], branch=org["11100"], monday=monday)
        assert [[r.pk for r in d.requests] for d in days] == [[], [], [a.pk], [], [b.pk], [], []]

        log_in(client, "demo_cm1", demo_password)
        response = client.get(
            "/marketing/openings/calendar/", {"branch": "11101", "week": monday.isoformat()}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert (
            page.count('data-testid="calendar-day"') == 7 and page.count('data-testid="calendar-item"') == 2
        )
        wednesday_cell = page.split(f'data-day="{(monday + datetime.timedelta(days=2)).isoformat()}"')[1]
        wednesday_cell = wednesday_cell.split('data-testid="calendar-day"')[0]
        assert "09:30" in wednesday_cell and mask_name("王大明") in wednesday_cell
        assert "稳健理财2026A" in wednesday_cell and "王经理" in wednesday_cell
        assert f"week={(monday - datetime.timedelta(days=7)).isoformat()}" in page  # previous week
        assert f"week={(monday + datetime.timedelta(days=7)).isoformat()}" in page  # next week
        refused = client.get("/marketing/openings/calendar/", {"branch": "12101", "week": monday.isoformat()})
        assert refused.status_code == 400 and "not in your scope" in refused.content.decode()
        assert (
            "陈远方" not in refused.content.decode() and mask_name("陈远方") not in refused.content.decode()
        )

    def test_the_branch_head_sees_the_outlets_below_and_only_their_branches(
        self, client, book, request_of, users, demo_password, django_assert_max_num_queries
    ):
        monday = week_start(timezone.localdate()) + datetime.timedelta(days=7)
        request_of(book["mine"], appointment_at=_at(monday, 10))
        log_in(client, "demo_bh", demo_password)
        with django_assert_max_num_queries(12):  # the week is one query, whatever its rows
            response = client.get("/marketing/openings/calendar/", {"week": monday.isoformat()})
        page = response.content.decode()
        assert response.status_code == 200 and page.count('data-testid="calendar-item"') == 1
        options = re.findall(r'<option value="(\d+)"', page)
        assert options == ["11100", "11101", "11102"]


class TestDetail:
    def test_everything_about_the_request_and_its_history(
        self, client, book, request_of, users, demo_password
    ):
        request = request_of(book["mine"], product="wealth", note="客户来电")
        opening_appoint(request, user=users["demo_cm1"], appointment_at=_tomorrow(11))
        log_in(client, "demo_cm1", demo_password)
        page = client.get(f"/marketing/openings/{request.pk}/").content.decode()
        assert "稳健理财2026A" in page and "柜面" in page and "客户来电" in page
        history = page.split('data-testid="opening-history"')[1]
        assert "Account opening requested" in history and "Account-opening appointment set" in history
        assert "— → " in history  # the time set, old → new
        assert 'data-testid="appoint-form"' in page and 'data-testid="cancel-form"' in page
        assert 'data-testid="match-link"' not in page  # a client manager does not match by hand

    def test_who_may_match_by_hand_gets_the_link_and_the_page_stands_without_it(
        self, client, book, request_of, demo_password, monkeypatch
    ):
        from django.urls import NoReverseMatch

        from marketing.views import openings as views

        request = request_of(book["mine"])
        log_in(client, "demo_bh", demo_password)  # match_openingrequest
        page = client.get(f"/marketing/openings/{request.pk}/").content.decode()
        assert f'href="/marketing/openings/{request.pk}/match/" data-testid="match-link"' in page

        def no_match_page(name, *args, **kwargs):
            raise NoReverseMatch(name)

        monkeypatch.setattr(views, "reverse", no_match_page)
        response = client.get(f"/marketing/openings/{request.pk}/")
        assert response.status_code == 200 and 'data-testid="match-link"' not in response.content.decode()

    def test_the_auditor_reads_without_forms(self, client, book, request_of, demo_password):
        request = request_of(book["mine"])
        log_in(client, "demo_audit", demo_password)
        page = client.get(f"/marketing/openings/{request.pk}/").content.decode()
        assert 'data-testid="opening-status"' in page and 'data-testid="cancel-form"' not in page

    def test_a_bad_appointment_is_shown_on_the_page(self, client, book, request_of, demo_password):
        request = request_of(book["mine"])
        log_in(client, "demo_cm1", demo_password)
        response = client.post(
            f"/marketing/openings/{request.pk}/appointment/",
            {"appointment_date": "2020-01-01", "appointment_time": "10:00"},
        )
        assert response.status_code == 400 and "cannot be in the past" in response.content.decode()
        request.refresh_from_db()
        assert request.appointment_at is None and not _events(MarketingAction.OPENING_APPOINTED).exists()


# --- the 360 view -------------------------------------------------------------------------


def _actions(html: str) -> dict[str, str]:
    found = re.findall(r'<a class="[^"]*" href="([^"]*)" data-testid="customer-action">([^<]*)</a>', html)
    return {text: href for href, text in found}


def test_the_360_view_offers_a_request_to_a_client_manager_not_to_the_auditor(client, book, demo_password):
    customer = book["mine"]
    log_in(client, "demo_cm1", demo_password)
    actions = _actions(client.get(f"/customers/{customer.customer_no}/").content.decode())
    assert (
        actions["Request an account opening"] == f"/marketing/openings/new/?customer={customer.customer_no}"
    )
    log_in(client, "demo_audit", demo_password)
    assert "Request an account opening" not in _actions(
        client.get(f"/customers/{customer.customer_no}/").content.decode()
    )
    log_in(client, "demo_bh", demo_password)  # moves and cancels, does not record requests
    assert "Request an account opening" not in _actions(
        client.get(f"/customers/{customer.customer_no}/").content.decode()
    )


# --- the demo -----------------------------------------------------------------------------


def test_the_demo_requests(demo_users):
    from demo.marketing import seed_marketing
    from demo.openings import seed_openings
    from demo.seeding import seed_customers

    seed_customers(count=200)
    seed_marketing()
    lines: list[str] = []
    business_date = timezone.localdate() - datetime.timedelta(days=1)
    counts = seed_openings(business_date=business_date, write=lines.append)
    assert counts["openings"] == OpeningRequest.objects.count()
    assert 30 <= counts["openings"] - counts["to_confirm"] <= 45
    # the everyday buyers' requests, which the business date's batch confirms
    to_confirm = OpeningRequest.objects.filter(appointment_at__date=business_date, product__code="WM-CASH")
    assert counts["to_confirm"] >= 1 and to_confirm.count() >= counts["to_confirm"]
    assert lines and lines[0].startswith("Account-opening requests:")
    statuses = set(OpeningRequest.objects.values_list("status", flat=True))
    assert {OpeningStatus.REQUESTED, OpeningStatus.APPOINTED, OpeningStatus.CANCELLED} <= statuses
    today = timezone.localdate()
    assert OpeningRequest.objects.filter(overdue_condition(today)).exists()
    monday = week_start(today)
    this_week = OpeningRequest.objects.filter(
        appointment_at__date__gte=monday, appointment_at__date__lte=monday + datetime.timedelta(days=6)
    ).exclude(status=OpeningStatus.CANCELLED)
    assert this_week.exists()
    assert OpeningRequest.objects.values("manager").distinct().count() >= 3
    # every request was recorded through the service, so it is suitable and audited
    assert _events(MarketingAction.OPENING_REQUESTED).count() == counts["openings"]
    assert _events(MarketingAction.OPENING_CANCELLED).count() == counts["cancelled"]
    # the same choices on another run; a second run creates nothing
    assert seed_openings(business_date=business_date) == {}

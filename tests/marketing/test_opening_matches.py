"""Account-opening requests confirmed by the accounts core banking brings: by the
nightly job (the sale is the requesting manager's, through the request's channel,
never re-attributed to the manager of record), by hand on the match page (an
already-recorded sale changes hands, or a new one is written), and flagged when
overdue; every step audited. Also: a campaign-linked sale came through the channel
of the target's last contact."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.models import AuditEvent
from customers.choices import AccountCategory
from customers.masking import mask_account_no
from marketing import services
from marketing.choices import (
    MarketingAction,
    OpeningStatus,
    OpportunityStage,
    SaleSource,
)
from marketing.models import CampaignTarget, Channel, MarketingContact, OpeningRequest, Sale
from marketing.opening_matches import flag_overdue, opening_match
from marketing.openings import overdue_condition
from marketing.sales import sales_from_new_accounts
from tests.marketing.world_opening_reports import opening_request

pytestmark = pytest.mark.django_db
D = Decimal
DAY = datetime.date(2026, 5, 19)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def wealth_account(add_account, customer, *, on=DAY, balance="50000", code="WM-2026A"):
    return add_account(
        customer, category=AccountCategory.WEALTH, product_code=code, open_date=on, balance=D(balance)
    )


@pytest.fixture
def cast(users, make_customer, products):
    """A customer of cm1 (the manager of record) whose account-opening request cm2,
    at another outlet, recorded through the counter two days before DAY."""
    customer = make_customer(
        manager=users["demo_cm1"], risk_level="C5", risk_expiry=datetime.date(2030, 1, 1)
    )
    request = opening_request(
        customer=customer,
        product=products["wealth"],
        manager=users["demo_cm2"],
        created=DAY - datetime.timedelta(days=2),
    )
    return customer, request


class TestNightlyConfirmation:
    def test_a_loaded_account_confirms_the_request_and_the_sale_is_the_requesters(
        self, users, cast, add_account, org
    ):
        # given cm2's request for cm1's customer, and the account core banking brought
        customer, request = cast
        account = wealth_account(add_account, customer)
        # when the nightly job runs for the account's day
        counts = sales_from_new_accounts(DAY)
        # then the request is opened, and its sale is cm2's, at cm2's outlet, through the counter
        assert counts["confirmed"] == 1 and counts["recorded"] == 0
        request.refresh_from_db()
        sale = Sale.objects.select_related("branch", "channel").get()
        assert request.status == OpeningStatus.OPENED
        assert (request.account, request.sale, request.opened_on) == (account, sale, DAY)
        assert request.matched_at is not None and request.matched_by is None
        assert sale.source == SaleSource.OPENING
        assert sale.manager == users["demo_cm2"] and sale.branch.code == "11102"
        assert sale.channel.code == "counter"
        assert (sale.amount, sale.sale_date, sale.account) == (D("50000"), DAY, account)
        assert (sale.product.code, sale.product_code, sale.category) == ("WM-2026A", "WM-2026A", "WEALTH")
        # and one audit event, by nobody, names the account and the sale
        [event] = events(MarketingAction.OPENING_CONFIRMED)
        assert event.actor is None and event.target_type == "marketing.openingrequest"
        assert event.target_id == str(request.pk)
        assert event.details == {"account": account.pk, "sale": sale.pk, "opportunity": None}

    def test_running_the_job_again_changes_nothing(self, cast, add_account, users):
        customer, request = cast
        wealth_account(add_account, customer)
        sales_from_new_accounts(DAY)
        before = list(Sale.objects.values())
        # when it runs again for the same day
        counts = sales_from_new_accounts(DAY)
        # then no sale more, none re-attributed, no event more
        assert counts == {"confirmed": 0, "recorded": 0, "linked": 0, "converted": 0}
        assert list(Sale.objects.values()) == before
        assert Sale.objects.get().manager == users["demo_cm2"]
        assert len(events(MarketingAction.OPENING_CONFIRMED)) == 1

    def test_the_nth_account_of_the_product_confirms_the_nth_request(
        self, cast, users, add_account, products
    ):
        customer, first = cast
        second = opening_request(
            customer=customer, product=products["wealth"], manager=users["demo_cm1"], created=DAY
        )
        # given one account on DAY: the older request takes it
        wealth_account(add_account, customer)
        sales_from_new_accounts(DAY)
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == OpeningStatus.OPENED and second.status == OpeningStatus.REQUESTED
        # when a second account of the product comes the next day, it confirms the second
        later = DAY + datetime.timedelta(days=1)
        account = wealth_account(add_account, customer, on=later, balance="20000")
        sales_from_new_accounts(later)
        second.refresh_from_db()
        assert (second.status, second.account, second.opened_on) == (OpeningStatus.OPENED, account, later)
        assert second.sale.manager == users["demo_cm1"] and second.sale.amount == D("20000")
        assert len(events(MarketingAction.OPENING_CONFIRMED)) == 2

    def test_two_accounts_on_one_day_confirm_two_requests_oldest_first(
        self, cast, users, add_account, products
    ):
        customer, first = cast
        second = opening_request(
            customer=customer, product=products["wealth"], manager=users["demo_cm1"], created=DAY
        )
        a = wealth_account(add_account, customer, balance="10000")
        b = wealth_account(add_account, customer, balance="20000")
        assert sales_from_new_accounts(DAY)["confirmed"] == 2
        assert OpeningRequest.objects.get(pk=first.pk).account == a
        assert OpeningRequest.objects.get(pk=second.pk).account == b

    def test_an_account_of_another_product_or_customer_confirms_nothing(
        self, cast, users, make_customer, add_account
    ):
        customer, request = cast
        other = make_customer(manager=users["demo_cm1"])
        add_account(customer, category=AccountCategory.DEP_TIME, product_code="TD-12M", open_date=DAY)
        wealth_account(add_account, other)
        counts = sales_from_new_accounts(DAY)
        # then the request stays open; both accounts are sales of the manager of record
        request.refresh_from_db()
        assert request.status == OpeningStatus.REQUESTED and request.account is None
        assert counts["confirmed"] == 0 and counts["recorded"] == 2
        assert {(s.source, s.manager_id) for s in Sale.objects.all()} == {
            (SaleSource.CORE_BANKING, users["demo_cm1"].pk)
        }
        assert events(MarketingAction.OPENING_CONFIRMED) == []

    def test_a_request_recorded_after_the_business_date_or_cancelled_is_not_confirmed(
        self, users, make_customer, products, add_account
    ):
        customer = make_customer(manager=users["demo_cm1"])
        later = opening_request(
            customer=customer,
            product=products["wealth"],
            manager=users["demo_cm1"],
            created=DAY + datetime.timedelta(days=1),
        )
        cancelled = opening_request(
            customer=customer,
            product=products["wealth"],
            manager=users["demo_cm1"],
            created=DAY,
            status=OpeningStatus.CANCELLED,
        )
        wealth_account(add_account, customer)
        sales_from_new_accounts(DAY)
        assert OpeningRequest.objects.get(pk=later.pk).status == OpeningStatus.REQUESTED
        assert OpeningRequest.objects.get(pk=cancelled.pk).status == OpeningStatus.CANCELLED
        assert Sale.objects.get().source == SaleSource.CORE_BANKING

    def test_a_won_opportunitys_sale_is_confirmed_once_for_the_requester(
        self, users, cast, products, add_account
    ):
        # given cm1 won an opportunity (a sale core banking has not confirmed yet) and
        # cm2's request carries it
        customer, request = cast
        cm1 = users["demo_cm1"]
        opportunity = services.opportunity_create(
            user=cm1,
            customer=customer,
            product=products["wealth"],
            expected_amount=D("80000"),
            expected_close_date=DAY,
        )
        won = services.opportunity_win(
            opportunity=opportunity, user=cm1, amount=D("80000"), sale_date=DAY - datetime.timedelta(days=1)
        )
        OpeningRequest.objects.filter(pk=request.pk).update(opportunity=opportunity)
        # when the account comes
        account = wealth_account(add_account, customer, balance="85000")
        counts = sales_from_new_accounts(DAY)
        # then the won opportunity's sale is the account's, now the request's: one sale, not two
        assert counts["confirmed"] == 1 and counts["recorded"] == 0
        sale = Sale.objects.get()
        assert sale.pk == won.pk and sale.account == account and sale.opportunity == opportunity
        assert (sale.source, sale.manager, sale.amount, sale.sale_date) == (
            SaleSource.OPENING,
            users["demo_cm2"],
            D("85000"),
            DAY,
        )
        assert sale.channel.code == "counter"
        request.refresh_from_db()
        assert request.sale == sale and request.status == OpeningStatus.OPENED
        assert events(MarketingAction.OPENING_CONFIRMED)[0].details["opportunity"] == opportunity.pk

    def test_an_open_opportunity_the_request_carries_is_won_by_the_new_sale(
        self, users, cast, products, add_account
    ):
        customer, request = cast
        opportunity = services.opportunity_create(
            user=users["demo_cm1"],
            customer=customer,
            product=products["wealth"],
            expected_amount=D("80000"),
            expected_close_date=DAY,
        )
        OpeningRequest.objects.filter(pk=request.pk).update(opportunity=opportunity)
        wealth_account(add_account, customer)
        sales_from_new_accounts(DAY)
        opportunity.refresh_from_db()
        sale = Sale.objects.get()
        assert sale.opportunity == opportunity and sale.source == SaleSource.OPENING
        assert opportunity.stage == OpportunityStage.WON and opportunity.closed_at is not None


class TestCampaignChannel:
    def test_a_campaign_linked_sale_came_through_the_last_contacts_channel(
        self, users, make_customer, add_account, running_campaign
    ):
        cm1 = users["demo_cm1"]
        contacted = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        silent = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth",), channels=("visit",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=contacted)
        today = timezone.localdate()
        contact = services.contact_log(user=cm1, target=target, channel="visit", outcome="interested")
        channels = {c.code: c for c in Channel.objects.all()}
        # an older contact through WeChat, the last one through a visit, and one after the day
        MarketingContact.objects.filter(pk=contact.pk).update(via=channels["visit"])
        for via, when in (("wechat", -1), ("call", 1)):
            MarketingContact.objects.create(
                customer=contacted,
                campaign=campaign,
                target=target,
                channel="visit",
                via=channels[via],
                occurred_at=contact.occurred_at + datetime.timedelta(days=when),
                outcome="interested",
                manager=cm1,
            )
        for customer in (contacted, silent):
            wealth_account(add_account, customer, on=today)
        sales_from_new_accounts(today)
        linked = Sale.objects.get(customer=contacted)
        assert linked.target == target and linked.channel == channels["visit"]
        assert Sale.objects.get(customer=silent).channel is None

    def test_a_requests_sale_keeps_the_requests_channel_when_linked_to_a_campaign(
        self, users, make_customer, add_account, running_campaign, products
    ):
        cm1 = users["demo_cm1"]
        customer = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth",), channels=("visit",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=customer)
        services.contact_log(user=cm1, target=target, channel="visit", outcome="interested")
        MarketingContact.objects.filter(target=target).update(via=Channel.objects.get(code="visit"))
        today = timezone.localdate()
        opening_request(
            customer=customer, product=products["wealth"], manager=cm1, channel="mobile", target=target
        )
        wealth_account(add_account, customer, on=today)
        sales_from_new_accounts(today)
        sale = Sale.objects.get()
        assert sale.target == target and sale.campaign == campaign and sale.channel.code == "mobile"


# --- matching by hand ---------------------------------------------------------------------


@pytest.fixture
def recorded(cast, add_account):
    """cm2's request (recorded on DAY − 2) and an account of another wealth product
    opened on DAY, which the nightly job recorded as cm1's sale (manager of record)."""
    customer, request = cast
    account = wealth_account(add_account, customer, code="WM-2026B", balance="60000")
    sales_from_new_accounts(DAY)
    return request, account


def match_url(request) -> str:
    return f"/marketing/openings/{request.pk}/match/"


class TestMatchByHand:
    def test_an_already_recorded_sale_becomes_the_requesters(self, client, users, recorded, org):
        request, account = recorded
        sale = Sale.objects.get()
        assert (sale.source, sale.manager) == (SaleSource.CORE_BANKING, users["demo_cm1"])
        # when the branch head matches the request to that account
        client.force_login(users["demo_bh"])
        response = client.post(match_url(request), {"account": account.pk})
        # then the sale is cm2's, at cm2's outlet, through the request's channel
        assert response.status_code == 302
        sale.refresh_from_db()
        assert (sale.source, sale.manager, sale.branch.code, sale.channel.code) == (
            SaleSource.OPENING,
            users["demo_cm2"],
            "11102",
            "counter",
        )
        request.refresh_from_db()
        assert (request.status, request.account, request.sale, request.opened_on) == (
            OpeningStatus.OPENED,
            account,
            sale,
            DAY,
        )
        assert request.matched_by == users["demo_bh"]
        [event] = events(MarketingAction.OPENING_MATCHED)
        assert event.actor == users["demo_bh"] and event.target_id == str(request.pk)
        assert event.details["account_no"] == mask_account_no(account.account_no)
        assert event.details["sale_was"] == SaleSource.CORE_BANKING
        assert event.details["manager_was"] == users["demo_cm1"].pk
        # and the user is told so, by the account's masked number, on the request's page
        assert response.url == f"/marketing/openings/{request.pk}/"
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        assert mask_account_no(account.account_no) in message and account.account_no not in message
        page = client.get(match_url(request)).content.decode()
        assert "Confirmed by account" in page and mask_account_no(account.account_no) in page
        assert account.account_no not in page
        # and the next nightly run leaves the sale with the requester
        sales_from_new_accounts(DAY)
        assert Sale.objects.get().manager == users["demo_cm2"]

    def test_an_account_not_recorded_yet_becomes_a_new_sale(self, users, cast, add_account):
        customer, request = cast
        account = wealth_account(add_account, customer, code="WM-2026B", on=DAY + datetime.timedelta(days=1))
        opening_match(opening=request, account=account, user=users["demo_bm"])
        sale = Sale.objects.get()
        assert (sale.source, sale.manager, sale.account, sale.amount, sale.sale_date) == (
            SaleSource.OPENING,
            users["demo_cm2"],
            account,
            D("50000"),
            DAY + datetime.timedelta(days=1),
        )
        assert sale.product.code == "WM-2026A" and sale.product_code == "WM-2026B"
        # the nightly job of that day neither records it again nor re-attributes it
        assert sales_from_new_accounts(DAY + datetime.timedelta(days=1))["recorded"] == 0
        assert Sale.objects.get().manager == users["demo_cm2"]

    def test_the_page_lists_the_candidates_masked_with_the_category_labelled(
        self, client, users, recorded, add_account, make_customer, django_assert_max_num_queries
    ):
        request, account = recorded
        customer = request.customer
        older = wealth_account(add_account, customer, on=DAY - datetime.timedelta(days=10))
        fund = add_account(customer, category=AccountCategory.FUND, product_code="FD-519732", open_date=DAY)
        taken = wealth_account(add_account, customer, code="WM-2026C")
        opening_request(
            customer=customer,
            product=request.product,
            manager=users["demo_cm1"],
            status=OpeningStatus.OPENED,
            account=taken,
        )
        client.force_login(users["demo_bh"])
        with django_assert_max_num_queries(13):  # the request, its candidates and their sales: 3
            response = client.get(match_url(request))
        page = response.content.decode()
        assert response.status_code == 200
        assert mask_account_no(account.account_no) in page and account.account_no not in page
        assert "Another product of the category" in page
        assert "Recorded, credited to" in page
        for excluded in (older, fund, taken):  # before the request, another category, another request's
            assert mask_account_no(excluded.account_no) not in page

    def test_refusals_say_why(self, client, users, recorded, make_customer, add_account, products):
        request, account = recorded
        client.force_login(users["demo_bm"])
        # another customer's account
        stranger = wealth_account(add_account, make_customer(manager=users["demo_cm1"]))
        response = client.post(match_url(request), {"account": stranger.pk})
        assert response.status_code == 400 and "another customer" in response.content.decode()
        # an account already matched to another request
        other = opening_request(
            customer=request.customer, product=products["wealth"], manager=users["demo_cm1"], created=DAY
        )
        opening_match(opening=other, account=account, user=users["demo_bm"])
        response = client.post(match_url(request), {"account": account.pk})
        assert (
            response.status_code == 400 and "already matched to another request" in response.content.decode()
        )
        # a request that is not open any more
        OpeningRequest.objects.filter(pk=request.pk).update(status=OpeningStatus.CANCELLED)
        fresh = wealth_account(add_account, request.customer, code="WM-2026D")
        response = client.post(match_url(request), {"account": fresh.pk})
        assert (
            response.status_code == 400 and "only an open request can be matched" in response.content.decode()
        )
        # nothing changed hands
        assert not Sale.objects.filter(account=fresh).exists()
        assert len(events(MarketingAction.OPENING_MATCHED)) == 1

    def test_a_client_manager_who_would_credit_themselves_is_refused(self, client, users, recorded):
        request, account = recorded
        client.force_login(users["demo_cm2"])
        assert client.get(match_url(request)).status_code == 403
        assert client.post(match_url(request), {"account": account.pk}).status_code == 403
        assert OpeningRequest.objects.get(pk=request.pk).status == OpeningStatus.REQUESTED
        assert events(MarketingAction.OPENING_MATCHED) == []

    def test_a_branch_head_of_another_branch_does_not_find_it(self, client, make_user, recorded):
        request, account = recorded
        client.force_login(make_user("branch_head", "12000"))
        assert client.post(match_url(request), {"account": account.pk}).status_code == 404
        assert OpeningRequest.objects.get(pk=request.pk).status == OpeningStatus.REQUESTED


# --- overdue ----------------------------------------------------------------------------------


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class TestOverdue:
    TODAY = datetime.date(2026, 6, 15)  # with 7 days: overdue before 2026-06-08 00:00

    def test_exactly_the_rule_flagged_once_and_audited(self, settings, users, make_customer, products):
        settings.OPENING_OVERDUE_DAYS = 7
        customer = make_customer(manager=users["demo_cm1"])

        def req(created, appointment=None, **fields):
            return opening_request(
                customer=customer,
                product=products["deposit"],
                manager=users["demo_cm1"],
                created=created,
                appointment=appointment,
                **fields,
            )

        long_ago = at(datetime.date(2026, 5, 1), 9)
        due = {
            "appointment the day before": req(long_ago, at(datetime.date(2026, 6, 7), 23, 30)),
            "recorded the day before, no appointment": req(at(datetime.date(2026, 6, 7), 23, 59)),
        }
        not_due = {
            "appointment on the first day": req(long_ago, at(datetime.date(2026, 6, 8), 0, 0)),
            "recorded on the first day": req(at(datetime.date(2026, 6, 8), 0, 1)),
            "cancelled": req(long_ago, status=OpeningStatus.CANCELLED),
            "opened": req(long_ago, status=OpeningStatus.OPENED),
        }
        assert set(OpeningRequest.objects.filter(overdue_condition(self.TODAY))) == set(due.values())
        # when flagged
        assert flag_overdue(self.TODAY) == 2
        flagged = set(OpeningRequest.objects.filter(flagged_at__isnull=False))
        assert flagged == set(due.values())
        assert all(
            r.flagged_at is None
            for r in OpeningRequest.objects.filter(pk__in=[r.pk for r in not_due.values()])
        )
        found = events(MarketingAction.OPENING_FLAGGED)
        assert {e.target_id for e in found} == {str(r.pk) for r in due.values()}
        assert all(e.actor is None for e in found)
        # and again: nothing more
        first = {r.pk: r.flagged_at for r in flagged}
        assert flag_overdue(self.TODAY) == 0
        assert {r.pk: r.flagged_at for r in OpeningRequest.objects.filter(flagged_at__isnull=False)} == first
        assert len(events(MarketingAction.OPENING_FLAGGED)) == 2

    def test_the_flag_runs_after_the_sales_in_the_nightly_chain(self):
        from crm_portal.tasks import POST_LOAD_STEPS, flag_overdue_openings, record_sales

        steps = [step for _name, step in POST_LOAD_STEPS]
        assert steps.index(flag_overdue_openings) == steps.index(record_sales) + 1

    def test_a_request_the_load_confirms_is_not_flagged(self, users, make_customer, products, add_account):
        # given a request recorded long ago whose account the same nightly run brings
        customer = make_customer(manager=users["demo_cm1"])
        request = opening_request(
            customer=customer,
            product=products["wealth"],
            manager=users["demo_cm2"],
            created=DAY - datetime.timedelta(days=30),
        )
        wealth_account(add_account, customer)
        from crm_portal.tasks import flag_overdue_openings, record_sales

        record_sales([DAY])
        flag_overdue_openings([DAY])
        request.refresh_from_db()
        assert request.status == OpeningStatus.OPENED and request.flagged_at is None

"""Split credit: an assisting manager with a share of a customer's figures, set and
ended from the customer's VIP page by the branch (vip.services.split_credit); the
manager of record keeps the rest, and a change of manager of record ends the split."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from accounts.services import user_disable
from customers.aum import write_daily_figures
from customers.choices import AccountCategory, AssignmentRole, BatchStatus
from customers.models import AccountBalance, BatchLoad, CustomerAssignment
from customers.services import assignment_set_primary
from performance.models import CustomerResult
from performance.services import performance_run
from tests.conftest import PASSWORD
from tests.customers.conftest import log_in
from tests.customers.factories import AccountFactory
from vip.selectors import customer_split
from vip.services import (
    customers_recall,
    manager_book_recall,
    split_credit_end,
    split_credit_set,
    transfer_approve,
    transfer_request,
)

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def customer(users, new_customer):
    """王经理's (demo_cm1, outlet 11101) customer for the last 60 days."""
    customer = new_customer(branch="11101", name="赵客户")
    assignment_set_primary(
        customer=customer, manager=users["demo_cm1"], by=None, reason="test", on=today() - 60 * DAY
    )
    customer.refresh_from_db()
    return customer


@pytest.fixture
def split(users):
    """Set a split as the branch head, 李经理 (demo_cm2) assisting with 30% from today
    unless told otherwise."""

    def _set(customer, **given):
        arguments = {
            "manager": users["demo_cm2"],
            "share": "30",
            "by": users["demo_bh"],
            "reason": "joint care",
        }
        return split_credit_set(customer=customer, **{**arguments, **given})

    return _set


def _splits(customer) -> list[CustomerAssignment]:
    return list(
        CustomerAssignment.objects.filter(customer=customer, role=AssignmentRole.SECONDARY).order_by(
            "start_date", "id"
        )
    )


def _split_events(customer) -> list[dict]:
    return [
        event.details
        for event in AuditEvent.objects.filter(
            action=Action.ASSIGNMENT_CHANGED, target_id=str(customer.pk)
        ).order_by("id")
        if "split" in event.details
    ]


class TestSet:
    def test_the_assisting_manager_counts_the_share_and_the_manager_of_record_the_rest(
        self, users, customer, split
    ):
        row = split(customer)
        assert row.role == AssignmentRole.SECONDARY and row.manager == users["demo_cm2"]
        assert row.credit_share == Decimal("30.00") and row.start_date == today() and row.end_date is None
        assert row.created_by == users["demo_bh"] and row.reason == "joint care"
        now = customer_split(customer)
        assert now.primary is not None and now.primary.manager == users["demo_cm1"]
        assert now.assisting == row
        assert now.primary_share == Decimal("70.00")
        assert now.primary_share + row.credit_share == Decimal("100")
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm1"]  # the manager of record stays
        (event,) = _split_events(customer)
        assert event["split"] == "set" and event["assisting"] == "E1102" and event["share"] == "30.00"
        assert event["manager_of_record"] == "E1101" and event["reason"] == "joint care"
        assert AuditEvent.objects.get(details__split="set").actor == users["demo_bh"]

    def test_a_share_may_have_two_decimals(self, customer, split):
        row = split(customer, share="12.5")
        assert row.credit_share == Decimal("12.50")
        assert customer_split(customer).primary_share == Decimal("87.50")

    @pytest.mark.parametrize("share", ["0", "100", "-5", "100.01", "12.345", "abc", "", "NaN", "Infinity"])
    def test_a_share_outside_0_to_100_or_with_more_than_two_decimals_is_refused(self, customer, split, share):
        with pytest.raises(ValidationError) as refused:
            split(customer, share=share)
        assert refused.value.message_dict["share"] == [
            "The assisting share is a percent with at most 2 decimals, more than 0 and less than 100."
        ]
        assert _splits(customer) == [] and _split_events(customer) == []

    def test_a_customer_of_the_branch_pool_has_no_credit_to_split(self, new_customer, split):
        pool = new_customer(branch="11101")
        with pytest.raises(ValidationError, match="no manager of record \\(branch pool\\)"):
            split(pool)
        assert _splits(pool) == []

    def test_the_manager_of_record_cannot_assist_themselves(self, users, customer, split):
        with pytest.raises(ValidationError) as refused:
            split(customer, manager=users["demo_cm1"])
        assert refused.value.message_dict["manager"] == [
            "王经理 is the manager of record: choose another manager to assist."
        ]
        assert _splits(customer) == []

    def test_only_an_active_client_manager_assists(self, users, customer, split):
        with pytest.raises(ValidationError, match="业务管理员 is not an active client manager"):
            split(customer, manager=users["demo_bm"])
        user_disable(user=users["demo_cm2"], disabled_by=None, reason="left the bank")
        users["demo_cm2"].refresh_from_db()
        with pytest.raises(ValidationError, match="李经理 is not an active client manager"):
            split(customer)
        assert _splits(customer) == []

    def test_a_split_does_not_start_in_the_future(self, customer, split):
        with pytest.raises(ValidationError) as refused:
            split(customer, start_date=today() + DAY)
        assert refused.value.message_dict["start_date"] == ["A split cannot start in the future."]

    def test_a_split_does_not_start_before_the_manager_of_record_took_over(self, customer, split):
        took_over = today() - 60 * DAY
        with pytest.raises(ValidationError) as refused:
            split(customer, start_date=took_over - DAY)
        assert refused.value.message_dict["start_date"] == [
            f"A split cannot start before 王经理 became the manager of record ({took_over.isoformat()})."
        ]
        assert split(customer, start_date=took_over).start_date == took_over  # that day is fine

    def test_a_reason_is_required(self, customer, split):
        with pytest.raises(ValidationError, match="Give a reason"):
            split(customer, reason="  ")
        assert _splits(customer) == []

    def test_a_merged_record_is_closed(self, customer, new_customer, split):
        survivor = new_customer(branch="11101")
        customer.merged_into = survivor
        customer.save(update_fields=["merged_into"])
        with pytest.raises(ValidationError, match="was merged into"):
            split(customer)


class TestOneSplitAtATime:
    def test_a_new_split_ends_the_running_one_the_day_before(self, users, customer, split):
        first = split(customer, start_date=today() - 10 * DAY)
        second = split(customer, manager=users["demo_cm3"], share="40", start_date=today() - 3 * DAY)
        first.refresh_from_db()
        assert first.end_date == today() - 4 * DAY
        assert [s.pk for s in _splits(customer) if s.end_date is None] == [second.pk]
        assert customer_split(customer).primary_share == Decimal("60.00")
        event = _split_events(customer)[-1]
        assert (
            event["ended"]["assisting"] == "E1102" and event["ended"]["to"] == (today() - 4 * DAY).isoformat()
        )

    def test_a_new_share_for_the_same_manager_is_a_new_split(self, users, customer, split):
        first = split(customer, start_date=today() - 10 * DAY)
        second = split(customer, share="50")
        first.refresh_from_db()
        assert first.end_date == today() - DAY and first.credit_share == Decimal("30.00")
        assert second.manager == users["demo_cm2"] and second.credit_share == Decimal("50.00")
        assert customer_split(customer).primary_share == Decimal("50.00")

    def test_on_the_day_it_started_a_split_is_replaced(self, users, customer, split):
        split(customer)
        replacement = split(customer, manager=users["demo_cm3"], share="45.25")
        assert _splits(customer) == [replacement]  # the first never counted a day
        event = _split_events(customer)[-1]
        assert event["replaced"]["assisting"] == "E1102" and event["assisting"] == "E1201"

    def test_setting_the_same_split_again_changes_nothing(self, customer, split):
        row = split(customer, start_date=today() - 5 * DAY)
        assert split(customer, share="30.00") == row
        assert len(_splits(customer)) == 1 and len(_split_events(customer)) == 1

    def test_a_new_split_does_not_start_before_the_running_one(self, users, customer, split):
        running = split(customer, start_date=today() - 5 * DAY)
        with pytest.raises(ValidationError) as refused:
            split(customer, manager=users["demo_cm3"], start_date=today() - 8 * DAY)
        assert refused.value.message_dict["start_date"] == [
            f"A new split must start on or after the running one started ({running.start_date.isoformat()})."
        ]

    def test_a_new_split_starts_after_the_previous_one_ended(self, users, customer, split):
        split(customer, start_date=today() - 10 * DAY)
        split_credit_end(customer=customer, by=users["demo_bh"], reason="done", end_date=today() - 5 * DAY)
        with pytest.raises(ValidationError) as refused:
            split(customer, start_date=today() - 5 * DAY)
        assert refused.value.message_dict["start_date"] == [
            f"A split must start after the previous one ended ({(today() - 5 * DAY).isoformat()})."
        ]
        assert split(customer, start_date=today() - 4 * DAY).end_date is None


class TestEnd:
    def test_ending_gives_the_manager_of_record_the_customer_in_full(self, users, customer, split):
        row = split(customer, start_date=today() - 10 * DAY)
        ended = split_credit_end(customer=customer, by=users["demo_bm"], reason="project over")
        assert ended.pk == row.pk and ended.end_date == today()
        assert customer_split(customer).assisting is None
        assert customer_split(customer).primary_share == Decimal("100")
        event = _split_events(customer)[-1]
        assert event["split"] == "ended" and event["to"] == today().isoformat()
        assert event["reason"] == "project over"

    def test_a_split_may_end_on_an_earlier_day_but_not_before_it_started_nor_in_the_future(
        self, users, customer, split
    ):
        row = split(customer, start_date=today() - 10 * DAY)
        with pytest.raises(ValidationError) as refused:
            split_credit_end(customer=customer, by=users["demo_bh"], reason="done", end_date=today() + DAY)
        assert refused.value.message_dict["end_date"] == ["A split cannot end in the future."]
        with pytest.raises(ValidationError) as refused:
            split_credit_end(
                customer=customer, by=users["demo_bh"], reason="done", end_date=today() - 11 * DAY
            )
        assert refused.value.message_dict["end_date"] == [
            f"A split cannot end before it started ({row.start_date.isoformat()})."
        ]
        split_credit_end(customer=customer, by=users["demo_bh"], reason="done", end_date=today() - 2 * DAY)
        row.refresh_from_db()
        assert row.end_date == today() - 2 * DAY

    def test_there_must_be_a_split_to_end(self, users, customer):
        with pytest.raises(ValidationError, match="This customer's credit is not split."):
            split_credit_end(customer=customer, by=users["demo_bh"], reason="nothing")
        assert _split_events(customer) == []


class TestTheManagerOfRecordChanges:
    def test_a_transfer_ends_the_split_the_day_before_the_new_manager_takes_over(
        self, users, customer, split
    ):
        row = split(customer, start_date=today() - 10 * DAY)
        transfer = transfer_request(
            customer=customer, to_manager=users["demo_cm3"], by=users["demo_cm1"], reason="moving house"
        )
        transfer_approve(transfer=transfer, by=users["demo_bh"])
        row.refresh_from_db()
        assert row.end_date == today() - DAY  # the old manager's last day; today is the new one's
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm3"]
        assert customer_split(customer).assisting is None
        event = _split_events(customer)[-1]
        assert event["split"] == "ended with the manager of record" and event["assisting"] == "E1102"
        # the new manager of record may be assisted from their first day
        again = split(customer, share="20")
        assert again.start_date == today() and customer_split(customer).primary_share == Decimal("80.00")

    def test_a_split_set_on_the_day_of_the_transfer_never_counted_and_is_removed(
        self, users, customer, split
    ):
        split(customer)
        transfer = transfer_request(
            customer=customer, to_manager=users["demo_cm3"], by=users["demo_cm1"], reason="moving house"
        )
        transfer_approve(transfer=transfer, by=users["demo_bh"])
        assert _splits(customer) == []
        assert (
            _split_events(customer)[-1]["split"] == "ended with the manager of record: removed, never counted"
        )

    def test_a_recall_to_the_pool_ends_the_split_with_the_manager_of_record(self, users, customer, split):
        row = split(customer, start_date=today() - 10 * DAY)
        customers_recall(customers=[customer], by=users["demo_bh"], reason="manager overloaded")
        row.refresh_from_db()
        primary = CustomerAssignment.objects.get(customer=customer, role=AssignmentRole.PRIMARY)
        assert row.end_date == primary.end_date == today()
        assert customer_split(customer).assisting is None

    def test_a_leaving_managers_book_recall_ends_the_splits_they_assist_in(
        self, users, customer, new_customer, split
    ):
        # 李经理 assists on 王经理's customer, and has a book of their own with a split
        assisted = split(customer, start_date=today() - 10 * DAY)
        own = new_customer(branch="11102", manager=users["demo_cm2"])
        theirs = split(own, manager=users["demo_cm1"], share="10")
        manager_book_recall(manager=users["demo_cm2"], by=users["demo_bh"], reason="left the bank")
        assisted.refresh_from_db()
        theirs.refresh_from_db()
        assert assisted.end_date == today() and theirs.end_date == today()
        customer.refresh_from_db()
        assert customer.primary_manager == users["demo_cm1"]  # only the split ended


class TestWhoMay:
    def test_a_client_manager_may_not_split_or_end_even_their_own_customer(self, users, customer, split):
        with pytest.raises(PermissionDenied):
            split(customer, by=users["demo_cm1"])
        split(customer)
        with pytest.raises(PermissionDenied):
            split_credit_end(customer=customer, by=users["demo_cm1"], reason="mine")
        assert len(_splits(customer)) == 1 and _splits(customer)[0].end_date is None

    def test_a_branch_head_outside_the_subtree_is_refused(self, users, customer, split, make_user):
        shanghai_head = make_user("branch_head", "12100")
        with pytest.raises(PermissionDenied, match="not in your scope"):
            split(customer, by=shanghai_head)
        split(customer)
        with pytest.raises(PermissionDenied, match="not in your scope"):
            split_credit_end(customer=customer, by=shanghai_head, reason="not mine")
        assert _splits(customer)[0].end_date is None

    def test_head_office_business_manager_may(self, users, customer, split):
        assert split(customer, by=users["demo_bm"]).created_by == users["demo_bm"]


class TestPerformance:
    def test_the_engine_credits_the_share_and_the_rest_adding_up_to_the_customers_figures(
        self, users, customer, split
    ):
        # one loaded day in this month: 1000 on a current account
        day = today().replace(day=1)
        BatchLoad.objects.create(
            business_date=day, status=BatchStatus.LOADED, source="/in/test", started_via="test"
        )
        account = AccountFactory(customer=customer, category=AccountCategory.DEP_CUR)
        AccountBalance.objects.create(
            business_date=day, account=account, balance=Decimal("1000"), cny_balance=Decimal("1000")
        )
        write_daily_figures(day)
        split(customer, start_date=day, share="30")
        performance_run(f"{day:%Y-%m}")
        figures = {
            row.manager_id: row.deposit_days for row in CustomerResult.objects.filter(customer=customer)
        }
        assert figures == {users["demo_cm1"].pk: Decimal("700"), users["demo_cm2"].pk: Decimal("300")}
        assert sum(figures.values()) == Decimal("1000")  # nothing left for the pool


class TestPage:
    def url(self, customer, action: str = "") -> str:
        return f"/vip/customers/{customer.customer_no}/{action}"

    def test_the_branch_head_splits_and_ends_from_the_vip_page(self, client, users, customer, demo_password):
        log_in(client, "demo_bh", demo_password)
        page = client.get(self.url(customer))
        assert "split_form" in page.context and "split_end_form" not in page.context
        assert "Manager of record 王经理 100% · no assisting manager" in page.content.decode()
        response = client.post(
            self.url(customer, "split/"),
            {"manager": "E1102", "share": "30", "start_date": today().isoformat(), "reason": "joint care"},
            follow=True,
        )
        html = response.content.decode()
        assert "Credit split: 李经理 assists with 30.00% from" in html
        assert "Manager of record 王经理 70% · assisting 李经理 30%" in html
        assert "李经理 (E1102)" in html and "Assisting manager" in html  # names and labels, not codes
        assert "split_end_form" in response.context
        response = client.post(
            self.url(customer, "split/end/"), {"split_end-reason": "project over"}, follow=True
        )
        assert "Split ended" in response.content.decode()
        assert customer_split(customer).assisting is None

    def test_a_wrong_share_is_said_on_the_page_and_nothing_is_written(
        self, client, users, customer, demo_password
    ):
        log_in(client, "demo_bh", demo_password)
        response = client.post(
            self.url(customer, "split/"),
            {"manager": "E1102", "share": "100", "reason": "joint care"},
            follow=True,
        )
        assert "more than 0 and less than 100" in response.content.decode()
        response = client.post(
            self.url(customer, "split/"),
            {"manager": "E1101", "share": "20", "reason": "joint care"},
            follow=True,
        )
        assert "王经理 is the manager of record" in response.content.decode()
        assert _splits(customer) == []

    def test_a_client_manager_sees_the_split_but_may_not_change_it(
        self, client, users, customer, split, demo_password
    ):
        split(customer)
        log_in(client, "demo_cm1", demo_password)
        page = client.get(self.url(customer))
        assert "split_form" not in page.context and "split_end_form" not in page.context
        assert "Manager of record 王经理 70% · assisting 李经理 30%" in page.content.decode()
        assert (
            client.post(
                self.url(customer, "split/"), {"manager": "E1201", "share": "50", "reason": "more help"}
            ).status_code
            == 403
        )
        assert client.post(self.url(customer, "split/end/"), {"split_end-reason": "mine"}).status_code == 403
        assert len(_splits(customer)) == 1 and _splits(customer)[0].end_date is None

    def test_a_branch_head_of_another_subtree_does_not_find_the_customer(
        self, client, users, customer, make_user
    ):
        make_user("branch_head", "12100", username="sh_head")
        log_in(client, "sh_head", PASSWORD)
        response = client.post(
            self.url(customer, "split/"), {"manager": "E1102", "share": "30", "reason": "joint care"}
        )
        assert response.status_code == 404
        assert _splits(customer) == []

    def test_the_page_reads_the_same_number_of_queries_whatever_the_history(
        self, client, users, customer, split, demo_password
    ):
        log_in(client, "demo_bh", demo_password)
        split(customer, start_date=today() - 20 * DAY)
        with CaptureQueriesContext(connection) as one:
            client.get(self.url(customer))
        for k, manager in enumerate(["demo_cm3", "demo_cm2", "demo_cm3", "demo_cm2"], start=1):
            split(customer, manager=users[manager], start_date=today() - (20 - 4 * k) * DAY)
        with CaptureQueriesContext(connection) as five:
            page = client.get(self.url(customer))
        assert len(page.context["split"].history) == 5
        assert len(five.captured_queries) == len(one.captured_queries)

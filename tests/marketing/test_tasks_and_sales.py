"""Marketing tasks decomposed down the tree with checked sums, accepted or returned,
and progress computed from sales and tier changes; sales attributed to the manager
of record on the sale date, also after a transfer; conversions linked back to the
campaign; opportunities under investor suitability."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from customers.choices import AccountCategory
from customers.services import assignment_set_primary
from marketing import services
from marketing.choices import AllocationStatus, ContactOutcome, SaleSource, TargetStatus
from marketing.models import CampaignTarget, Sale, TaskAllocation
from marketing.progress import task_progress, time_elapsed
from marketing.sales import sales_from_new_accounts
from marketing.selectors import campaign_funnel, task_allocations
from tests.marketing.library import library

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def bh_beijing(make_user):
    return make_user("branch_head", "11000", username="bh_beijing")


@pytest.fixture
def issued(users):
    task = services.task_create(
        user=users["demo_bm"],
        name="二季度理财销售",
        indicator=library("wealth_sales"),
        period_start=datetime.date(2026, 4, 1),
        period_end=datetime.date(2026, 6, 30),
        target=D("1000000"),
    )
    return services.task_issue(task=task, user=users["demo_bm"])


def root(task):
    return TaskAllocation.objects.get(task=task, parent__isnull=True)


class TestDecomposition:
    def test_down_the_tree_with_sums_checked_and_acceptance(self, issued, users, org, bh_beijing):
        bm, bh = users["demo_bm"], users["demo_bh"]
        with pytest.raises(ValidationError, match="add up to 900000.00; they must add up to 1000000.00"):
            services.task_decompose(
                allocation=root(issued),
                user=bm,
                shares=[(org["11000"], D("600000")), (org["12000"], D("300000"))],
            )
        beijing, shanghai = services.task_decompose(
            allocation=root(issued),
            user=bm,
            shares=[(org["11000"], D("600000")), (org["12000"], D("400000"))],
        )
        assert beijing.status == AllocationStatus.PENDING
        with pytest.raises(ValidationError, match="accepted before"):
            services.task_decompose(allocation=beijing, user=bh_beijing, shares=[(org["11100"], D("600000"))])
        with pytest.raises(PermissionDenied):
            services.allocation_respond(allocation=beijing, user=bh, accept=True)  # not their branch
        services.allocation_respond(allocation=beijing, user=bh_beijing, accept=True)
        with pytest.raises(ValidationError, match="not directly below"):
            services.task_decompose(allocation=beijing, user=bh_beijing, shares=[(org["11101"], D("600000"))])
        haidian, chaoyang = services.task_decompose(
            allocation=beijing,
            user=bh_beijing,
            shares=[(org["11100"], D("350000")), (org["11200"], D("250000"))],
        )
        services.allocation_respond(allocation=haidian, user=bh, accept=True)
        with pytest.raises(ValidationError, match="not a client manager of"):
            services.task_decompose(
                allocation=haidian,
                user=bh,
                shares=[(users["demo_cm1"], D("300000")), (users["demo_cm3"], D("50000"))],
            )
        cm1_share, cm2_share = services.task_decompose(
            allocation=haidian,
            user=bh,
            shares=[(users["demo_cm1"], D("200000")), (users["demo_cm2"], D("150000"))],
        )
        services.allocation_respond(allocation=cm1_share, user=users["demo_cm1"], accept=True)
        with pytest.raises(ValidationError, match="Say why"):
            services.allocation_respond(allocation=cm2_share, user=users["demo_cm2"], accept=False)
        services.allocation_respond(
            allocation=cm2_share, user=users["demo_cm2"], accept=False, comment="客户基础不足"
        )
        # the branch head redistributes after the return; the unchanged share stays accepted
        cm1_again, cm2_again = services.task_decompose(
            allocation=haidian,
            user=bh,
            shares=[(users["demo_cm1"], D("200000")), (users["demo_cm2"], D("150000"))],
        )
        assert cm1_again.status == AllocationStatus.ACCEPTED and cm2_again.status == AllocationStatus.PENDING
        services.task_decompose(
            allocation=haidian,
            user=bh,
            shares=[(users["demo_cm1"], D("250000")), (users["demo_cm2"], D("100000"))],
        )
        assert {
            a.manager_id: (a.target, a.status) for a in TaskAllocation.objects.filter(parent=haidian)
        } == {
            users["demo_cm1"].pk: (D("250000"), AllocationStatus.PENDING),
            users["demo_cm2"].pk: (D("100000"), AllocationStatus.PENDING),
        }
        # a share already decomposed further cannot be redistributed from above
        with pytest.raises(ValidationError, match="decomposed further"):
            services.task_decompose(
                allocation=beijing,
                user=bh_beijing,
                shares=[(org["11100"], D("300000")), (org["11200"], D("300000"))],
            )

    def test_a_client_manager_cannot_decompose_and_nobody_answers_for_someone_else(self, issued, users, org):
        with pytest.raises(PermissionDenied):
            services.task_decompose(
                allocation=root(issued), user=users["demo_cm1"], shares=[(org["11000"], D("1000000"))]
            )
        beijing, _sh = services.task_decompose(
            allocation=root(issued),
            user=users["demo_bm"],
            shares=[(org["11000"], D("1")), (org["12000"], D("999999"))],
        )
        with pytest.raises(PermissionDenied):
            services.allocation_respond(allocation=beijing, user=users["demo_bm"], accept=True)

    def test_head_office_takes_the_share_of_a_branch_without_a_branch_head(
        self, issued, users, org, bh_beijing
    ):
        beijing, shanghai = services.task_decompose(
            allocation=root(issued),
            user=users["demo_bm"],
            shares=[(org["11000"], D("600000")), (org["12000"], D("400000"))],
        )
        # Shanghai has no branch head: head office decomposes its share and the
        # share is recorded as taken by head office
        pudong, puxi = services.task_decompose(
            allocation=shanghai,
            user=users["demo_bm"],
            shares=[(org["12100"], D("300000")), (org["12200"], D("100000"))],
        )
        shanghai.refresh_from_db()
        assert shanghai.status == AllocationStatus.ACCEPTED and shanghai.responded_by == users["demo_bm"]
        assert pudong.status == puxi.status == AllocationStatus.PENDING
        # Beijing has one: its share still waits for that branch head's answer
        with pytest.raises(ValidationError, match="accepted before"):
            services.task_decompose(
                allocation=beijing, user=users["demo_bm"], shares=[(org["11100"], D("600000"))]
            )
        beijing.refresh_from_db()
        assert beijing.status == AllocationStatus.PENDING

    def test_a_draft_task_cannot_be_decomposed(self, users, org):
        task = services.task_create(
            user=users["demo_bm"],
            name="x",
            indicator=library("sales_amount"),
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 1, 31),
            target=D("10"),
        )
        with pytest.raises(ValidationError):
            services.task_decompose(
                allocation=root(task), user=users["demo_bm"], shares=[(org["11000"], D("10"))]
            )


class TestProgressFromSales:
    def test_progress_is_computed_from_confirmed_sales_by_manager_of_record(
        self, issued, users, org, make_customer, add_account, products
    ):
        bm = users["demo_bm"]
        beijing, shanghai = services.task_decompose(
            allocation=root(issued),
            user=bm,
            shares=[(org["11000"], D("600000")), (org["12000"], D("400000"))],
        )
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        a = make_customer(manager=cm1, risk_level="C5")
        b = make_customer(manager=cm2, branch="11102", risk_level="C5")
        c = make_customer(manager=users["demo_cm3"], branch="12101", risk_level="C5")
        day = datetime.date(2026, 5, 10)
        add_account(
            a, category=AccountCategory.WEALTH, product_code="WM-2026A", open_date=day, balance=D("100000")
        )
        add_account(
            b, category=AccountCategory.WEALTH, product_code="WM-2026A", open_date=day, balance=D("50000")
        )
        add_account(
            c, category=AccountCategory.WEALTH, product_code="WM-2026A", open_date=day, balance=D("30000")
        )
        add_account(
            a, category=AccountCategory.DEP_TIME, product_code="TD-12M", open_date=day, balance=D("999999")
        )
        add_account(
            a,
            category=AccountCategory.WEALTH,
            product_code="WM-2026A",
            open_date=datetime.date(2026, 3, 31),
            balance=D("7"),
        )
        assert sales_from_new_accounts(day)["recorded"] == 4
        assert sales_from_new_accounts(day)["recorded"] == 0  # a re-run records nothing twice
        sales_from_new_accounts(datetime.date(2026, 3, 31))  # before the period

        progress = {
            (p.allocation.branch.code if p.allocation.branch_id else p.allocation.manager.username): p
            for p in task_progress(
                issued, allocations=task_allocations(issued, user=bm), today=datetime.date(2026, 5, 16)
            )
        }
        assert progress["10000"].actual == D("180000")
        assert progress["11000"].actual == D("150000")
        assert progress["12000"].actual == D("30000")
        assert progress["11000"].completion == pytest.approx(0.25)
        assert progress["11000"].time_elapsed == pytest.approx(46 / 91)
        assert not progress["11000"].ahead

    def test_an_unconfirmed_won_opportunity_does_not_count_until_core_banking_reports_it(
        self, issued, users, make_customer, add_account, products, monkeypatch
    ):
        cm1 = users["demo_cm1"]
        customer = make_customer(manager=cm1, risk_level="C4", risk_expiry=datetime.date(2030, 1, 1))
        opportunity = services.opportunity_create(
            user=cm1,
            customer=customer,
            product=products["wealth"],
            expected_amount=D("80000"),
            expected_close_date=datetime.date(2026, 5, 20),
        )
        sale = services.opportunity_win(
            opportunity=opportunity, user=cm1, amount=D("80000"), sale_date=datetime.date(2026, 5, 18)
        )
        assert not sale.confirmed and sale.manager_id == cm1.pk
        progress = task_progress(issued, allocations=[root(issued)], today=datetime.date(2026, 5, 20))
        assert progress[0].actual == 0
        add_account(
            customer,
            category=AccountCategory.WEALTH,
            product_code="WM-2026A",
            open_date=datetime.date(2026, 5, 19),
            balance=D("85000"),
        )
        counts = sales_from_new_accounts(datetime.date(2026, 5, 19))
        assert counts == {"confirmed": 1, "recorded": 0, "linked": 0, "converted": 0}
        sale.refresh_from_db()
        assert sale.confirmed and sale.amount == D("85000") and sale.sale_date == datetime.date(2026, 5, 19)
        assert Sale.objects.count() == 1
        progress = task_progress(issued, allocations=[root(issued)], today=datetime.date(2026, 5, 20))
        assert progress[0].actual == D("85000")

    def test_new_payroll_customers_count_first_payroll_accounts_only(
        self, users, make_customer, add_account, products
    ):
        task = services.task_issue(
            task=services.task_create(
                user=users["demo_bm"],
                name="代发",
                indicator=library("new_payroll"),
                period_start=datetime.date(2026, 5, 1),
                period_end=datetime.date(2026, 5, 31),
                target=D("10"),
            ),
            user=users["demo_bm"],
        )
        new = make_customer(manager=users["demo_cm1"])
        old = make_customer(manager=users["demo_cm1"])
        add_account(old, product_code="DC-SALARY", open_date=datetime.date(2025, 1, 1))
        day = datetime.date(2026, 5, 5)
        add_account(new, product_code="DC-SALARY", open_date=day)
        add_account(new, product_code="DC-SALARY", open_date=day)
        add_account(old, product_code="DC-SALARY", open_date=day)
        sales_from_new_accounts(day)
        assert task_progress(task, allocations=[root(task)], today=day)[0].actual == 1

    def test_time_elapsed(self, issued):
        assert time_elapsed(issued, datetime.date(2026, 3, 1)) == 0
        assert time_elapsed(issued, datetime.date(2026, 4, 1)) == pytest.approx(1 / 91)
        assert time_elapsed(issued, datetime.date(2027, 1, 1)) == 1


class TestAttribution:
    def test_a_sale_after_a_transfer_goes_to_the_new_manager_and_before_it_to_the_old(
        self, users, make_customer, add_account
    ):
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        customer = make_customer(manager=cm1)
        assignment_set_primary(
            customer=customer, manager=cm2, by=None, reason="transfer", on=datetime.date(2026, 5, 10)
        )
        add_account(
            customer,
            product_code="TD-12M",
            category=AccountCategory.DEP_TIME,
            open_date=datetime.date(2026, 5, 9),
        )
        add_account(
            customer,
            product_code="TD-12M",
            category=AccountCategory.DEP_TIME,
            open_date=datetime.date(2026, 5, 10),
        )
        sales_from_new_accounts(datetime.date(2026, 5, 9))
        sales_from_new_accounts(datetime.date(2026, 5, 10))
        by_date = {s.sale_date.day: s for s in Sale.objects.select_related("branch")}
        assert by_date[9].manager_id == cm1.pk and by_date[9].branch.code == "11101"
        assert by_date[10].manager_id == cm2.pk and by_date[10].branch.code == "11102"
        assert {s.source for s in by_date.values()} == {SaleSource.CORE_BANKING}

    def test_a_sale_of_a_customer_nobody_looks_after_goes_to_the_home_branch(
        self, make_customer, add_account
    ):
        customer = make_customer(branch="12102")
        add_account(customer, open_date=datetime.date(2026, 5, 9))
        sales_from_new_accounts(datetime.date(2026, 5, 9))
        sale = Sale.objects.get()
        assert sale.manager_id is None and sale.branch.code == "12102"


class TestConversionsAndSuitability:
    def test_a_sale_of_a_campaign_product_to_a_contacted_target_converts_it(
        self, users, make_customer, add_account, running_campaign
    ):
        cm1 = users["demo_cm1"]
        contacted = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        untouched = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        # visits: no quiet hours, so the test can log its contact at any time of day
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth",), channels=("visit",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=contacted)
        today = timezone.localdate()
        services.contact_log(user=cm1, target=target, channel="visit", outcome=ContactOutcome.INTERESTED)
        for customer in (contacted, untouched):
            add_account(
                customer,
                category=AccountCategory.WEALTH,
                product_code="WM-2026A",
                open_date=today,
                balance=D("20000"),
            )
        add_account(contacted, category=AccountCategory.FUND, product_code="FD-000001", open_date=today)
        counts = sales_from_new_accounts(today)
        assert counts["linked"] == 1 and counts["converted"] == 1
        target.refresh_from_db()
        assert target.status == TargetStatus.CONVERTED
        funnel = campaign_funnel(campaign, user=None)
        assert (funnel["targets"], funnel["contacted"], funnel["interested"], funnel["converted"]) == (
            2,
            1,
            1,
            1,
        )
        assert funnel["amount"] == D("20000") and funnel["cost_per_conversion"] == D("10000.00")

    def test_an_unsuitable_product_cannot_be_recommended_and_the_reason_is_given(
        self, users, make_customer, products
    ):
        cm1 = users["demo_cm1"]
        cases = [
            (make_customer(manager=cm1, risk_level=""), "no risk assessment"),
            (
                make_customer(manager=cm1, risk_level="C5", risk_expiry=datetime.date(2020, 1, 1)),
                "expired on 2020-01-01",
            ),
            (make_customer(manager=cm1, risk_level="C2"), "covers products up to R2"),
        ]
        for customer, reason in cases:
            with pytest.raises(ValidationError, match=reason):
                services.opportunity_create(
                    user=cm1,
                    customer=customer,
                    product=products["wealth"],
                    expected_amount=D("50000"),
                    expected_close_date=datetime.date(2030, 1, 1),
                )
        ok = make_customer(manager=cm1, risk_level="C3")
        services.opportunity_create(
            user=cm1,
            customer=ok,
            product=products["wealth"],
            expected_amount=D("50000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )
        services.opportunity_create(  # a deposit needs no assessment
            user=cm1,
            customer=cases[0][0],
            product=products["deposit"],
            expected_amount=D("50000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )

    def test_an_assessment_that_expired_since_blocks_the_sale(self, users, make_customer, products):
        cm1 = users["demo_cm1"]
        customer = make_customer(manager=cm1, risk_level="C3", risk_expiry=timezone.localdate())
        opportunity = services.opportunity_create(
            user=cm1,
            customer=customer,
            product=products["wealth"],
            expected_amount=D("50000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )
        customer.risk_expiry = timezone.localdate() - datetime.timedelta(days=1)
        customer.save(update_fields=["risk_expiry"])
        with pytest.raises(ValidationError, match="expired"):
            services.opportunity_win(opportunity=opportunity, user=cm1, amount=D("50000"))
        assert not Sale.objects.exists()

    def test_another_managers_customer_is_refused(self, users, make_customer, products):
        customer = make_customer(manager=users["demo_cm2"], risk_level="C5")
        with pytest.raises(PermissionDenied):
            services.opportunity_create(
                user=users["demo_cm1"],
                customer=customer,
                product=products["deposit"],
                expected_amount=D("1"),
                expected_close_date=datetime.date(2030, 1, 1),
            )


class TestNewGoldVips:
    def test_upgrades_into_gold_or_above_count_for_the_manager_of_record_that_day(
        self, users, org, make_customer
    ):
        from vip.models import TierChange

        task = services.task_issue(
            task=services.task_create(
                user=users["demo_bm"],
                name="新增金卡",
                indicator=library("new_gold_vips"),
                period_start=datetime.date(2026, 5, 1),
                period_end=datetime.date(2026, 5, 31),
                target=D("4"),
            ),
            user=users["demo_bm"],
        )
        cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
        a, b, c, d = (make_customer(manager=cm1) for _ in range(4))
        assignment_set_primary(
            customer=b, manager=cm2, by=None, reason="transfer", on=datetime.date(2026, 5, 10)
        )

        def change(customer, old, new, day):
            TierChange.objects.create(
                customer=customer,
                from_tier=old,
                to_tier=new,
                effective_date=datetime.date(2026, 5, day),
                source="upgrade",
            )

        change(a, "potential", "gold", 3)  # counts for cm1
        change(b, "", "platinum", 12)  # counts for cm2: transferred on the 10th
        change(c, "gold", "platinum", 4)  # already gold or above: not new
        change(d, "", "potential", 5)  # below gold: not counted
        change(a, "gold", "core", 20)  # the same customer again: once
        services.task_decompose(allocation=root(task), user=users["demo_bm"], shares=[(org["11000"], D("4"))])
        progress = {
            (p.allocation.branch.code if p.allocation.branch_id else p.allocation.manager.username): p.actual
            for p in task_progress(
                task,
                allocations=task_allocations(task, user=users["demo_bm"]),
                today=datetime.date(2026, 6, 1),
            )
        }
        assert progress == {"10000": 2, "11000": 2}
        from marketing.progress import attributed_rows

        rows = {(m, v) for m, _b, v in attributed_rows(task, today=datetime.date(2026, 6, 1))}
        assert rows == {(cm1.pk, 1), (cm2.pk, 1)}


def test_the_nightly_chain_records_sales_for_each_loaded_date(make_customer, add_account):
    from crm_portal.tasks import POST_LOAD_STEPS, record_sales

    assert ("marketing_sales", record_sales) in POST_LOAD_STEPS
    customer = make_customer()
    add_account(customer, open_date=datetime.date(2026, 5, 9))
    add_account(customer, open_date=datetime.date(2026, 5, 10))
    record_sales([datetime.date(2026, 5, 10), datetime.date(2026, 5, 9)])
    record_sales([datetime.date(2026, 5, 10)])  # again: nothing twice
    assert sorted(Sale.objects.values_list("sale_date", flat=True)) == [
        datetime.date(2026, 5, 9),
        datetime.date(2026, 5, 10),
    ]

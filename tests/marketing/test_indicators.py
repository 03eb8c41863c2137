"""The indicator library: each kind computed on a small known book (attributed to
the manager of record on the day, the home branch when nobody looks after the
customer), parameters checked per kind, the registry (a kind registered from
elsewhere, a kind nobody registered), the four former task indicators seeded by
the migration, an inactive indicator refused for a new task, and who may edit the
library."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from customers.choices import AccountCategory, BatchStatus, IncomeType, InteractionKind
from customers.models import AccountBalance, BatchLoad, IncomeEntry
from customers.services import assignment_set_primary
from marketing import indicators, services
from marketing.choices import ContactOutcome, IndicatorKind, MarketingAction, TaskStatus
from marketing.indicators import IndicatorActual, IndicatorNotRegistered, actuals, base_period
from marketing.models import CampaignTarget, Indicator, MarketingContact, TaskAllocation
from marketing.sales import sales_from_new_accounts
from tests.customers.conftest import log_in
from tests.customers.factories import InteractionFactory
from tests.marketing.library import library

pytestmark = pytest.mark.django_db
D = Decimal
MAY = datetime.date(2026, 5, 1), datetime.date(2026, 5, 20)


def day(n: int) -> datetime.date:
    return datetime.date(2026, 5, n)


def of(kind: str, **params) -> Indicator:
    """An indicator of the kind, validated as the library would save it."""
    indicator = Indicator(code=f"t-{kind}", name=kind, kind=kind, params=params, unit="count")
    indicator.full_clean()
    return indicator


def table(rows: list[IndicatorActual]) -> dict:
    """{(manager username or None, branch code): value} of actuals."""
    from accounts.models import Branch, User

    names = dict(User.objects.values_list("pk", "username"))
    codes = dict(Branch.objects.values_list("pk", "code"))
    result: dict = {}
    for row in rows:
        assert row.branch_id is not None  # every figure is some branch's
        key = (names.get(row.manager_id), codes[row.branch_id])
        assert key not in result, f"{key} twice"
        result[key] = row.value
    return result


@pytest.fixture
def book(users, make_customer, add_account, products):
    """cm1 (11101) looks after `moved` until cm2 (11102) takes the customer on
    May 10; `alone` (home branch 12102) has no manager; `old` has banked with cm1
    since 2020."""
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    moved = make_customer(manager=cm1)
    assignment_set_primary(customer=moved, manager=cm2, by=None, reason="transfer", on=day(10))
    alone = make_customer(branch="12102")
    old = make_customer(manager=cm1)
    accounts = {
        "old_payroll": add_account(old, product_code="DC-SALARY", open_date=datetime.date(2020, 3, 1)),
        "wealth_9": add_account(
            moved,
            category=AccountCategory.WEALTH,
            product_code="WM-2026A",
            open_date=day(9),
            balance=D("100000"),
        ),
        "wealth_12": add_account(
            moved,
            category=AccountCategory.WEALTH,
            product_code="WM-2026A",
            open_date=day(12),
            balance=D("50000"),
        ),
        "wealth_13": add_account(
            moved,
            category=AccountCategory.WEALTH,
            product_code="WM-2026A",
            open_date=day(13),
            balance=D("5000"),
        ),
        "fund_12": add_account(
            moved,
            category=AccountCategory.FUND,
            product_code="FD-519732",
            open_date=day(12),
            balance=D("20000"),
        ),
        "deposit_12": add_account(
            alone,
            category=AccountCategory.DEP_TIME,
            product_code="TD-12M",
            open_date=day(12),
            balance=D("30000"),
        ),
        "payroll_14": add_account(old, product_code="DC-SALARY", open_date=day(14), balance=D("1")),
        "later": add_account(
            moved, category=AccountCategory.WEALTH, product_code="WM-2026A", open_date=day(25), balance=D("7")
        ),
    }
    for n in (9, 12, 13, 14, 25):
        sales_from_new_accounts(day(n))
    return {"moved": moved, "alone": alone, "old": old, "accounts": accounts, "cm1": cm1, "cm2": cm2}


class TestSalesAndAccounts:
    def test_sales_amount_by_manager_of_record_on_the_sale_date_and_home_branch(self, book):
        assert table(actuals(library("sales_amount"), *MAY)) == {
            ("demo_cm1", "11101"): D("100001"),  # wealth on the 9th, the old customer's payroll card
            ("demo_cm2", "11102"): D("75000"),  # after the transfer on the 10th
            (None, "12102"): D("30000"),  # nobody looks after `alone`: the home branch
        }
        assert table(actuals(of("sales_amount", categories=["WEALTH"]), *MAY)) == {
            ("demo_cm1", "11101"): D("100000"),
            ("demo_cm2", "11102"): D("55000"),
        }
        assert table(actuals(of("sales_amount", products=["FD-519732", "TD-12M"]), *MAY)) == {
            ("demo_cm2", "11102"): D("20000"),
            (None, "12102"): D("30000"),
        }

    def test_sales_count_and_distinct_products_per_customer(self, book):
        assert table(actuals(of("sales_count"), *MAY)) == {
            ("demo_cm1", "11101"): 2,
            ("demo_cm2", "11102"): 3,
            (None, "12102"): 1,
        }
        # cm2: the same wealth product twice to one customer counts once, the fund once
        assert table(actuals(of("sales_count", distinct_products_per_customer=True), *MAY)) == {
            ("demo_cm1", "11101"): 2,
            ("demo_cm2", "11102"): 2,
            (None, "12102"): 1,
        }

    def test_new_accounts_and_new_customers(self, book):
        assert table(actuals(of("new_accounts", categories=["WEALTH", "FUND"]), *MAY)) == {
            ("demo_cm1", "11101"): 1,
            ("demo_cm2", "11102"): 3,
        }
        # first accounts in the range: `moved` on the 9th (cm1's then), `alone` on
        # the 12th; `old` has banked since 2020
        assert table(actuals(of("new_customers"), *MAY)) == {("demo_cm1", "11101"): 1, (None, "12102"): 1}

    def test_new_payroll_customers_as_before(self, book, make_customer, add_account):
        first = make_customer(manager=book["cm2"])
        add_account(first, product_code="DC-SALARY", open_date=day(15))
        sales_from_new_accounts(day(15))
        # `old` opened a second payroll card: not new
        assert table(actuals(library("new_payroll"), *MAY)) == {("demo_cm2", "11102"): 1}

    def test_balance_end_on_the_last_loaded_day(self, book):
        accounts = book["accounts"]

        def load(n, status=BatchStatus.LOADED):
            BatchLoad.objects.create(business_date=day(n), source="x", started_via="command", status=status)

        load(8)
        load(15)
        load(19, BatchStatus.FAILED)  # not loaded: does not count
        for n, account, balance in [
            (8, accounts["old_payroll"], "999"),
            (15, accounts["wealth_9"], "101000"),
            (15, accounts["wealth_12"], "50500"),
            (15, accounts["deposit_12"], "30100"),
            (15, accounts["old_payroll"], "300"),
            (19, accounts["wealth_12"], "1"),
        ]:
            AccountBalance.objects.create(
                business_date=day(n), account=account, balance=D(balance), cny_balance=D(balance)
            )
        deposits_and_wealth = of("balance_end", categories=["WEALTH", "DEP_TIME", "DEP_CUR"])
        assert table(actuals(deposits_and_wealth, *MAY)) == {
            ("demo_cm2", "11102"): D("151500"),  # on the 15th, after the transfer
            ("demo_cm1", "11101"): D("300"),
            (None, "12102"): D("30100"),
        }
        assert table(actuals(deposits_and_wealth, day(1), day(9))) == {("demo_cm1", "11101"): D("999")}
        assert actuals(deposits_and_wealth, day(1), day(7)) == []  # nothing loaded yet

    def test_intermediary_income(self, book):
        moved, alone = book["moved"], book["alone"]
        for n, customer, kind, amount in [
            (9, moved, IncomeType.AGENCY_FUND, "120"),
            (11, moved, IncomeType.AGENCY_FUND, "80"),
            (11, moved, IncomeType.CARD_FEE, "5"),
            (12, alone, IncomeType.AGENCY_WEALTH, "-10"),
            (21, moved, IncomeType.AGENCY_FUND, "999"),
        ]:
            IncomeEntry.objects.create(
                business_date=day(n), customer=customer, income_type=kind, cny_amount=D(amount)
            )
        assert table(actuals(of("intermediary_income"), *MAY)) == {
            ("demo_cm1", "11101"): D("120"),
            ("demo_cm2", "11102"): D("85"),
            (None, "12102"): D("-10"),
        }
        only_funds = of("intermediary_income", income_types=["AGENCY_FUND"])
        assert table(actuals(only_funds, *MAY)) == {
            ("demo_cm1", "11101"): D("120"),
            ("demo_cm2", "11102"): D("80"),
        }


class TestTiers:
    @pytest.fixture
    def changes(self, book, make_customer):
        from vip.models import TierChange

        other = make_customer(manager=book["cm1"])

        def change(customer, old, new, n):
            TierChange.objects.create(
                customer=customer, from_tier=old, to_tier=new, effective_date=day(n), source="rule"
            )

        change(book["moved"], "potential", "gold", 3)  # up into gold: cm1's
        change(book["moved"], "gold", "platinum", 12)  # up, already gold: cm2's
        change(book["alone"], "", "potential", 4)  # up, below gold
        change(book["old"], "platinum", "potential", 6)  # lost below gold
        change(other, "core", "platinum", 7)  # down, still gold or above
        change(book["alone"], "growth", "", 15)  # lost: the home branch's
        change(other, "gold", "", 25)  # after the range
        return other

    def test_new_vips_as_the_former_new_gold_vips(self, changes):
        assert table(actuals(library("new_gold_vips"), *MAY)) == {("demo_cm1", "11101"): 1}
        # from below potential (no tier) into it: only `alone`
        assert table(actuals(of("new_vips", tier="potential"), *MAY)) == {(None, "12102"): 1}
        assert table(actuals(of("new_vips", tier="platinum"), *MAY)) == {("demo_cm2", "11102"): 1}

    def test_tier_upgrades(self, changes):
        assert table(actuals(of("tier_upgrades"), *MAY)) == {
            ("demo_cm1", "11101"): 1,
            ("demo_cm2", "11102"): 1,
            (None, "12102"): 1,
        }
        assert table(actuals(of("tier_upgrades", tier="platinum"), *MAY)) == {("demo_cm2", "11102"): 1}

    def test_lost_vips_a_deduction(self, changes):
        lost = library("lost_gold_vips")
        assert lost.direction == "deduction"
        assert table(actuals(lost, *MAY)) == {("demo_cm1", "11101"): 1, (None, "12102"): 1}


class TestContactsConversionsAndTasks:
    def test_contacts_for_the_manager_of_record_on_the_day(self, book):
        moved, alone = book["moved"], book["alone"]

        def at(n, hour=10):
            return timezone.make_aware(datetime.datetime(2026, 5, n, hour))

        InteractionFactory(customer=moved, kind=InteractionKind.CALL, occurred_at=at(9, 23))
        InteractionFactory(customer=moved, kind=InteractionKind.VISIT, occurred_at=at(10, 0))
        marketing = InteractionFactory(customer=moved, kind=InteractionKind.SMS, occurred_at=at(11))
        InteractionFactory(
            customer=moved, kind=InteractionKind.COMPLAINT, occurred_at=at(11)
        )  # not a contact
        InteractionFactory(customer=alone, kind=InteractionKind.WECHAT, occurred_at=at(20, 23))
        InteractionFactory(customer=alone, kind=InteractionKind.WECHAT, occurred_at=at(21, 0))  # after
        MarketingContact.objects.create(
            customer=moved,
            channel="sms",
            occurred_at=at(11),
            outcome=ContactOutcome.INTERESTED,
            manager=book["cm2"],
            interaction=marketing,
        )
        assert table(actuals(library("contacts"), *MAY)) == {
            ("demo_cm1", "11101"): 1,
            ("demo_cm2", "11102"): 2,
            (None, "12102"): 1,
        }
        assert table(actuals(of("contacts", kinds=["visit", "call"]), *MAY)) == {
            ("demo_cm1", "11101"): 1,
            ("demo_cm2", "11102"): 1,
        }
        assert table(actuals(of("contacts", marketing_only=True), *MAY)) == {("demo_cm2", "11102"): 1}

    def test_campaign_conversions_on_the_day_of_the_sale(
        self, users, make_customer, add_account, running_campaign
    ):
        cm1 = users["demo_cm1"]
        contacted = make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        make_customer(manager=cm1, aum=D("90000"), risk_level="C5")
        campaign = running_campaign({"aum_min": "50000"}, product_keys=("wealth",), channels=("visit",))
        target = CampaignTarget.objects.get(campaign=campaign, customer=contacted)
        today = timezone.localdate()
        services.contact_log(user=cm1, target=target, channel="visit", outcome=ContactOutcome.INTERESTED)
        add_account(contacted, category=AccountCategory.WEALTH, product_code="WM-2026A", open_date=today)
        sales_from_new_accounts(today)
        conversions = library("campaign_conversions")
        assert table(actuals(conversions, today, today)) == {("demo_cm1", "11101"): 1}
        assert (
            actuals(conversions, today - datetime.timedelta(days=5), today - datetime.timedelta(days=1)) == []
        )
        assert actuals(of("campaign_conversions", campaigns=[campaign.pk]), today, today)[0].value == 1

    def test_task_completion_per_manager(self, book, users, org):
        bm = users["demo_bm"]
        task = services.task_issue(
            task=services.task_create(
                user=bm,
                name="五月销售",
                indicator=library("sales_amount"),
                period_start=day(1),
                period_end=day(31),
                target=D("400000"),
            ),
            user=bm,
        )
        root = TaskAllocation.objects.get(task=task, parent__isnull=True)
        (beijing,) = services.task_decompose(allocation=root, user=bm, shares=[(org["11000"], D("400000"))])
        (haidian,) = services.task_decompose(
            allocation=beijing, user=bm, shares=[(org["11100"], D("400000"))]
        )
        services.allocation_respond(allocation=haidian, user=users["demo_bh"], accept=True)
        services.task_decompose(
            allocation=haidian,
            user=users["demo_bh"],
            shares=[(book["cm1"], D("200000")), (book["cm2"], D("200000"))],
        )
        completion = of("task_completion", task=task.pk)
        # up to the 12th: cm1 100000 of 200000, cm2 70000 of 200000
        assert table(actuals(completion, day(1), day(12))) == {
            ("demo_cm1", "11101"): D("50.00"),
            ("demo_cm2", "11102"): D("35.00"),
        }
        # a task completion of a task completion is refused
        task.indicator = Indicator.objects.create(
            code="done", name="done", kind="task_completion", params={"task": task.pk}, unit="percent"
        )
        task.save()
        with pytest.raises(ValidationError, match="measures a task completion"):
            of("task_completion", task=task.pk)


class TestParams:
    @pytest.mark.parametrize(
        ("kind", "params", "message"),
        [
            ("balance_end", {}, "The parameter “categories” is missing."),
            ("balance_end", {"categories": ["WEALTH", "GOLD_BARS"]}, "Unknown account category: GOLD_BARS."),
            ("balance_end", {"categories": "WEALTH"}, "give a non-empty list of codes"),
            ("sales_amount", {"products": ["NO-SUCH"]}, "Unknown product: NO-SUCH."),
            ("sales_amount", {"category": ["WEALTH"]}, "“category” is not a parameter of this kind"),
            ("sales_count", {"distinct_products_per_customer": "yes"}, "Say true or false."),
            ("new_vips", {"tier": "diamond"}, "Unknown tier diamond."),
            ("contacts", {"kinds": ["complaint"]}, "Unknown contact kind: complaint."),
            ("campaign_conversions", {"campaigns": [999999]}, "Unknown campaign: 999999."),
            ("task_completion", {}, "The parameter “task” is missing."),
            ("task_completion", {"task": 999999}, "Unknown marketing task 999999."),
            ("balance_avg", {"figure": "profit"}, "Choose one of deposit, loan, aum, not profit."),
            ("contribution", {}, "The parameter “figure” is missing."),
            ("increment", {"figure": "deposit"}, "The parameter “base” is missing."),
            ("increment", {"base": "previous_period"}, "either a figure or a kind with parameters"),
            (
                "increment",
                {"base": "previous_period", "figure": "aum", "of": {"kind": "sales_amount"}},
                "either a figure or a kind with parameters",
            ),
            ("increment", {"base": "last_week", "figure": "aum"}, "not last_week"),
            (
                "increment",
                {"base": "previous_period", "of": {"kind": "increment"}},
                "cannot measure an increment",
            ),
            (
                "increment",
                {"base": "previous_period", "of": {"kind": "balance_end", "params": {}}},
                "The parameter “categories” is missing.",
            ),
        ],
    )
    def test_refused_with_a_clear_message(self, kind, params, message, products):
        indicator = Indicator(code="x", name="x", kind=kind, params=params, unit="cny")
        with pytest.raises(ValidationError) as refused:
            indicator.full_clean()
        assert "params" in refused.value.message_dict
        assert any(message in m for m in refused.value.message_dict["params"]), refused.value.message_dict

    def test_good_parameters_are_kept_tidy(self, products):
        indicator = of("sales_count", categories=["WEALTH", "FUND", "WEALTH"], products=["WM-2026A"])
        assert indicator.params == {"categories": ["FUND", "WEALTH"], "products": ["WM-2026A"]}
        of(
            "increment",
            base="same_period_last_year",
            of={"kind": "sales_amount", "params": {"categories": ["FUND"]}},
        )

    def test_the_kind_must_be_known(self):
        with pytest.raises(ValidationError) as refused:
            Indicator(code="x", name="x", kind="profit", params={}, unit="cny").full_clean()
        assert "kind" in refused.value.message_dict


class TestRegistry:
    def test_a_kind_registered_from_elsewhere(self, monkeypatch, users):
        seen = []

        def deposits(indicator, start, end):
            seen.append((indicator.params["figure"], start, end))
            return [(users["demo_cm1"].pk, users["demo_cm1"].branch_id, D("123.45"))]

        monkeypatch.setitem(indicators._REGISTRY, IndicatorKind.BALANCE_AVG, deposits)
        assert actuals(library("deposit_avg"), *MAY) == [
            IndicatorActual(users["demo_cm1"].pk, users["demo_cm1"].branch_id, D("123.45"))
        ]
        assert seen == [("deposit", *MAY)]

    def test_a_kind_nobody_registered_says_so(self, monkeypatch):
        monkeypatch.delitem(indicators._REGISTRY, IndicatorKind.CONTRIBUTION, raising=False)
        with pytest.raises(
            IndicatorNotRegistered, match="FTP contribution.*contribution_total.*not registered"
        ):
            actuals(library("contribution_total"), *MAY)
        with pytest.raises(ValueError, match="Unknown indicator kind"):
            indicators.register("profit", lambda *a: [])

    def test_an_increment_over_the_previous_period(self, book):
        growth = of("increment", base="previous_period", of={"kind": "sales_amount", "params": {}})
        # May 11..20 against May 1..10
        assert table(actuals(growth, day(11), day(20))) == {
            ("demo_cm1", "11101"): D("-99999"),  # 1 (payroll card) - 100000
            ("demo_cm2", "11102"): D("75000"),
            (None, "12102"): D("30000"),
        }

    def test_base_periods(self):
        d = datetime.date
        assert base_period(d(2026, 5, 1), d(2026, 5, 31), "previous_period") == (
            d(2026, 4, 1),
            d(2026, 4, 30),
        )
        assert base_period(d(2026, 4, 1), d(2026, 6, 30), "previous_period") == (
            d(2026, 1, 1),
            d(2026, 3, 31),
        )
        assert base_period(d(2026, 3, 1), d(2026, 3, 31), "previous_period") == (
            d(2026, 2, 1),
            d(2026, 2, 28),
        )
        assert base_period(d(2026, 5, 11), d(2026, 5, 20), "previous_period") == (
            d(2026, 5, 1),
            d(2026, 5, 10),
        )
        assert base_period(d(2028, 2, 1), d(2028, 2, 29), "same_period_last_year") == (
            d(2027, 2, 1),
            d(2027, 2, 28),
        )


class TestTasksMeasureTheLibrary:
    def test_the_four_former_choices_are_rows_of_the_library(self):
        rows = {
            i.code: (i.kind, i.params, i.unit, i.direction, i.active)
            for i in Indicator.objects.filter(
                code__in=["wealth_sales", "sales_amount", "new_gold_vips", "new_payroll"]
            )
        }
        assert rows == {
            "wealth_sales": ("sales_amount", {"categories": ["WEALTH"]}, "cny", "higher", True),
            "sales_amount": ("sales_amount", {}, "cny", "higher", True),
            "new_gold_vips": ("new_vips", {"tier": "gold"}, "count", "higher", True),
            "new_payroll": ("new_customers", {"payroll": True}, "count", "higher", True),
        }
        # every seeded row passes the checks an edited one must pass
        for indicator in Indicator.objects.all():
            indicator.full_clean()

    def test_an_inactive_indicator_cannot_be_chosen_for_a_new_task(self, users, client, demo_password):
        switched_off = library("sales_count")
        switched_off.active = False
        switched_off.save()
        with pytest.raises(ValidationError, match="switched off"):
            services.task_create(
                user=users["demo_bm"],
                name="x",
                indicator=switched_off,
                period_start=day(1),
                period_end=day(31),
                target=D("10"),
            )
        log_in(client, "demo_bm", demo_password)
        data = {"name": "x", "period_start": "2026-05-01", "period_end": "2026-05-31", "target": "10"}
        response = client.post("/marketing/tasks/new/", {**data, "indicator": "sales_count"})
        assert response.status_code == 400
        assert "Choose an active indicator of the library." in response.content.decode()
        assert "sales_count" not in [c[0] for c in response.context["form"].fields["indicator"].choices]
        response = client.post("/marketing/tasks/new/", {**data, "indicator": "new_accounts"})
        assert response.status_code == 302
        assert library("new_accounts").tasks.get().status == TaskStatus.DRAFT

    def test_a_task_whose_indicator_nothing_computes_shows_why(
        self, users, client, demo_password, monkeypatch
    ):
        def create():
            return services.task_create(
                user=users["demo_bm"],
                name="存款日均",
                indicator=library("deposit_avg"),
                period_start=day(1),
                period_end=day(31),
                target=D("10"),
            )

        monkeypatch.setitem(indicators._REGISTRY, IndicatorKind.BALANCE_AVG, lambda *args: [])
        task = create()
        # performance stops computing it (say, it is not installed)
        monkeypatch.delitem(indicators._REGISTRY, IndicatorKind.BALANCE_AVG)
        with pytest.raises(ValidationError, match="Nothing computes the indicator"):
            create()
        log_in(client, "demo_bm", demo_password)
        response = client.get(f"/marketing/tasks/{task.pk}/")
        assert response.status_code == 200
        assert "it is not registered" in response.content.decode()


class TestLibraryPages:
    DATA = {
        "code": "wealth_sales_count",
        "name": "理财产品销售笔数",
        "kind": "sales_count",
        "params": '{"categories": ["WEALTH"]}',
        "unit": "count",
        "direction": "higher",
        "description": "",
        "active": "on",
    }

    def test_the_business_manager_edits_the_library(self, client, users, demo_password):
        log_in(client, "demo_bm", demo_password)
        response = client.post(
            "/marketing/indicators/new/", {**self.DATA, "params": '{"categories": ["GOLD"]}'}
        )
        assert response.status_code == 400
        assert "Unknown account category: GOLD." in response.content.decode()
        assert not Indicator.objects.filter(code="wealth_sales_count").exists()

        response = client.post("/marketing/indicators/new/", self.DATA)
        created = Indicator.objects.get(code="wealth_sales_count")
        assert response.status_code == 302 and response.url == f"/marketing/indicators/{created.pk}/"
        assert created.params == {"categories": ["WEALTH"]} and created.active
        # switched off; the code stays what it was
        client.post(f"/marketing/indicators/{created.pk}/", {**self.DATA, "code": "renamed", "active": ""})
        created.refresh_from_db()
        assert created.code == "wealth_sales_count" and not created.active
        assert list(
            AuditEvent.objects.filter(target_type="marketing.indicator", target_id=str(created.pk))
            .order_by("id")
            .values_list("action", flat=True)
        ) == [MarketingAction.INDICATOR_CREATED, MarketingAction.INDICATOR_UPDATED]

    def test_a_client_manager_reads_but_may_not_edit(self, client, users, demo_password):
        indicator = library("contacts")
        log_in(client, "demo_cm1", demo_password)
        assert client.get("/marketing/indicators/new/").status_code == 403
        assert client.post("/marketing/indicators/new/", self.DATA).status_code == 403
        response = client.post(f"/marketing/indicators/{indicator.pk}/", {**self.DATA, "active": ""})
        assert response.status_code == 403
        indicator.refresh_from_db()
        assert indicator.active and indicator.kind == "contacts"
        with pytest.raises(Exception, match="may not"):
            services.indicator_save(user=users["demo_cm1"], values={"active": False}, indicator=indicator)
        response = client.get("/marketing/indicators/", {"q": "VIP"})
        assert response.status_code == 200
        codes = {i.code for i in response.context["page_obj"]}
        assert codes == {"new_gold_vips", "lost_gold_vips"}
        assert not re.search(r"/marketing/indicators/\d+/", response.content.decode())  # no edit links

    def test_the_list_filters_by_kind_and_status(self, client, users, demo_password):
        Indicator.objects.filter(code="contacts").update(active=False)
        log_in(client, "demo_bm", demo_password)
        response = client.get("/marketing/indicators/", {"kind": "contribution"})
        assert {i.code for i in response.context["page_obj"]} == {
            "contribution_asset",
            "contribution_intermediary",
            "contribution_liability",
            "contribution_total",
        }
        response = client.get("/marketing/indicators/", {"active": "0"})
        assert [i.code for i in response.context["page_obj"]] == ["contacts"]
        assert client.get("/marketing/indicators/", {"kind": "profit"}).status_code == 400

"""The nightly tier evaluation: upgrades at once, downgrades only after the
observation period, overrides with expiry, and the set-based SQL agreeing with the
per-customer rule in Python on the same data."""

import datetime
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.audit import Action
from accounts.models import AuditEvent
from care.choices import AlertKind
from care.models import Alert
from customers.models import Customer, CustomerMonthlyAum
from tests.vip.conftest import AS_OF, JUNE
from vip.choices import TierChangeSource, VipStatus
from vip.evaluation import current_rules, evaluate_customer, evaluate_tiers, month_back
from vip.models import EvaluationRun, TierChange, TierLevel, TierOverride
from vip.services import tier_override_set

pytestmark = pytest.mark.django_db

# Default levels (data migration), 3-month window, 3-month observation period:
# core 6M, growth 3M, platinum 1M, gold 500k, potential 300k.


def _tier(customer) -> str:
    customer.refresh_from_db()
    return customer.tier


class TestUpgrade:
    def test_a_customer_is_upgraded_as_soon_as_the_window_average_reaches_the_level(
        self, users, new_customer, months
    ):
        # given: three months averaging 600,000 (gold is 500,000), nothing before
        customer = new_customer(manager=users["demo_cm1"])
        months(customer, [700000, 600000, 500000])
        # when
        run = evaluate_tiers(as_of=AS_OF)
        # then
        assert _tier(customer) == "gold"
        change = TierChange.objects.get(customer=customer)
        assert (change.from_tier, change.to_tier, change.source) == ("", "gold", TierChangeSource.UPGRADE)
        assert change.effective_date == AS_OF
        assert change.window_avg_aum == Decimal("600000.00")
        assert change.threshold == Decimal("500000.00")
        assert change.run == run and run.counts["upgrade"] == 1
        # the manager of record gets a reminder
        reminder = Alert.objects.get(assignee=users["demo_cm1"], kind=AlertKind.TIER_CHANGE)
        assert reminder.customer == customer and reminder.figures == {"from": "", "to": "gold"}
        assert reminder.event_date == AS_OF and reminder.branch_id == customer.home_branch_id
        assert AuditEvent.objects.filter(action=Action.TIER_CHANGED, target_id=str(run.pk)).exists()

    def test_just_below_the_threshold_is_not_enough(self, users, new_customer, months):
        customer = new_customer(manager=users["demo_cm1"])
        months(customer, ["500000.00", "500000.00", "499999.99"])  # average 499,999.997
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "potential"

    def test_an_upgrade_skips_levels(self, users, new_customer, months):
        customer = new_customer(manager=users["demo_cm1"], tier="potential")
        months(customer, [3500000, 3200000, 3000000])
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "growth"

    def test_a_missing_month_counts_as_nothing(self, users, new_customer, months):
        # joined last month with 1.2M: the 3-month average is 800k (gold), not 1.2M
        customer = new_customer(manager=users["demo_cm1"])
        months(customer, [1200000, 1200000, None])
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "gold"


class TestDowngrade:
    def test_no_downgrade_inside_the_observation_period(self, users, new_customer, months):
        # gold; the latest window fell below gold, the two before did not
        customer = new_customer(manager=users["demo_cm1"], tier="gold")
        months(customer, [100000, 100000, 600000, 800000, 800000])
        # windows: Jun (100k,100k,600k)=266k; May (100k,600k,800k)=500k; Apr (600k,800k,800k)=733k
        run = evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "gold"
        assert not TierChange.objects.filter(customer=customer).exists()
        assert run.counts["downgrade"] == 0

    def test_downgrade_after_the_observation_period_to_the_best_level_reached(
        self, users, new_customer, months
    ):
        customer = new_customer(manager=users["demo_cm1"], tier="platinum")
        months(customer, [100000, 350000, 400000, 450000, 480000])
        # windows: Jun 283k (none), May 400k (potential), Apr 443k (potential): all below platinum
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "potential"
        change = TierChange.objects.get(customer=customer)
        assert change.source == TierChangeSource.DOWNGRADE
        assert change.threshold == Decimal("1000000.00")  # the level they stayed below
        assert change.observation_months == 3

    def test_one_month_back_above_the_level_keeps_the_tier(self, users, new_customer, months):
        customer = new_customer(manager=users["demo_cm1"], tier="gold")
        months(customer, [0, 0, 0, 1500000])
        # Jun 0, May 0, Apr 500k (exactly gold): not below for the whole period
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "gold"

    def test_a_longer_observation_period_waits_longer(self, users, new_customer, months):
        from vip.models import TierPolicy

        TierPolicy.objects.filter(pk=1).update(observation_months=1)
        customer = new_customer(manager=users["demo_cm1"], tier="gold")
        months(customer, [100000, 100000, 600000, 800000, 800000])
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == ""


class TestOverride:
    def test_an_override_holds_until_its_expiry_then_the_rules_take_over(self, users, new_customer, months):
        # given: a customer the rules put at gold, set by hand to platinum for 30 days
        today = timezone.localdate()
        expires = today + datetime.timedelta(days=30)
        customer = new_customer(manager=users["demo_cm1"])
        months(customer, [600000] * 7, reference=expires.replace(day=1))
        evaluate_tiers(as_of=today)
        assert _tier(customer) == "gold"
        override = tier_override_set(
            customer=customer,
            tier="platinum",
            reason="strategic customer, family office",
            expires_on=expires,
            by=users["demo_bm"],
        )
        assert _tier(customer) == "platinum"
        manual = TierChange.objects.filter(customer=customer, source=TierChangeSource.OVERRIDE).get()
        assert manual.changed_by == users["demo_bm"] and manual.reason == "strategic customer, family office"
        # when: evaluated while it runs, the rules do not move it
        evaluate_tiers(as_of=override.expires_on - datetime.timedelta(days=1))
        assert _tier(customer) == "platinum"
        # when: evaluated on the expiry date
        run = evaluate_tiers(as_of=override.expires_on)
        # then: below platinum for the whole observation period: back to gold at once
        assert _tier(customer) == "gold"
        last = TierChange.objects.filter(customer=customer).order_by("-id").first()
        assert (last.from_tier, last.to_tier, last.source) == (
            "platinum",
            "gold",
            TierChangeSource.OVERRIDE_END,
        )
        override.refresh_from_db()
        assert override.ended_on == override.expires_on and override.end_reason == "expired"
        assert run.counts["overrides_ended"] == 1

    def test_an_override_needs_a_reason_an_expiry_and_a_business_manager(self, users, new_customer):
        from django.core.exceptions import PermissionDenied, ValidationError

        customer = new_customer(manager=users["demo_cm1"])
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError):
            tier_override_set(
                customer=customer, tier="gold", reason="", expires_on=tomorrow, by=users["demo_bm"]
            )
        with pytest.raises(ValidationError):
            tier_override_set(
                customer=customer,
                tier="gold",
                reason="valid reason",
                expires_on=timezone.localdate(),
                by=users["demo_bm"],
            )
        with pytest.raises(ValidationError):
            tier_override_set(
                customer=customer,
                tier="gold",
                reason="valid reason",
                expires_on=timezone.localdate() + datetime.timedelta(days=400),
                by=users["demo_bm"],
            )
        with pytest.raises(PermissionDenied):
            tier_override_set(
                customer=customer,
                tier="gold",
                reason="valid reason",
                expires_on=tomorrow,
                by=users["demo_cm1"],
            )
        assert not TierOverride.objects.exists() and _tier(customer) == ""

    def test_a_new_override_replaces_the_running_one(self, users, new_customer):
        customer = new_customer(manager=users["demo_cm1"])
        until = timezone.localdate() + datetime.timedelta(days=10)
        first = tier_override_set(
            customer=customer, tier="gold", reason="first one", expires_on=until, by=users["demo_bm"]
        )
        tier_override_set(
            customer=customer, tier="core", reason="second one", expires_on=until, by=users["demo_bm"]
        )
        first.refresh_from_db()
        assert first.end_reason == "replaced"
        assert TierOverride.objects.filter(customer=customer, ended_on__isnull=True).count() == 1
        assert _tier(customer) == "core"


class TestRunning:
    def test_a_second_run_changes_nothing(self, users, new_customer, months):
        for i in range(5):
            months(new_customer(manager=users["demo_cm1"]), [300000 * (i + 1)] * 6)
        first = evaluate_tiers(as_of=AS_OF)
        history = TierChange.objects.count()
        reminders = Alert.objects.count()
        second = evaluate_tiers(as_of=AS_OF)
        assert first.counts["tier_changes"] == 5
        assert second.counts["tier_changes"] == 0 and second.counts["customers_updated"] == 0
        assert TierChange.objects.count() == history and Alert.objects.count() == reminders
        assert EvaluationRun.objects.filter(status="done").count() == 2

    def test_a_withdrawn_level_is_re_evaluated_at_once(self, users, new_customer, months):
        customer = new_customer(manager=users["demo_cm1"], tier="gold")
        months(customer, [600000] * 6)
        TierLevel.objects.filter(code="gold").update(is_active=False)
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "potential"
        assert TierChange.objects.get(customer=customer).source == TierChangeSource.RULE

    def test_merged_records_are_left_alone(self, users, new_customer, months):
        survivor = new_customer(manager=users["demo_cm1"])
        merged = new_customer(manager=users["demo_cm1"])
        Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
        months(merged, [900000] * 6)
        run = evaluate_tiers(as_of=AS_OF)
        assert _tier(merged) == "" and run.counts["evaluated"] == 1

    def test_a_customer_without_a_manager_changes_tier_without_a_reminder(self, new_customer, months):
        customer = new_customer()
        months(customer, [700000] * 3)
        evaluate_tiers(as_of=AS_OF)
        assert _tier(customer) == "gold" and not Alert.objects.exists()


class TestPotentialVip:
    def test_close_below_the_next_level_is_a_potential_vip(self, users, new_customer, months):
        near = new_customer(manager=users["demo_cm1"])
        months(near, [460000] * 6)  # gold at 500k, 10% below is 450k
        far = new_customer(manager=users["demo_cm1"])
        months(far, [400000] * 6)
        evaluate_tiers(as_of=AS_OF)
        near.refresh_from_db()
        far.refresh_from_db()
        assert (near.tier, near.vip_status) == ("potential", VipStatus.POTENTIAL)
        assert (far.tier, far.vip_status) == ("potential", "")
        assert Alert.objects.filter(kind=AlertKind.POTENTIAL_VIP, customer=near).exists()

    def test_fast_growth_is_a_potential_vip_and_the_flag_clears_when_it_stops(
        self, users, new_customer, months
    ):
        customer = new_customer(manager=users["demo_cm1"])
        months(customer, [260000, 260000, 260000, 150000, 150000, 150000])  # +73% on the window before
        evaluate_tiers(as_of=AS_OF)
        customer.refresh_from_db()
        assert customer.vip_status == VipStatus.POTENTIAL
        # a month later the growth has flattened (and it is far below the next level)
        July = month_back(JUNE, -1)
        CustomerMonthlyAum.objects.create(
            customer=customer, month=July, avg_aum=Decimal("150000"), end_aum=Decimal("150000"),
            avg_liabilities=Decimal("0"), days=31,
        )  # fmt: skip
        evaluate_tiers(as_of=July + datetime.timedelta(days=3))
        customer.refresh_from_db()
        assert customer.vip_status == ""

    def test_a_registered_vip_is_never_flagged(self, users, new_customer, months):
        customer = new_customer(manager=users["demo_cm1"], vip_status=VipStatus.REGISTERED, tier="potential")
        months(customer, [470000] * 6)
        evaluate_tiers(as_of=AS_OF)
        customer.refresh_from_db()
        assert customer.vip_status == VipStatus.REGISTERED


def test_the_sql_agrees_with_the_per_customer_rule(users, new_customer, months):
    """Random books (tiers, month averages, running and expired overrides): the set-
    based evaluation and the Python rule decide the same for every customer."""
    rng = random.Random(20260615)
    levels = ["", "potential", "gold", "platinum", "growth", "core"]
    scales = [50_000, 300_000, 500_000, 1_000_000, 3_000_000, 6_000_000, 9_000_000]
    customers = []
    for _ in range(60):
        status = rng.choice(["", "", VipStatus.POTENTIAL, VipStatus.REGISTERED])
        customer = new_customer(manager=users["demo_cm1"], tier=rng.choice(levels), vip_status=status)
        base = rng.choice(scales)
        values = [None if rng.random() < 0.1 else round(base * rng.uniform(0.6, 1.4), 2) for _ in range(7)]
        months(customer, values)
        customers.append(customer)
    today = timezone.localdate()
    overrides = {}
    for customer in rng.sample(customers, 8):
        expires = rng.choice([AS_OF, AS_OF + datetime.timedelta(days=20)])
        overrides[customer.pk] = TierOverride.objects.create(
            customer=customer,
            tier=rng.choice(levels),
            previous_tier=customer.tier,
            reason="test",
            starts_on=min(today, AS_OF) - datetime.timedelta(days=40),
            expires_on=expires,
            created_by=users["demo_bm"],
        )
    rules = current_rules()
    expected = {}
    for customer in customers:
        rows = {r.month: int(r.avg_aum * 100) for r in CustomerMonthlyAum.objects.filter(customer=customer)}
        override = overrides.get(customer.pk)
        expected[customer.pk] = evaluate_customer(
            rules=rules,
            tier=customer.tier,
            vip_status=customer.vip_status,
            month_cents=rows,
            reference_month=JUNE,
            override_tier=override.tier if override else None,
            override_running=bool(override and override.expires_on > AS_OF),
            override_expired=bool(override and override.expires_on <= AS_OF),
        )
    evaluate_tiers(as_of=AS_OF)
    changes = {c.customer_id: c for c in TierChange.objects.all()}
    for customer in customers:
        customer.refresh_from_db()
        decision = expected[customer.pk]
        assert (customer.tier, customer.vip_status) == (decision.tier, decision.vip_status), customer.pk
        change = changes.get(customer.pk)
        if decision.source:
            assert change is not None and change.source == decision.source, customer.pk
            if decision.threshold_cents is not None:
                assert change.threshold == Decimal(decision.threshold_cents) / 100
        else:
            assert change is None, customer.pk

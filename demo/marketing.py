"""Marketing demo data (idempotent), run by `seed_demo` after the demo customers and
the VIP data: the product catalogue with promotions, the contact-frequency policy
in force and the nightly marketing profile (`demo.catalogue`), segments, campaigns
in every stage of the approval flow (a draft, one waiting for approval, one running
with contacts, an opportunity and a sale won on the business date, one closed), and
the business year's marketing task decomposed from head office down to demo_cm1.

Everything goes through the marketing services, so the audit trail and the rules
(maker-checker, investor suitability, the contact policy) hold. Each part is looked
up by its code or name first and created only when missing; each campaign is
driven through its flow in one transaction. The campaigns that freeze targets use
segments bounded to one manager's largest customers (one probe of the
manager-and-AUM index), so freezing stays small at any number of customers."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Branch, User
from accounts.roles import Role
from accounts.services import user_provision
from customers.choices import AccountCategory, MarketingChannel
from customers.models import Customer
from marketing import services
from marketing.choices import CampaignObjective, ContactOutcome, OpportunityStage
from marketing.models import (
    Campaign,
    CampaignTarget,
    Indicator,
    MarketingTask,
    Product,
    Segment,
    TaskAllocation,
)
from marketing.segments import segment_customers
from vip.evaluation import latest_business_date

from .catalogue import SOURCE, seed_catalogue, seed_policy, seed_profile

D = Decimal

# Approval needs a second business manager (the submitter may not decide on their
# own campaign) and a Beijing branch share needs its branch head to accept it
# before it can go further down: the demo users include neither, so marketing adds
# them, as the demo adds a client manager to the outlets without a demo one.
# (username, employee number, display name, role, branch code)
MARKETING_USERS: list[tuple[str, str, str, str, str]] = [
    ("bm_10000", "E910000", "营销管理员", Role.BUSINESS_MANAGER, "10000"),
    ("bh_11000", "E911000", "北京分行行长", Role.BRANCH_HEAD, "11000"),
]

# The running and the closed campaign target this many of one manager's largest
# customers (by AUM), whatever the number of customers.
BOUNDED_TARGETS = 25

SUMMARY_KEYS = (
    "products", "promotions", "policy", "profiles", "segments", "campaigns", "targets", "contacts",
    "opportunities", "sales", "tasks", "allocations",
)  # fmt: skip


# --- the entry point ---------------------------------------------------------------------


def seed_marketing(
    *, write: Callable[[str], object] = lambda text: None, business_date: datetime.date | None = None
) -> dict[str, int]:
    """`business_date` (default: the latest date with daily AUM, or yesterday) is the
    day of the marketing profile, of the won sale core banking is to confirm and the
    year of the marketing task; campaigns run around today."""
    if not Customer.objects.exists():
        return {}
    users = _users()
    if users is None:
        return {}
    today = timezone.localdate()
    business_date = business_date or latest_business_date()
    counts = dict.fromkeys(SUMMARY_KEYS, 0)
    counts.update(seed_catalogue(today))
    counts["policy"] = seed_policy(users["demo_pm"])
    counts["profiles"] = seed_profile(business_date)
    segments, counts["segments"] = _seed_segments(users)
    for seed in (_draft_campaign, _submitted_campaign, _running_campaign, _closed_campaign):
        for key, value in seed(users, segments, today, business_date).items():
            counts[key] += value
    counts.update(_seed_task(users, business_date))
    write(
        "Marketing demo data created: {products} products, {promotions} promotions, {policy} contact "
        "policy, marketing profile of {profiles} customers, {segments} segments, {campaigns} campaigns "
        "({targets} targets frozen), {contacts} contacts, {opportunities} opportunities, {sales} sales, "
        "{tasks} tasks in {allocations} shares.".format(**counts)
    )
    return counts


def _users() -> dict[str, User] | None:
    names = ["demo_bm", "demo_pm", "demo_bh", "demo_cm1", "demo_cm2"]
    users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    if len(users) < len(names):
        return None
    existing = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in MARKETING_USERS])}
    branches = {b.code: b for b in Branch.objects.filter(code__in=[u[4] for u in MARKETING_USERS])}
    for username, employee_no, name, role, branch_code in MARKETING_USERS:
        user = existing.get(username)
        if user is None:
            if branch_code not in branches:
                return None
            user = user_provision(
                username=username,
                employee_no=employee_no,
                display_name=name,
                branch=branches[branch_code],
                roles=[role],
                password=settings.DEMO_PASSWORD,
                source=SOURCE,
            )
        users[username] = user
    return users


# --- segments --------------------------------------------------------------------------------

HIGH_AUM = "高净值未配置理财客户"
DORMANT = "半年无交易的沉睡客户"
BIRTHDAYS = "近30天生日的金级及以上客户"
CM1_TOP = "中关村网点重点客户（王经理名下）"
CM2_TOP = "五道口网点重点客户（李经理名下）"


def _round_down(amount: Decimal) -> Decimal:
    """To two significant digits, downwards: 23,456,789.12 -> 23,000,000."""
    whole = int(amount)
    if whole < 100:
        return D(whole)
    step = D(10) ** (len(str(whole)) - 2)
    return (D(whole) / step).to_integral_value(rounding=ROUND_FLOOR) * step


def _book_top(manager: User, bm: User, who: str) -> tuple[str, dict]:
    """A segment of the largest customers of one manager's book: an AUM floor at the
    BOUNDED_TARGETS-th largest (one probe of the manager-and-AUM index)."""
    rules: dict = {"managers": [manager.employee_no]}
    book = segment_customers(rules, user=bm)
    floor = list(
        book.order_by("-aum", "-id").values_list("aum", flat=True)[BOUNDED_TARGETS - 1 : BOUNDED_TARGETS]
    )
    if not floor:
        floor = list(book.order_by("aum", "id").values_list("aum", flat=True)[:1])
    if not floor or floor[0] <= 0:
        return f"{who}名下全部客户", rules
    rules["aum_min"] = str(_round_down(floor[0]))
    return f"{who}名下 AUM 不低于 {D(rules['aum_min']):,.0f} 元的客户", rules


@transaction.atomic
def _seed_segments(users: dict[str, User]) -> tuple[dict[str, Segment], int]:
    bm = users["demo_bm"]
    existing = {s.name: s for s in Segment.objects.filter(owner=bm)}
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    wanted: list[tuple[str, Callable[[], tuple[str, dict]]]] = [
        (
            HIGH_AUM,
            lambda: (
                "AUM 50 万元以上、未持有任何理财产品，理财配置潜力客群",
                {"aum_min": "500000", "lacks_categories": [AccountCategory.WEALTH]},
            ),
        ),
        (
            DORMANT,
            lambda: (
                "近 180 天无任何交易、AUM 1 万元以上（读取夜间营销画像）",
                {"dormant_days": 180, "aum_min": "10000"},
            ),
        ),
        (
            BIRTHDAYS,
            lambda: (
                "30 天内过生日的金级及以上客户，生日关怀与资产配置",
                {"birthday_within_days": 30, "tiers": ["core", "growth", "platinum", "gold"]},
            ),
        ),
        (CM1_TOP, lambda: _book_top(cm1, bm, "王经理（中关村网点）")),
        (CM2_TOP, lambda: _book_top(cm2, bm, "李经理（五道口网点）")),
    ]
    segments, created = {}, 0
    for name, make in wanted:
        if name in existing:
            segments[name] = existing[name]
            continue
        description, rules = make()
        segments[name] = services.segment_save(user=bm, name=name, description=description, rules=rules)
        created += 1
    return segments, created


# --- campaigns ---------------------------------------------------------------------------------


def _campaign_exists(name: str) -> bool:
    return Campaign.objects.filter(name=name).exists()


def _products_by_code(*codes: str) -> list[Product]:
    products = {p.code: p for p in Product.objects.filter(code__in=codes)}
    return [products[code] for code in codes if code in products]


def _at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _channel_for(customer: Customer, channels: list[str], preferred: str = "") -> str | None:
    """The preferred channel if the customer has not opted out of it, else the first
    of the campaign's channels they have not opted out of."""
    for channel in [preferred, *channels] if preferred else channels:
        if getattr(customer, f"consent_{channel}"):
            return channel
    return None


def _amount(customer: Customer, product: Product) -> Decimal:
    """About a fifth of the customer's assets, in ten-thousands, at least the minimum."""
    share = (customer.aum * D("0.2") / 10000).to_integral_value(rounding=ROUND_FLOOR) * 10000
    return max(share, product.min_amount, D("10000"))


@transaction.atomic
def _draft_campaign(users, segments, today, business_date) -> dict[str, int]:
    name = "高净值客户资产配置月"
    if _campaign_exists(name):
        return {}
    start = today + datetime.timedelta(days=20)
    services.campaign_create(
        user=users["demo_bm"],
        name=name,
        objective=CampaignObjective.CROSS_SELL,
        description="面向 AUM 50 万元以上、尚未配置理财的客户，推荐平衡型理财与优选基金，"
        "客户经理一对一资产配置面谈。",
        segment=segments[HIGH_AUM],
        channels=[MarketingChannel.CALL, MarketingChannel.VISIT],
        budget=D("80000"),
        start_date=start,
        end_date=start + datetime.timedelta(days=45),
        products=_products_by_code("WM-STABLE", "FD-519732"),
    )
    return {"campaigns": 1}


@transaction.atomic
def _submitted_campaign(users, segments, today, business_date) -> dict[str, int]:
    """Proposed by the second business manager, so demo_bm can approve or reject it."""
    name = "沉睡客户唤醒计划"
    if _campaign_exists(name):
        return {}
    bm2 = users["bm_10000"]
    start = today + datetime.timedelta(days=7)
    campaign = services.campaign_create(
        user=bm2,
        name=name,
        objective=CampaignObjective.ACTIVATION,
        description="对半年无交易的客户发送短信、微信关怀，引导开通手机银行并体验现金管理理财。",
        segment=segments[DORMANT],
        channels=[MarketingChannel.SMS, MarketingChannel.WECHAT],
        budget=D("30000"),
        start_date=start,
        end_date=start + datetime.timedelta(days=60),
        products=_products_by_code("WM-CASH", "TD-12M"),
    )
    services.campaign_submit(campaign=campaign, user=bm2)
    return {"campaigns": 1}


@transaction.atomic
def _running_campaign(users, segments, today, business_date) -> dict[str, int]:
    """Approved by the second business manager and started by demo_bm; demo_cm1 has
    worked a few of its targets: contacts with different outcomes, an opportunity
    still open and one won into a sale on the business date, which core banking
    confirms when that day's batch opens its account (`demo.business_day`)."""
    name = "中关村网点理财配置季"
    if _campaign_exists(name):
        return {}
    bm, bm2, cm1 = users["demo_bm"], users["bm_10000"], users["demo_cm1"]
    channels = [MarketingChannel.CALL, MarketingChannel.WECHAT, MarketingChannel.VISIT]
    campaign = services.campaign_create(
        user=bm,
        name=name,
        objective=CampaignObjective.CROSS_SELL,
        description="王经理名下重点客户的理财配置：稳健增利 2026A 期（金级及以上客户收益加码）、"
        "睿享平衡一年持有期，到期资金优先续作定期。",
        segment=segments[CM1_TOP],
        channels=channels,
        budget=D("20000"),
        start_date=today - datetime.timedelta(days=14),
        end_date=today + datetime.timedelta(days=45),
        products=_products_by_code("WM-2026A", "WM-STABLE", "TD-12M"),
    )
    services.campaign_submit(campaign=campaign, user=bm)
    services.campaign_approve(campaign=campaign, user=bm2, comment="同意，注意适当性管理")
    campaign = services.campaign_start(campaign=campaign, user=bm)
    counts = {"campaigns": 1, "targets": campaign.target_count}
    wealth = {p.code: p for p in _products_by_code("WM-2026A", "WM-STABLE")}
    plan = [
        # ([(days ago, hour, minute, channel, outcome, notes)], (opportunity product code, won) or None)
        (
            [
                (12, 10, 15, "call", ContactOutcome.NOT_REACHED, "电话未接通，已发微信留言"),
                (11, 14, 30, "wechat", ContactOutcome.INTERESTED, "客户有一笔定期即将到期，对稳健增利感兴趣"),
            ],
            ("WM-2026A", True),
        ),
        (
            [(9, 15, 40, "visit", ContactOutcome.INTERESTED, "上门拜访，客户希望配置一年期平衡型产品")],
            ("WM-STABLE", False),
        ),
        ([(6, 11, 0, "call", ContactOutcome.DECLINED, "客户近期有购房计划，暂不考虑理财")], None),
        ([(2, 16, 20, "call", ContactOutcome.NOT_REACHED, "客户出差，约下周再联系")], None),
    ]
    counts.update(_work_targets(campaign, cm1, channels, plan, wealth, today, won_on=business_date))
    return counts


@transaction.atomic
def _closed_campaign(users, segments, today, business_date) -> dict[str, int]:
    """A deposit campaign of demo_cm2's book that ran over the last two months:
    proposed by the second business manager, approved by demo_bm, started on its
    first day (the targets are those of that day), worked and closed; demo_bm can
    evaluate it."""
    name = "定期存款到期续存回馈活动"
    if _campaign_exists(name):
        return {}
    bm, bm2, cm2 = users["demo_bm"], users["bm_10000"], users["demo_cm2"]
    start, end = today - datetime.timedelta(days=75), today - datetime.timedelta(days=15)
    channels = [MarketingChannel.CALL, MarketingChannel.SMS]
    campaign = services.campaign_create(
        user=bm2,
        name=name,
        objective=CampaignObjective.RETENTION,
        description="到期资金留存：一年期定期利率上浮，客户经理电话邀约续存。",
        segment=segments[CM2_TOP],
        channels=channels,
        budget=D("15000"),
        start_date=start,
        end_date=end,
        products=_products_by_code("TD-12M"),
    )
    services.campaign_submit(campaign=campaign, user=bm2)
    services.campaign_approve(campaign=campaign, user=bm, comment="同意")
    campaign = services.campaign_start(campaign=campaign, user=bm, today=start)
    counts = {"campaigns": 1, "targets": campaign.target_count}
    deposit = {p.code: p for p in _products_by_code("TD-12M")}
    back = (today - start).days
    plan = [
        (
            [(back - 3, 10, 30, "call", ContactOutcome.INTERESTED, "客户同意到期后续存一年期")],
            ("TD-12M", True),
        ),
        ([(back - 5, 9, 45, "call", ContactOutcome.DECLINED, "资金已转他行")], None),
        ([(back - 8, 15, 10, "sms", ContactOutcome.NOT_REACHED, "短信已送达，未回复")], None),
    ]
    counts.update(
        _work_targets(
            campaign, cm2, channels, plan, deposit, today, won_on=start + datetime.timedelta(days=6)
        )
    )
    services.campaign_close(campaign=campaign, user=bm)
    return counts


def _work_targets(campaign, manager, channels, plan, products, today, *, won_on) -> dict[str, int]:
    """Contacts (through the contact policy), opportunities and won sales on the
    manager's largest included targets, one plan entry per target."""
    counts = {"contacts": 0, "opportunities": 0, "sales": 0}
    targets = list(
        CampaignTarget.objects.filter(campaign=campaign, manager=manager, excluded_reason="")
        .select_related("customer")
        .order_by("-customer__aum", "id")[: len(plan) * 2]
    )
    targets = [t for t in targets if _channel_for(t.customer, channels)]
    for target, (contacts, opportunity) in zip(targets, plan, strict=False):
        for days_ago, hour, minute, channel, outcome, notes in contacts:
            chosen = _channel_for(target.customer, channels, channel)
            assert chosen is not None  # the targets were kept for having a channel
            services.contact_log(
                user=manager,
                target=target,
                channel=chosen,
                outcome=outcome,
                occurred_at=_at(today - datetime.timedelta(days=days_ago), hour, minute),
                notes=notes,
            )
            counts["contacts"] += 1
        if opportunity is None or opportunity[0] not in products:
            continue
        product = products[opportunity[0]]
        amount = _amount(target.customer, product)
        created = services.opportunity_create(
            user=manager,
            target=target,
            product=product,
            expected_amount=amount,
            expected_close_date=won_on if opportunity[1] else today + datetime.timedelta(days=10),
            notes="演示数据",
        )
        counts["opportunities"] += 1
        if opportunity[1]:
            services.opportunity_win(opportunity=created, user=manager, amount=amount, sale_date=won_on)
            counts["sales"] += 1
        else:
            services.opportunity_advance(opportunity=created, user=manager, stage=OpportunityStage.PROPOSAL)
    return counts


# --- the marketing task ---------------------------------------------------------------------------


@transaction.atomic
def _seed_task(users: dict[str, User], business_date: datetime.date) -> dict[str, int]:
    """The business year's wealth-sales task: issued by head office, decomposed to the two
    branches; Beijing's branch head accepts and gives it to the sub-branches; the
    Haidian branch head accepts and gives it to demo_cm1 and demo_cm2 (demo_cm2 has
    accepted, demo_cm1's share waits for their answer). Shanghai and Chaoyang have no
    branch head in the demo: their shares wait."""
    year = business_date.year
    name = f"{year}年度财富产品销售任务"
    if MarketingTask.objects.filter(name=name).exists():
        return {}
    bm, bh_bj, bh = users["demo_bm"], users["bh_11000"], users["demo_bh"]
    cm1, cm2 = users["demo_cm1"], users["demo_cm2"]
    branches = {b.code: b for b in Branch.objects.filter(code__in=["11000", "12000", "11100", "11200"])}
    if len(branches) < 4:
        return {}
    task = services.task_create(
        user=bm,
        name=name,
        # the library's row the migration seeded for wealth-product sales
        indicator=Indicator.objects.get(code="wealth_sales"),
        period_start=datetime.date(year, 1, 1),
        period_end=datetime.date(year, 12, 31),
        target=D("200000000"),
        description="全行个人理财产品销售额（不含代销基金、保险），以核心系统确认的销售为准，"
        "按销售日的管户客户经理归属。",
    )
    task = services.task_issue(task=task, user=bm)
    root = TaskAllocation.objects.get(task=task, parent__isnull=True)
    beijing, _shanghai = services.task_decompose(
        allocation=root,
        user=bm,
        shares=[(branches["11000"], D("120000000")), (branches["12000"], D("80000000"))],
    )
    services.allocation_respond(allocation=beijing, user=bh_bj, accept=True, comment="北京分行确认")
    haidian, _chaoyang = services.task_decompose(
        allocation=beijing,
        user=bh_bj,
        shares=[(branches["11100"], D("70000000")), (branches["11200"], D("50000000"))],
    )
    services.allocation_respond(allocation=haidian, user=bh, accept=True, comment="海淀支行确认")
    _cm1_share, cm2_share = services.task_decompose(
        allocation=haidian, user=bh, shares=[(cm1, D("40000000")), (cm2, D("30000000"))]
    )
    services.allocation_respond(allocation=cm2_share, user=cm2, accept=True, comment="保证完成")
    return {"tasks": 1, "allocations": TaskAllocation.objects.filter(task=task).count()}

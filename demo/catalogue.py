"""The marketing catalogue of the demo (idempotent): products with promotions, the
contact-frequency policy in force and the nightly marketing profile, each written
the way the bank's own people would write it -- validated, audited, approved by the
parameter manager (`demo.marketing` runs it first)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from accounts.audit import Action, audit
from accounts.models import User
from customers.choices import AccountCategory
from marketing import services
from marketing.choices import PolicyStatus, PromotionKind, RiskRating
from marketing.models import ContactPolicy, MarketingProfile, Product, Promotion
from marketing.policy import DEFAULT_POLICY
from marketing.rfm import profile_refresh

D = Decimal
SOURCE = "seed_demo"
CHANNELS_ALL = ["counter", "manager", "mobile", "online"]


def product_rows(today: datetime.date) -> list[dict]:
    since = datetime.date(2024, 1, 1)
    return [
        {
            "code": "TD-12M",
            "name": "一年期整存整取定期存款",
            "category": AccountCategory.DEP_TIME,
            "min_amount": D("50"),
            "term_days": 365,
            "rate": D("1.4500"),
            "sale_start": since,
            "channels": CHANNELS_ALL,
            "description": "人民币整存整取，一年期，到期自动转存。",
        },
        {
            "code": "WM-CASH",
            "name": "天天盈现金管理理财",
            "category": AccountCategory.WEALTH,
            "risk_rating": RiskRating.R1,
            "min_amount": D("1"),
            "rate": D("1.9200"),
            "sale_start": since,
            "channels": ["manager", "mobile", "online"],
            "description": "T+0 快速赎回，七日年化收益率参考 1.92%（业绩比较基准，不代表实际收益）。",
        },
        {
            "code": "WM-2026A",
            "name": "稳健增利2026A期（180天）",
            "category": AccountCategory.WEALTH,
            "risk_rating": RiskRating.R2,
            "min_amount": D("10000"),
            "term_days": 180,
            "rate": D("2.6000"),
            "sale_start": today - datetime.timedelta(days=60),
            "sale_end": today + datetime.timedelta(days=120),
            "channels": CHANNELS_ALL,
            "description": "固定收益类，业绩比较基准 2.40%-2.80%，封闭期 180 天。",
        },
        {
            "code": "WM-STABLE",
            "name": "睿享平衡一年持有期理财",
            "category": AccountCategory.WEALTH,
            "risk_rating": RiskRating.R3,
            "min_amount": D("10000"),
            "term_days": 365,
            "rate": D("3.1000"),
            "sale_start": since,
            "channels": ["counter", "manager", "mobile"],
            "description": "固收+，少量配置权益资产，每笔份额持有满一年可赎回。",
        },
        {
            "code": "FD-519732",
            "name": "成长优选混合型证券投资基金",
            "category": AccountCategory.FUND,
            "risk_rating": RiskRating.R4,
            "min_amount": D("1000"),
            "sale_start": since,
            "channels": ["manager", "mobile", "online"],
            "description": "偏股混合型基金，代销，申购费率 1.5%（手机银行一折）。",
        },
        {
            "code": "INS-ANNUITY",
            "name": "金福年年养老年金保险",
            "category": AccountCategory.INSURANCE,
            "risk_rating": RiskRating.R2,
            "min_amount": D("10000"),
            "term_days": 3650,
            "sale_start": since,
            "channels": ["counter", "manager"],
            "description": "代理保险，10 年交费，60 周岁起按年领取养老金。",
        },
        {
            "code": "DC-SALARY",
            "name": "薪享通代发工资卡",
            "category": AccountCategory.DEP_CUR,
            "is_payroll": True,
            "sale_start": since,
            "channels": ["counter", "manager"],
            "description": "企业代发工资借记卡，免年费、免跨行取现手续费。",
        },
        *_held_products(since),
    ]


# Every other product the demo's customers hold (demo.reference.PRODUCTS and the
# time-deposit terms), so that no account shows a bare product code: (code, name,
# category, rating, minimum, term days, rate, on sale until, channels, description).
HELD = [
    (
        "TD-03M",
        "三个月整存整取定期存款",
        AccountCategory.DEP_TIME,
        "",
        "50",
        90,
        "1.0500",
        None,
        CHANNELS_ALL,
        "人民币整存整取，三个月期。",
    ),
    (
        "TD-06M",
        "六个月整存整取定期存款",
        AccountCategory.DEP_TIME,
        "",
        "50",
        180,
        "1.2500",
        None,
        CHANNELS_ALL,
        "人民币整存整取，六个月期。",
    ),
    (
        "TD-24M",
        "两年期整存整取定期存款",
        AccountCategory.DEP_TIME,
        "",
        "50",
        730,
        "1.5500",
        None,
        CHANNELS_ALL,
        "人民币整存整取，两年期。",
    ),
    (
        "TD-36M",
        "三年期整存整取定期存款",
        AccountCategory.DEP_TIME,
        "",
        "50",
        1095,
        "1.9500",
        None,
        CHANNELS_ALL,
        "人民币整存整取，三年期。",
    ),
    (
        "TD-60M",
        "五年期整存整取定期存款",
        AccountCategory.DEP_TIME,
        "",
        "50",
        1825,
        "2.0000",
        None,
        ["counter", "manager"],
        "人民币整存整取，五年期。",
    ),
    (
        "DC-DEBIT",
        "金穗借记卡",
        AccountCategory.DEP_CUR,
        "",
        "0",
        None,
        None,
        None,
        CHANNELS_ALL,
        "个人活期结算借记卡。",
    ),
    (
        "WM-2025A",
        "稳健增利2025A期（180天）",
        AccountCategory.WEALTH,
        RiskRating.R2,
        "10000",
        180,
        "2.8000",
        "2025-06-30",
        ["counter", "manager", "mobile"],
        "固定收益类，已结束募集。",
    ),
    (
        "WM-2025B",
        "稳健增利2025B期（365天）",
        AccountCategory.WEALTH,
        RiskRating.R2,
        "10000",
        365,
        "3.0000",
        "2025-12-31",
        ["counter", "manager", "mobile"],
        "固定收益类，已结束募集。",
    ),
    (
        "FD-000001",
        "华夏成长混合型证券投资基金",
        AccountCategory.FUND,
        RiskRating.R4,
        "1000",
        None,
        None,
        None,
        ["manager", "mobile", "online"],
        "偏股混合型基金，代销。",
    ),
    (
        "FD-110011",
        "易方达中小盘混合型证券投资基金",
        AccountCategory.FUND,
        RiskRating.R4,
        "1000",
        None,
        None,
        None,
        ["manager", "mobile", "online"],
        "偏股混合型基金，代销。",
    ),
    (
        "FD-161725",
        "招商中证白酒指数分级基金",
        AccountCategory.FUND,
        RiskRating.R5,
        "1000",
        None,
        None,
        None,
        ["manager", "mobile", "online"],
        "行业指数基金，波动较大，代销。",
    ),
    (
        "FD-005827",
        "易方达蓝筹精选混合型证券投资基金",
        AccountCategory.FUND,
        RiskRating.R4,
        "1000",
        None,
        None,
        None,
        ["manager", "mobile", "online"],
        "偏股混合型基金，代销。",
    ),
    (
        "INS-LIFE",
        "安康终身寿险",
        AccountCategory.INSURANCE,
        RiskRating.R2,
        "5000",
        None,
        None,
        None,
        ["counter", "manager"],
        "代理保险，终身保障。",
    ),
    (
        "INS-HEALTH",
        "康健无忧重大疾病保险",
        AccountCategory.INSURANCE,
        RiskRating.R1,
        "3000",
        365,
        None,
        None,
        ["counter", "manager", "mobile"],
        "代理保险，一年期重疾保障。",
    ),
    (
        "CUST-SEC",
        "第三方存管证券账户",
        AccountCategory.CUSTODY,
        RiskRating.R3,
        "0",
        None,
        None,
        None,
        ["counter", "mobile", "online"],
        "银证转账第三方存管。",
    ),
    (
        "LN-MORTGAGE",
        "个人住房按揭贷款",
        AccountCategory.LOAN_MORTGAGE,
        "",
        "0",
        None,
        None,
        None,
        ["counter", "manager"],
        "个人一手、二手住房按揭贷款。",
    ),
    (
        "LN-CONSUMER",
        "个人消费贷款",
        AccountCategory.LOAN_CONSUMER,
        "",
        "0",
        None,
        None,
        None,
        ["manager", "mobile"],
        "个人综合消费贷款。",
    ),
    (
        "LN-CAR",
        "个人汽车贷款",
        AccountCategory.LOAN_CONSUMER,
        "",
        "0",
        None,
        None,
        None,
        ["counter", "manager"],
        "个人购车贷款。",
    ),
    (
        "CC-STANDARD",
        "标准信用卡",
        AccountCategory.CREDIT_CARD,
        "",
        "0",
        None,
        None,
        None,
        CHANNELS_ALL,
        "普卡。",
    ),
    (
        "CC-GOLD",
        "金卡信用卡",
        AccountCategory.CREDIT_CARD,
        "",
        "0",
        None,
        None,
        None,
        CHANNELS_ALL,
        "金卡，含机场贵宾厅权益。",
    ),
    (
        "CC-PLATINUM",
        "白金信用卡",
        AccountCategory.CREDIT_CARD,
        "",
        "0",
        None,
        None,
        None,
        ["counter", "manager"],
        "白金卡，高端权益。",
    ),
]


def _held_products(since: datetime.date) -> list[dict]:
    rows = []
    for code, name, category, rating, minimum, term, rate, until, channels, description in HELD:
        rows.append(
            {
                "code": code,
                "name": name,
                "category": category,
                "risk_rating": rating,
                "min_amount": D(minimum),
                "term_days": term,
                "rate": D(rate) if rate else None,
                "sale_start": since,
                "sale_end": datetime.date.fromisoformat(until) if until else None,
                "channels": channels,
                "description": description,
            }
        )
    return rows


def promotion_rows(today: datetime.date) -> list[dict]:
    quarter_end = today + datetime.timedelta(days=90)
    return [
        {
            "product": "TD-12M",
            "name": "新资金一年期定期利率上浮",
            "kind": PromotionKind.RATE,
            "value": D("1.7500"),
            "start_date": today - datetime.timedelta(days=30),
            "end_date": quarter_end,
            "eligible_tiers": [],
        },
        {
            "product": "WM-2026A",
            "name": "金级及以上客户专享收益加码",
            "kind": PromotionKind.RATE,
            "value": D("2.8000"),
            "start_date": today - datetime.timedelta(days=30),
            "end_date": quarter_end,
            "eligible_tiers": ["core", "growth", "platinum", "gold"],
        },
    ]


def _save_parameter(obj, *, target, details: dict) -> None:
    """A catalogue row as the admin's import writes it: validated, saved, audited."""
    obj.full_clean()
    obj.save()
    audit(
        Action.PARAMETER_CHANGED, actor_username=SOURCE, target=target, details={**details, "source": SOURCE}
    )


@transaction.atomic
def seed_catalogue(today: datetime.date) -> dict[str, int]:
    """The parameter manager's catalogue, as the admin's import would write it:
    validated, and each new row audited."""
    counts = {"products": 0, "promotions": 0}
    existing = set(Product.objects.values_list("code", flat=True))
    for fields in product_rows(today):
        if fields["code"] in existing:
            continue
        product = Product(**fields)
        _save_parameter(product, target=product, details={"parameter": "product", "code": product.code})
        counts["products"] += 1
    products = {
        p.code: p for p in Product.objects.filter(code__in=[p["product"] for p in promotion_rows(today)])
    }
    for fields in promotion_rows(today):
        promoted = products.get(fields["product"])
        if promoted is None or Promotion.objects.filter(product=promoted, name=fields["name"]).exists():
            continue
        promotion = Promotion(**{**fields, "product": promoted})
        _save_parameter(
            promotion, target=promoted, details={"parameter": "promotion", "product": promoted.code}
        )
        counts["promotions"] += 1
    return counts


@transaction.atomic
def seed_policy(pm: User) -> int:
    """The bank's contact-frequency policy in force: proposed by the seeding (as the
    admin would record a proposal) and approved by the parameter manager through the
    maker-checker service. Left alone when any policy exists."""
    if ContactPolicy.objects.exists():
        return 0
    proposal = ContactPolicy(
        max_contacts=DEFAULT_POLICY.max_contacts,
        window_days=DEFAULT_POLICY.window_days,
        quiet_start=DEFAULT_POLICY.quiet_start,
        quiet_end=DEFAULT_POLICY.quiet_end,
        quiet_channels=list(DEFAULT_POLICY.quiet_channels),
        note="营销打扰控制：每位客户 7 天内最多 3 次营销接触，21:00-08:00 不电话、短信、微信营销",
        status=PolicyStatus.PROPOSED,
    )
    proposal.full_clean()
    proposal.save()
    audit(
        Action.PARAMETER_CHANGED,
        actor_username=SOURCE,
        target=proposal,
        details={"parameter": "contact_policy", "decision": "proposed", "source": SOURCE},
    )
    services.policy_approve(policy_row=proposal, user=pm)
    return 1


def seed_profile(business_date: datetime.date) -> int:
    """The nightly marketing profile (RFM, AUM history), which the dormancy, RFM and
    trend rules read: built once, as of the business date, if the nightly job has
    not built it yet."""
    if MarketingProfile.objects.exists():
        return 0
    return profile_refresh(business_date)

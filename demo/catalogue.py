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
    ]


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

"""Segment rules → one query.

A segment's rules are a flat dict (what the segment form produces, JSON in
`Segment.rules`); every rule that is set narrows the segment (AND). `segment_customers`
turns them into one `Customer` queryset inside the user's data scope, so counting a
segment is one SQL statement over the customer data. Branch codes and employee
numbers are first resolved to ids (one small indexed lookup each, only when those
rules are set) and go into the statement as constants, as the data scope does with
a branch subtree: the planner then knows how many customers they hold, which a
subquery hides from it (measured at a million customers: 0.55 s instead of 0.93 s
for "Beijing, a deposit maturing within 30 days").

| rule                                 | meaning                                                            |
|--------------------------------------|--------------------------------------------------------------------|
| aum_min, aum_max                     | current AUM within the range (CNY)                                 |
| trend_months, trend_direction,       | month-average AUM this month against `trend_months` (1, 3, 6, 12)  |
| trend_pct                            | months before: up (or down) by at least `trend_pct` percent        |
| tiers                                | tier code is one of                                                |
| age_min, age_max                     | age in whole years today                                           |
| gender                               | M or F                                                             |
| branches                             | home branch within the subtree of one of these branch codes        |
| managers                             | manager of record is one of these employee numbers                 |
| holds_categories, holds_products     | holds an open account of one of these categories or product codes  |
| lacks_categories, lacks_products     | holds no open account of any of these                              |
| maturing_within_days                 | an open account matures between today and today + N                |
| birthday_within_days                 | birthday between today and today + N                               |
| dormant_days                         | no transaction in the last N days                                  |
| r_min, f_min, m_min, rfm_min         | RFM quintile scores (1..5, total 3..15) of the nightly profile     |

Closed and merged customers are never in a segment. The trend, dormancy and RFM
rules read the nightly marketing profile (`marketing.rfm`): a customer without a
profile row (new since the last night) does not match them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, ExtractDay, ExtractMonth, Length, Substr
from django.utils import timezone

from accounts.models import Branch, User
from customers.choices import AccountStatus, CustomerStatus
from customers.models import Account, Customer

TREND_MONTHS = (1, 3, 6, 12)
TREND_FIELD = {1: "aum_1m", 3: "aum_3m", 6: "aum_6m", 12: "aum_12m"}
LIST_RULES = (
    "tiers",
    "branches",
    "managers",
    "holds_categories",
    "holds_products",
    "lacks_categories",
    "lacks_products",
)
INT_RULES = (
    "age_min",
    "age_max",
    "maturing_within_days",
    "birthday_within_days",
    "dormant_days",
    "r_min",
    "f_min",
    "m_min",
    "rfm_min",
    "trend_months",
    "trend_pct",
)
MONEY_RULES = ("aum_min", "aum_max")
TEXT_RULES = ("gender", "trend_direction")
ALL_RULES = (*LIST_RULES, *INT_RULES, *MONEY_RULES, *TEXT_RULES)


def clean_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """The rules that are set, in JSON-ready form (decimals as text); unknown keys
    and empty values dropped."""
    cleaned: dict[str, Any] = {}
    for key in ALL_RULES:
        value = (rules or {}).get(key)
        if value is None or value in ("", [], ()):
            continue
        if key in LIST_RULES:
            cleaned[key] = sorted({str(v) for v in value})
        elif key in INT_RULES:
            cleaned[key] = int(value)
        elif key in MONEY_RULES:
            cleaned[key] = str(Decimal(str(value)))
        else:
            cleaned[key] = str(value)
    if "trend_direction" not in cleaned:
        for key in ("trend_months", "trend_pct"):
            cleaned.pop(key, None)
    elif "trend_months" not in cleaned:
        cleaned["trend_months"] = 3
    return cleaned


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def birthday_keys(today: datetime.date, days: int) -> list[int]:
    """Month * 100 + day of every date from today to today + `days`; 29 February
    birthdays are celebrated on 28 February in other years."""
    keys = set()
    for offset in range(min(days, 365) + 1):
        day = today + datetime.timedelta(days=offset)
        keys.add(day.month * 100 + day.day)
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            keys.add(229)
    return sorted(keys)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _accounts(**filters) -> QuerySet[Account]:
    return Account.objects.filter(customer=OuterRef("pk"), status=AccountStatus.OPEN, **filters)


def _product_condition(categories: list[str], products: list[str]) -> Q:
    condition = Q(pk__in=[])
    if categories:
        condition |= Q(category__in=categories)
    if products:
        condition |= Q(product_code__in=products)
    return condition


def rules_condition(rules: dict[str, Any], *, today: datetime.date) -> Q:
    """The rules as one condition on Customer."""
    rules = clean_rules(rules)
    q = Q()
    if "aum_min" in rules:
        q &= Q(aum__gte=Decimal(rules["aum_min"]))
    if "aum_max" in rules:
        q &= Q(aum__lte=Decimal(rules["aum_max"]))
    if rules.get("tiers"):
        q &= Q(tier__in=rules["tiers"])
    if "age_min" in rules:
        q &= Q(birth_date__lte=years_before(today, rules["age_min"]))
    if "age_max" in rules:
        q &= Q(birth_date__gt=years_before(today, rules["age_max"] + 1))
    if rules.get("gender"):
        q &= Q(gender=rules["gender"])
    if rules.get("branches"):
        q &= Q(home_branch_id__in=list(_subtrees(rules["branches"]).values_list("pk", flat=True)))
    if rules.get("managers"):
        q &= Q(
            primary_manager_id__in=list(
                User.objects.filter(employee_no__in=rules["managers"]).values_list("pk", flat=True)
            )
        )
    held = _product_condition(rules.get("holds_categories", []), rules.get("holds_products", []))
    if rules.get("holds_categories") or rules.get("holds_products"):
        q &= Q(Exists(_accounts().filter(held)))
    lacking = _product_condition(rules.get("lacks_categories", []), rules.get("lacks_products", []))
    if rules.get("lacks_categories") or rules.get("lacks_products"):
        q &= ~Q(Exists(_accounts().filter(lacking)))
    if "maturing_within_days" in rules:
        until = today + datetime.timedelta(days=rules["maturing_within_days"])
        q &= Q(Exists(_accounts(maturity_date__gte=today, maturity_date__lte=until)))
    if "birthday_within_days" in rules:
        q &= Q(birth_date__isnull=False, birthday_key__in=birthday_keys(today, rules["birthday_within_days"]))
    q &= _profile_condition(rules, today=today)
    return q


def _subtrees(codes: list[str]) -> QuerySet[Branch, dict[str, Any]]:
    """The branches within the subtree of any of `codes` (a branch is within a root
    when its path starts with the root's path)."""
    roots = Branch.objects.filter(code__in=codes, path=Substr(OuterRef("path"), 1, Length("path")))
    return Branch.objects.filter(Exists(roots)).values("pk")


def _profile_condition(rules: dict[str, Any], *, today: datetime.date) -> Q:
    p = "marketing_profile__"
    q = Q()
    if "dormant_days" in rules:
        since = today - datetime.timedelta(days=rules["dormant_days"])
        q &= Q(**{f"{p}as_of__isnull": False}) & (
            Q(**{f"{p}last_txn_date__isnull": True}) | Q(**{f"{p}last_txn_date__lte": since})
        )
    for rule, field in (
        ("r_min", "recency_score"),
        ("f_min", "frequency_score"),
        ("m_min", "monetary_score"),
    ):
        if rule in rules:
            q &= Q(**{f"{p}{field}__gte": rules[rule]})
    if "rfm_min" in rules:
        q &= Q(**{f"{p}rfm_score__gte": rules["rfm_min"]})
    if rules.get("trend_direction") in ("up", "down"):
        before = F(f"{p}{TREND_FIELD[rules.get('trend_months', 3)]}")
        factor = Decimal(rules.get("trend_pct", 0)) / 100
        if rules["trend_direction"] == "up":
            q &= Q(**{f"{p}aum_now__gt": before}) & Q(**{f"{p}aum_now__gte": before * (1 + factor)})
        else:
            q &= Q(**{f"{p}aum_now__lt": before}) & Q(**{f"{p}aum_now__lte": before * (1 - factor)})
    return q


def segment_customers(
    rules: dict[str, Any], *, user, today: datetime.date | None = None
) -> QuerySet[Customer]:
    """The customers of a segment within the user's data scope: one queryset, so
    `.count()` is one SQL statement."""
    today = today or timezone.localdate()
    customers = (
        Customer.objects.visible_to(user)
        .filter(merged_into__isnull=True)
        .exclude(status=CustomerStatus.CLOSED)
    )
    rules = clean_rules(rules)
    if "birthday_within_days" in rules:
        customers = customers.annotate(
            birthday_key=Cast(ExtractMonth("birth_date") * 100 + ExtractDay("birth_date"), IntegerField())
        )
    return customers.filter(rules_condition(rules, today=today))

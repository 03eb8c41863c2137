"""A segment's rules in words ("Platinum or above, 90 days without a transaction,
women"), never as the codes they are kept in (`lacks_categories: ['WEALTH']`).

The names a rule refers to by code (tiers, branches, managers, products) are read
once for every segment of a page (`rule_names(rule_sets)`: one small query per kind
that some rule uses, none otherwise); `describe(rules, names)` then says each rule
that is set, in the order of the form. A code that has lost its name shows as it
is: a data defect to see, not to hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import Branch, User
from core.templatetags.display import money
from customers.choices import AccountCategory
from vip.models import TierLevel

from .models import Product
from .segments import clean_rules


@dataclass(frozen=True)
class RuleNames:
    """Names by code of what rules refer to; `tier_ranks` lists the active tier
    codes from the highest level down (for "Gold or above")."""

    tiers: dict[str, str] = field(default_factory=dict)
    tier_ranks: list[str] = field(default_factory=list)
    branches: dict[str, str] = field(default_factory=dict)
    managers: dict[str, str] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)


def rule_names(rule_sets: Iterable[dict[str, Any]]) -> RuleNames:
    """The names every rule set of `rule_sets` needs, one query per kind used."""
    codes: dict[str, set[str]] = {"tiers": set(), "branches": set(), "managers": set(), "products": set()}
    for rules in rule_sets:
        rules = rules or {}
        for key in ("tiers", "branches", "managers"):
            codes[key].update(str(c) for c in rules.get(key) or ())
        for key in ("holds_products", "lacks_products"):
            codes["products"].update(str(c) for c in rules.get(key) or ())
    tiers: dict[str, str] = {}
    ranks: list[str] = []
    if codes["tiers"]:
        for code, name, active in TierLevel.objects.order_by("-aum_threshold").values_list(
            "code", "name", "is_active"
        ):
            tiers[code] = name
            if active:
                ranks.append(code)
    return RuleNames(
        tiers=tiers,
        tier_ranks=ranks,
        branches=(
            dict(Branch.objects.filter(code__in=codes["branches"]).values_list("code", "name"))
            if codes["branches"]
            else {}
        ),
        managers=(
            {
                no: name or no
                for no, name in User.objects.filter(employee_no__in=codes["managers"]).values_list(
                    "employee_no", "display_name"
                )
            }
            if codes["managers"]
            else {}
        ),
        products=(
            dict(Product.objects.filter(code__in=codes["products"]).values_list("code", "name"))
            if codes["products"]
            else {}
        ),
    )


def tiers_at_or_above(tier: str, ranks: list[str]) -> list[str]:
    """The active tiers from the highest down to `tier` (sorted like saved rules)."""
    if tier not in ranks:
        return []
    return sorted(ranks[: ranks.index(tier) + 1])


def lowest_of_top(tiers: list[str], ranks: list[str]) -> str | None:
    """The tier T when `tiers` are exactly "T or above", else None."""
    chosen = set(tiers)
    for depth in range(1, len(ranks) + 1):
        if set(ranks[:depth]) == chosen:
            return ranks[depth - 1]
    return None


def _either(labels: Iterable[str]) -> str:
    return pgettext("alternatives", " or ").join(labels)


def _number(value: Any) -> str:
    return intcomma(value)


def _things(categories: list[str], products: list[str], names: RuleNames) -> str:
    category_labels = dict(AccountCategory.choices)
    return _either(
        [str(category_labels.get(c, c)) for c in categories] + [names.products.get(p, p) for p in products]
    )


def phrases(rules: dict[str, Any], names: RuleNames) -> list[str]:
    """Each rule that is set, in words."""
    rules = clean_rules(rules)
    said: list[str] = []
    if rules.get("tiers"):
        lowest = lowest_of_top(rules["tiers"], names.tier_ranks)
        if lowest is not None:
            said.append(_("%(tier)s or above") % {"tier": names.tiers.get(lowest, lowest)})
        else:
            said.append(
                _("tier %(tiers)s") % {"tiers": _either(names.tiers.get(t, t) for t in rules["tiers"])}
            )
    aum_min, aum_max = rules.get("aum_min"), rules.get("aum_max")
    if aum_min is not None and aum_max is not None:
        said.append(_("AUM %(min)s–%(max)s CNY") % {"min": money(aum_min), "max": money(aum_max)})
    elif aum_min is not None:
        said.append(_("AUM at least %(amount)s CNY") % {"amount": money(aum_min)})
    elif aum_max is not None:
        said.append(_("AUM at most %(amount)s CNY") % {"amount": money(aum_max)})
    if rules.get("trend_direction") in ("up", "down"):
        said.append(_trend(rules))
    age_min, age_max = rules.get("age_min"), rules.get("age_max")
    if age_min is not None and age_max is not None:
        said.append(_("aged %(min)s–%(max)s") % {"min": age_min, "max": age_max})
    elif age_min is not None:
        said.append(_("aged %(min)s or over") % {"min": age_min})
    elif age_max is not None:
        said.append(_("aged %(max)s or under") % {"max": age_max})
    if rules.get("gender"):
        said.append({"M": _("men"), "F": _("women")}.get(rules["gender"], rules["gender"]))
    if rules.get("branches"):
        said.append(
            _("in %(branches)s (and the branches below)")
            % {"branches": _either(names.branches.get(b, b) for b in rules["branches"])}
        )
    if rules.get("managers"):
        said.append(
            _("managed by %(managers)s")
            % {"managers": _either(names.managers.get(m, m) for m in rules["managers"])}
        )
    holds = (rules.get("holds_categories", []), rules.get("holds_products", []))
    if any(holds):
        said.append(_("holding %(things)s") % {"things": _things(*holds, names)})
    lacks = (rules.get("lacks_categories", []), rules.get("lacks_products", []))
    if any(lacks):
        said.append(_("holding no %(things)s") % {"things": _things(*lacks, names)})
    if "maturing_within_days" in rules:
        days = rules["maturing_within_days"]
        said.append(
            ngettext(
                "an account maturing within %(days)s day",
                "an account maturing within %(days)s days",
                days,
            )
            % {"days": _number(days)}
        )
    if "birthday_within_days" in rules:
        days = rules["birthday_within_days"]
        said.append(
            ngettext("birthday within %(days)s day", "birthday within %(days)s days", days)
            % {"days": _number(days)}
        )
    if "dormant_days" in rules:
        days = rules["dormant_days"]
        said.append(
            ngettext("%(days)s day without a transaction", "%(days)s days without a transaction", days)
            % {"days": _number(days)}
        )
    for rule, text in (
        ("r_min", _("recency score %(score)s or more")),
        ("f_min", _("frequency score %(score)s or more")),
        ("m_min", _("monetary score %(score)s or more")),
        ("rfm_min", _("RFM total %(score)s or more")),
    ):
        if rule in rules:
            said.append(text % {"score": rules[rule]})
    return said


def _trend(rules: dict[str, Any]) -> str:
    months = rules.get("trend_months", 3)
    pct = rules.get("trend_pct", 0)
    if rules["trend_direction"] == "up":
        if pct:
            text = ngettext(
                "AUM up by at least %(pct)s%% on %(months)s month before",
                "AUM up by at least %(pct)s%% on %(months)s months before",
                months,
            )
        else:
            text = ngettext("AUM up on %(months)s month before", "AUM up on %(months)s months before", months)
    elif pct:
        text = ngettext(
            "AUM down by at least %(pct)s%% on %(months)s month before",
            "AUM down by at least %(pct)s%% on %(months)s months before",
            months,
        )
    else:
        text = ngettext("AUM down on %(months)s month before", "AUM down on %(months)s months before", months)
    return text % {"pct": pct, "months": months}


def describe(rules: dict[str, Any], names: RuleNames) -> str:
    """The rules as one phrase; "all customers" when no rule is set."""
    said = phrases(rules, names)
    if not said:
        return _("all customers")
    return pgettext("list separator", ", ").join(said)


def count_sentence(rules: dict[str, Any], names: RuleNames, count: int) -> str:
    """ "Platinum or above, 90 days without a transaction, women: 1,230 customers"."""
    return ngettext("%(rules)s: %(count)s customer", "%(rules)s: %(count)s customers", count) % {
        "rules": describe(rules, names),
        "count": intcomma(count),
    }

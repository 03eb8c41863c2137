"""Investor suitability (投资者适当性): a product may be recommended, offered in a
campaign or sold to a customer only if the customer's valid risk assessment
(C1..C5) covers the product's rating (R1..R5): Cn covers R1..Rn. An expired or
missing assessment blocks every rated product. Products without a rating
(deposits, loans, cards) are not investment products and need no assessment.

One rule, two forms: `check()` for one customer and product (with the reason to
show), `exclusion_case()` for a whole target list in SQL. Tests hold them equal."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import RiskLevel

from .choices import ExclusionReason, RiskRating


def rating_level(rating: str) -> int:
    """R3 -> 3; no rating -> 0 (no assessment needed)."""
    return int(rating[1]) if rating else 0


def covering_levels(rating: str) -> list[str]:
    """The assessments that cover a rating: R3 -> [C3, C4, C5]."""
    level = rating_level(rating)
    return [c for c in RiskLevel.values if int(c[1]) >= level]


def highest_rating(ratings: Iterable[str]) -> str:
    rated = [r for r in ratings if r]
    return max(rated, key=rating_level) if rated else ""


@dataclass(frozen=True)
class Suitability:
    allowed: bool
    reason: str = ""  # an ExclusionReason code, "" when allowed
    message: str = ""


def check(customer, product, *, on: datetime.date | None = None) -> Suitability:
    """May `product` be recommended or sold to `customer` on `on`? With the reason,
    in words a manager can read out, when not."""
    rating = product.risk_rating
    if not rating:
        return Suitability(True)
    on = on or timezone.localdate()
    label = RiskRating(rating).label
    if not customer.risk_level:
        return Suitability(
            False,
            ExclusionReason.NO_RISK_ASSESSMENT,
            _(
                "The customer has no risk assessment; %(product)s is rated %(rating)s. "
                "Complete a risk assessment first."
            )
            % {"product": product.name, "rating": label},
        )
    if customer.risk_expiry is not None and customer.risk_expiry < on:
        return Suitability(
            False,
            ExclusionReason.RISK_EXPIRED,
            _(
                "The customer's risk assessment (%(level)s) expired on %(date)s; %(product)s is rated "
                "%(rating)s. Renew the assessment first."
            )
            % {
                "level": customer.risk_level,
                "date": customer.risk_expiry.isoformat(),
                "product": product.name,
                "rating": label,
            },
        )
    if customer.risk_level not in covering_levels(rating):
        return Suitability(
            False,
            ExclusionReason.UNSUITABLE,
            _(
                "The customer's risk assessment is %(level)s, which covers products up to R%(max)s; "
                "%(product)s is rated %(rating)s and may not be recommended or sold to them."
            )
            % {
                "level": RiskLevel(customer.risk_level).label,
                "max": customer.risk_level[1],
                "product": product.name,
                "rating": label,
            },
        )
    return Suitability(True)


def unsuitable_condition(rating: str, *, on: datetime.date, prefix: str = "") -> tuple[Q, Q, Q] | None:
    """(no assessment, expired, too low) as conditions on customer fields, or None
    when the rating needs no assessment."""
    if not rating:
        return None
    no_risk = Q(**{f"{prefix}risk_level": ""})
    expired = Q(**{f"{prefix}risk_expiry__lt": on})
    too_low = ~Q(**{f"{prefix}risk_level__in": covering_levels(rating)})
    return no_risk, expired, too_low


def exclusion_case(rating: str, *, on: datetime.date, channels: list[str]) -> Case:
    """The exclusion reason of a customer row as one SQL CASE, in the order `check`
    tests them; opted out of every campaign channel comes last."""
    whens = []
    conditions = unsuitable_condition(rating, on=on)
    if conditions is not None:
        no_risk, expired, too_low = conditions
        whens += [
            When(no_risk, then=Value(ExclusionReason.NO_RISK_ASSESSMENT.value)),
            When(expired, then=Value(ExclusionReason.RISK_EXPIRED.value)),
            When(too_low, then=Value(ExclusionReason.UNSUITABLE.value)),
        ]
    if channels:
        opted_out_of_all = Q()
        for channel in channels:
            opted_out_of_all &= Q(**{f"consent_{channel}": False})
        whens.append(When(opted_out_of_all, then=Value(ExclusionReason.OPTED_OUT.value)))
    return Case(*whens, default=Value(""), output_field=CharField())

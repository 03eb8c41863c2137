"""Showing values: a code by its label, an amount of money.

{% load display %}
{% labels "tier" as tiers %}            once per page (may read the database)
{{ customer.tier|label:tiers }}         白金级, not platinum
{{ campaign.channels|label_list:"channel" }}   电话、走访 (a kind known without a query)
{{ amount|money }}                      1,234,567.00
{{ cooloff_timedelta|minutes }}          15
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat

from core import labels as code_labels

register = template.Library()


@register.simple_tag(name="labels")
def labels_of(kind: str) -> Mapping[str, str]:
    return code_labels.labels(kind)


def _names(names: Mapping[str, str] | str) -> Mapping[str, str]:
    return code_labels.labels(names) if isinstance(names, str) else (names or {})


@register.filter
def label(code, names: Mapping[str, str] | str) -> str:
    """A code's label: `names` is a mapping from `{% labels %}` or a kind's name."""
    return code_labels.label(code, _names(names))


@register.filter
def label_list(codes: Iterable | None, names: Mapping[str, str] | str) -> str:
    """Several codes' labels, joined with the Chinese enumeration comma."""
    mapping = _names(names)
    return "、".join(code_labels.label(code, mapping) for code in (codes or ()) if code not in (None, ""))


@register.filter
def money(value) -> str:
    """An amount with thousands separators and two decimals; blank for no amount."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return intcomma(floatformat(amount, 2))


@register.filter
def minutes(value: datetime.timedelta | None) -> int | str:
    """A duration in whole minutes (rounded up), for "15 minutes" rather than PT15M."""
    if value is None:
        return ""
    return math.ceil(value.total_seconds() / 60)

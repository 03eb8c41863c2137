"""`{{ row.params|formula_params }}`: a scheme indicator's formula parameters as a
person reads them (下限 0 · 上限 120), never the stored dict (performance.formulas
checks and stores them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

LABELS = {
    "floor": _("floor"),
    "cap": _("cap"),
    "on": _("applied to"),
    "steps": _("steps"),
    "bands": _("bands"),
    "otherwise": _("otherwise"),
    "per_unit": _("points per unit"),
    "max": _("maximum"),
    "expression": _("expression"),
}
VALUES = {"completion": _("the completion rate"), "actual": _("the actual")}


def _value(key: str, value: Any) -> str:
    if key in ("steps", "bands") and isinstance(value, list):
        # [threshold, points] pairs
        return "；".join(f"{a} → {b}" for a, b in (pair for pair in value if len(pair) == 2))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(VALUES.get(value, value)) if isinstance(value, str) else str(value)


@register.filter
def formula_params(params: Mapping[str, Any] | None) -> str:
    return " · ".join(f"{LABELS.get(key, key)} {_value(key, value)}" for key, value in (params or {}).items())

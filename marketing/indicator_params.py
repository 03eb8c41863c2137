"""An indicator's parameters as a person reads them: each parameter's label and its
values' labels (账户类别：活期存款、定期存款), never the JSON the kind validates
(`marketing.indicators.PARAMS`). Product and tier codes read as their names, which
the page looks up once (`names`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.choices import AccountCategory, IncomeType, InteractionKind

from .choices import IndicatorKind

PARAM_LABELS = {
    "categories": _("Account categories"),
    "products": _("Products"),
    "distinct_products_per_customer": _("Each product type once per customer"),
    "income_types": _("Income types"),
    "payroll": _("Payroll customers only"),
    "payroll_link": _("Payroll customers from the employers' register"),
    "tier": _("Tier"),
    "kinds": _("Contact kinds"),
    "marketing_only": _("Marketing contacts only"),
    "campaigns": _("Campaigns"),
    "task": _("Marketing task"),
    "figure": _("Figure"),
    "base": _("Base period"),
    "of": _("Measure"),
}
FIGURE_LABELS = {
    "deposit": _("Deposits"),
    "loan": _("Loans"),
    "aum": _("AUM"),
    "liability": pgettext_lazy("FTP contribution", "Liabilities"),
    "asset": pgettext_lazy("FTP contribution", "Assets"),
    "intermediary": pgettext_lazy("FTP contribution", "Intermediary business"),
    "total": pgettext_lazy("FTP contribution", "Total"),
    "previous_period": _("The previous period"),
    "same_period_last_year": _("The same period last year"),
}


def _codes(values: Any, names: Mapping[str, Any]) -> str:
    items = values if isinstance(values, list) else [values]
    return "、".join(str(names.get(str(v), v)) for v in items)


def param_lines(
    params: Mapping[str, Any] | None, names: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str]]:
    """(label, value) for each parameter. `names`: {"products": {code: name},
    "tier": {code: name}}."""
    lines = []
    for key, value in (params or {}).items():
        label = str(PARAM_LABELS.get(key, key))
        if isinstance(value, bool):
            text = str(_("yes") if value else _("no"))
        elif key == "categories":
            text = _codes(value, dict(AccountCategory.choices))
        elif key == "income_types":
            text = _codes(value, dict(IncomeType.choices))
        elif key == "kinds":
            text = _codes(value, dict(InteractionKind.choices))
        elif key in ("products", "tier"):
            text = _codes(value, names.get(key) or {})
        elif key in ("figure", "base"):
            text = _codes(value, FIGURE_LABELS)
        elif key == "of" and isinstance(value, Mapping):
            code = str(value.get("kind"))
            kind = str(dict(IndicatorKind.choices).get(code, code))
            inner = "；".join(f"{a}：{b}" for a, b in param_lines(value.get("params"), names))
            text = f"{kind}（{inner}）" if inner else kind
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        else:
            text = str(value)
        lines.append((label, text))
    return lines

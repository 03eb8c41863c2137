"""A parameter proposal as a person reads it: each change as the level's name, the
field's label and the values before and after, formatted (金级 最低日均资产：
500,000.00 → 600,000.00), never the stored codes and field names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.defaultfilters import floatformat, yesno
from django.utils.translation import gettext as _

from vip.models import ParameterProposal, TierLevel, TierPolicy


@dataclass(frozen=True)
class ChangeLine:
    subject: str  # the level's name, or the tier policy
    field: str  # the field's label
    before: str | None  # None: a new level has no value before
    after: str


def _field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _value(field: models.Field | None, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, models.BooleanField):
        return str(yesno(value in (True, "true", "True", "1", 1)))
    if isinstance(field, models.DecimalField):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return intcomma(floatformat(amount, field.decimal_places or 0))
    return str(value)


def _label(field: models.Field | None, name: str) -> str:
    return str(field.verbose_name) if field is not None else name


def proposal_change_lines(proposal: ParameterProposal, names: Mapping[str, str]) -> list[ChangeLine]:
    """The proposal's changes, levels first (by the name they have, else the one
    proposed for a new level), then the policy."""
    changes = proposal.changes or {}
    base = proposal.base or {}
    lines = []
    for code, fields in (changes.get("levels") or {}).items():
        before = (base.get("levels") or {}).get(code)
        subject = names.get(code) or str(fields.get("name") or code)
        for name, value in fields.items():
            field = _field(TierLevel, name)
            lines.append(
                ChangeLine(
                    subject,
                    _label(field, name),
                    _value(field, before.get(name)) if before else None,
                    _value(field, value),
                )
            )
    base_policy = base.get("policy") or {}
    for name, value in (changes.get("policy") or {}).items():
        field = _field(TierPolicy, name)
        lines.append(
            ChangeLine(
                str(_("Tier policy")),
                _label(field, name),
                _value(field, base_policy.get(name)),
                _value(field, value),
            )
        )
    return lines

"""The indicator library (考核指标库): head office's business manager adds and
changes indicators; every change is audited with what it changed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit
from accounts.models import User

from ..choices import MarketingAction
from ..models import Indicator
from ._common import require

# What a user may set; `code` only when the indicator is created.
INDICATOR_FIELDS = ("name", "kind", "params", "unit", "direction", "description", "active")


@transaction.atomic
def indicator_save(*, user: User, values: dict[str, Any], indicator: Indicator | None = None) -> Indicator:
    """Create an indicator (values include its code) or change one. Its parameters
    are checked for its kind (`Indicator.clean`); nothing changed, nothing written."""
    require(user, "marketing.change_indicator" if indicator else "marketing.add_indicator")
    if indicator is None:
        indicator = Indicator(code=str(values.get("code", "")).strip())
        before: dict[str, Any] = {}
    else:
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = {field: getattr(indicator, field) for field in INDICATOR_FIELDS}
    for field in INDICATOR_FIELDS:
        if field in values:
            value = values[field]
            setattr(indicator, field, value.strip() if isinstance(value, str) else value)
    indicator.full_clean()
    changed = {f: getattr(indicator, f) for f in INDICATOR_FIELDS if before.get(f) != getattr(indicator, f)}
    if before and not changed:
        return indicator
    indicator.updated_at = timezone.now()
    indicator.save()
    audit(
        MarketingAction.INDICATOR_UPDATED if before else MarketingAction.INDICATOR_CREATED,
        actor=user,
        target=indicator,
        details={"code": indicator.code, "changed": sorted(changed)},
    )
    return indicator

"""The tier levels as the pages show them: names by code (withdrawn levels too, which
the history still names), thresholds and contact intervals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from ..models import TierLevel

NO_TIER = "none"  # the filter value for customers without a tier


def tier_names() -> dict[str, str]:
    """Every level's name by code (withdrawn ones too: the history names them)."""
    return dict(TierLevel.objects.values_list("code", "name"))


def tier_label(code: str, names: dict[str, str]) -> str:
    if not code:
        return _("No tier")
    return names.get(code, code)


@dataclass(frozen=True)
class LevelTable:
    """Every level in one query: names (withdrawn ones too), thresholds, and the
    contact interval of the active ones."""

    names: dict[str, str]
    thresholds: dict[str, Decimal]
    intervals: dict[str, int]


def level_table() -> LevelTable:
    rows = list(
        TierLevel.objects.values_list("code", "name", "aum_threshold", "contact_interval_days", "is_active")
    )
    return LevelTable(
        names={code: name for code, name, *_rest in rows},
        thresholds={code: threshold for code, _n, threshold, _d, _a in rows},
        intervals={code: days for code, _n, _t, days, active in rows if active},
    )


def active_levels() -> list[TierLevel]:
    return list(TierLevel.objects.filter(is_active=True).order_by("-aum_threshold"))

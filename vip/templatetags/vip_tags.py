"""`{{ code|vip_status }}`, `{{ code|tier_name:names }}` and a parameter proposal's
changes (`{% proposal_changes %}`) in templates."""

from collections.abc import Mapping

from django import template
from django.utils.translation import gettext as _

from vip.choices import VipStatus
from vip.selectors.levels import tier_names
from vip.selectors.proposal_changes import proposal_change_lines

register = template.Library()


@register.filter
def vip_status(code: str) -> str:
    if not code:
        return ""
    try:
        return str(VipStatus(code).label)
    except ValueError:
        return code


@register.filter
def tier_name(code: str, names: dict) -> str:
    if not code:
        return _("No tier")
    return (names or {}).get(code, code)


@register.filter
def lookup(mapping: dict, key):
    return (mapping or {}).get(key, "")


@register.simple_tag
def proposal_changes(proposal, names):
    """`{% proposal_changes proposal tiers as lines %}`: the proposal's changes, labelled
    (the tier names read here when the page has none)."""
    return proposal_change_lines(proposal, names if isinstance(names, Mapping) else tier_names())

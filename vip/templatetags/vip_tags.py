"""`{{ code|vip_status }}` and `{{ code|tier_name:names }}` in templates."""

from django import template
from django.utils.translation import gettext as _

from vip.choices import VipStatus

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

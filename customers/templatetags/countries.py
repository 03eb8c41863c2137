"""`{{ customer.nationality|country_name }}`: a country's name, never its code."""

from django import template

from customers.countries import country_name as _country_name

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    return _country_name(code or "")

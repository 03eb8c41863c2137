"""Masking in templates: `{{ customer.id_number|mask:"id_number" }}`."""

from django import template

from customers.masking import mask_contact, mask_value

register = template.Library()


@register.filter
def mask(value, kind: str) -> str:
    return mask_value(kind, value)


@register.filter
def mask_contact_value(contact) -> str:
    return mask_contact(contact.type, contact.value)

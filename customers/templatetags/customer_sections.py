"""`{% customer_sections c %}`: the panels other areas register for the 360 view
(customers.panels.register_section), each rendered from its own template. The 360
view is already held to the user's scope; each provider checks its own permission
and reads in a bounded number of queries."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from customers import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_sections(context, customer) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None)
    rendered = (
        (
            section.name,
            render_to_string(section.template, {"c": customer, **section.context}, request=request),
        )
        for section in panels.sections(customer, user)
    )
    return format_html_join("", '<div class="col-12" data-testid="section-{}">{}</div>', rendered)

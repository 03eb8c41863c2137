"""`{% customer_sections c %}`: the panels other areas register for the 360 view
(customers.panels.register_section), each rendered from its own template. The 360
view is already held to the user's scope; each provider checks its own permission
and reads in a bounded number of queries.

A section renders as `render_to_string(template, context, request=request)` would:
its own variables and what the context processors give, nothing else of the page;
but from the values the page's context processors already gave, rather than running
them again for every section (the navigation built anew, the messages read...)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from customers import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_sections(context, customer) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None)
    engine = context.template.engine
    index = getattr(context, "_processors_index", None)
    processed = context.dicts[index] if index is not None else {}
    rendered = (
        (
            section.name,
            engine.get_template(section.template).render(
                context.new({**processed, "c": customer, **section.context})
            ),
        )
        for section in panels.sections(customer, user)
    )
    return format_html_join("", '<div class="col-12" data-testid="section-{}">{}</div>', rendered)

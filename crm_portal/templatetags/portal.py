from django import template

from core.templatetags.listing import query_string

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination and
    sorting links that keep the filters); a parameter given None is dropped."""
    return query_string(context, **changes)

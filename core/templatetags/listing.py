"""Tags of the list pages' shared controls (core/listing.py).

{% load listing %}
<th {% sort_aria "name" %}>{% sort_header "name" _("Name") %}</th>
{% include "partials/pagination.html" %}   position, previous/next, page size
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.listing import PAGE_SIZES, POSITION_PARAMS

register = template.Library()
_FIRST_PAGE: dict = dict.fromkeys(POSITION_PARAMS)


def query_string(context, **changes) -> str:
    """The current query string with some parameters replaced; None drops one."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _current(context) -> str:
    return context.get("sort") or context["request"].GET.get("sort", "")


@register.simple_tag(takes_context=True)
def sort_header(context, column: str, title) -> str:
    """A column's title as a link that sorts by it (ascending first, then
    descending), with an arrow on the column in effect; back to the first page."""
    current = _current(context)
    if current == column:
        target, arrow, state = f"-{column}", " ▲", _("sorted ascending")
    elif current == f"-{column}":
        target, arrow, state = column, " ▼", _("sorted descending")
    else:
        target, arrow, state = column, "", ""
    return format_html(
        '<a class="sort-link text-reset" href="?{}" data-sort="{}"{}>{}{}</a>',
        query_string(context, sort=target, **_FIRST_PAGE),
        column,
        format_html(' aria-label="{}, {}"', title, state) if state else "",
        title,
        arrow,
    )


@register.simple_tag(takes_context=True)
def sort_aria(context, column: str) -> str:
    """The header cell's aria-sort attribute for assistive technology."""
    current = _current(context)
    if current == column:
        return format_html('aria-sort="{}"', "ascending")
    if current == f"-{column}":
        return format_html('aria-sort="{}"', "descending")
    return ""


@register.inclusion_tag("partials/page_sizes.html", takes_context=True)
def page_sizes(context, page_obj) -> dict:
    """Links to show 25, 50 or 100 rows a page (back to the first page); `page_obj`
    a page, or the size in effect of a list paged another way (by key)."""
    current = page_obj if isinstance(page_obj, int) else page_obj.paginator.per_page
    return {
        "sizes": [
            {
                "size": size,
                "current": size == current,
                "query": query_string(context, size=size, **_FIRST_PAGE),
            }
            for size in PAGE_SIZES
        ],
    }

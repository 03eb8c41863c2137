"""`{% indicator_params indicator as lines %}`: an indicator's parameters, labelled
(marketing.indicator_params); product and tier names read once per page."""

from __future__ import annotations

from django import template

from core.labels import labels
from marketing.indicator_params import param_lines
from marketing.models import Product

register = template.Library()


@register.simple_tag(takes_context=True)
def indicator_params(context, indicator) -> list[tuple[str, str]]:
    names = context.render_context.get("indicator_param_names")
    if names is None:
        names = {"products": dict(Product.objects.values_list("code", "name")), "tier": labels("tier")}
        context.render_context["indicator_param_names"] = names
    return param_lines(indicator.params, names)

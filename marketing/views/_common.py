"""What the marketing pages share: a list's filter, and a refusal's messages. A
list's page size, position and sorting are core.listing's, as on every list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters import FilterSet

from ..models import Opportunity


def show_errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def opportunity_created(opportunity: Opportunity) -> str:
    """What creating an opportunity did (from a target or as a lead), named."""
    return _("Opportunity created: %(product)s for %(name)s.") % {
        "product": opportunity.product.name,
        "name": opportunity.customer.name,
    }


@dataclass(frozen=True)
class Filtered:
    """A list's rows after its filter, the filter (its form is the page's filter
    bar) and the status the page answers with."""

    filter: FilterSet
    rows: QuerySet
    status: int

    def value(self, name: str) -> Any:
        """The valid value of one filter, or "" when it is not set (or not valid)."""
        return self.filter.form.cleaned_data.get(name) or ""


def filtered(request, filterset_class: type[FilterSet], rows: QuerySet) -> Filtered:
    """Apply the list's FilterSet, bound to the query string, to `rows`, which the
    view has already narrowed to the user's scope. Invalid input filters nothing:
    the page shows no rows and the form's errors, and answers 400."""
    filterset = filterset_class(request.GET, queryset=rows, request=request)
    if filterset.is_valid():
        return Filtered(filterset, filterset.qs, 200)
    return Filtered(filterset, rows.none(), 400)

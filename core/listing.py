"""The controls every list page shares: a page size the user picks, pages with
their position ("Items 26–50 of 1,204") and sorting by a column.

A view declares the columns it may be sorted by, each with the fields it orders
on, and the default; the query string's `sort` ("name", "-name") is checked
against them, so a user never orders by a field the page did not offer:

    SORTING = Sorting({"name": ("name",), "due": ("due_date",)}, default="-due")
    rows = SORTING.apply(request, queryset)
    page_obj = paginate(request, rows)
    context = {"page_obj": page_obj, "sort": SORTING.key(request)}

The template shows the headers with `{% sort_header "name" _("Name") %}` and the
pages with `{% include "partials/pagination.html" %}` (core/templatetags/listing.py).
The order always ends with the primary key, so pages never repeat nor skip a row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django_filters import FilterSet

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]
# Where a list stands: a page number, or on a keyset-paged list (the customer
# search) the cursor and the rank of the page's first row. A new sort or page size
# starts again at the first page, so the links changing them drop all three.
POSITION_PARAMS = ("page", "cursor", "at")


def page_size(request, default: int = DEFAULT_PAGE_SIZE) -> int:
    """The page size the query string asks for (`size`), if it is one offered."""
    raw = request.GET.get("size", "")
    return int(raw) if raw in {str(size) for size in PAGE_SIZES} else default


def paginate(request, rows: QuerySet | Sequence, *, default_size: int = DEFAULT_PAGE_SIZE) -> Page:
    """The page of `rows` the query string asks for (`page`, `size`); a page past
    the end is the last one, anything else not a number the first."""
    return Paginator(rows, page_size(request, default_size)).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class Sorting:
    """The columns a list may be sorted by: key -> the fields it orders on,
    ascending; `default` is a key, with "-" for descending."""

    columns: Mapping[str, tuple[str, ...]]
    default: str

    def __post_init__(self) -> None:
        if self.default.lstrip("-") not in self.columns:
            raise ValueError(f"the default sort {self.default!r} is not a column")

    def key(self, request) -> str:
        """The sort in effect: the query string's if it names a column, else the default."""
        raw = request.GET.get("sort", "")
        return raw if raw.lstrip("-") in self.columns and raw.count("-") <= 1 and raw else self.default

    def order_by(self, key: str) -> list[str]:
        descending = key.startswith("-")
        fields = [(_flip(f) if descending else f) for f in self.columns[key.lstrip("-")]]
        return [*fields, "-pk" if descending else "pk"]

    def apply(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*self.order_by(self.key(request)))


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


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

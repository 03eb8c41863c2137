"""The customer search's filters, declared once as a django-filter FilterSet. The
list page's search form takes its filter fields from it (`CustomerSearchForm`), so
does the Excel export (it posts that form), and the API validates its filter
parameters with it and documents them from it (`serializer_fields`). A filtered
search is then `SearchFilters` (`search_filters()`), the parameters the search is
built from (customers.search); a plain queryset can be filtered the same way
(`filter_queryset`)."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Branch
from core.forms import BootstrapFormMixin

from .choices import AccountCategory, CustomerStatus
from .models import Customer
from .search import SearchFilters

BLANK = [("", "—")]


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CustomerFilterForm(BootstrapFormMixin, forms.Form):
    """Validates the filters together: a known branch, bounds in order."""

    def clean_branch(self):
        code = self.cleaned_data["branch"]
        if code and not Branch.objects.filter(code=code).exists():
            raise ValidationError(
                _("No branch has the code %(code)s."), code="unknown_branch", params={"code": code}
            )
        return code

    def clean(self):
        data = super().clean()
        low, high = data.get("aum_min"), data.get("aum_max")
        if low is not None and high is not None and low > high:
            self.add_error("aum_max", ValidationError(_("The lower AUM bound is above the upper one.")))
        young, old = data.get("age_min"), data.get("age_max")
        if young is not None and old is not None and young > old:
            self.add_error("age_max", ValidationError(_("The lower age bound is above the upper one.")))
        return data


class CustomerFilterSet(django_filters.FilterSet):
    branch = django_filters.CharFilter(
        label=_("Branch code"), max_length=20, help_text=_("Branch code (and below).")
    )
    tier = django_filters.CharFilter(label=_("Tier"), max_length=20, help_text=_("Tier code."))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CustomerStatus.choices, empty_label="—")
    manager = django_filters.CharFilter(
        label=_("Manager (employee no.)"),
        max_length=20,
        help_text=_("Employee number of the manager of record."),
    )
    aum_min = django_filters.NumberFilter(
        label=_("AUM from"), min_value=0, max_digits=18, decimal_places=2, help_text=_("Minimum AUM (CNY).")
    )
    aum_max = django_filters.NumberFilter(
        label=_("AUM to"), min_value=0, max_digits=18, decimal_places=2, help_text=_("Maximum AUM (CNY).")
    )
    age_min = IntegerFilter(label=_("Age from"), min_value=0, max_value=130)
    age_max = IntegerFilter(label=_("Age to"), min_value=0, max_value=130)
    product = django_filters.ChoiceFilter(
        label=_("Holds"),
        choices=AccountCategory.choices,
        empty_label="—",
        help_text=_("An open account of this category is held."),
    )

    class Meta:
        model = Customer
        fields: list[str] = []
        form = CustomerFilterForm

    def search_filters(self) -> SearchFilters:
        """The filters as the search's parameters (after `is_valid()`)."""
        return from_cleaned(self.form.cleaned_data)

    def filter_queryset(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        filters = self.search_filters()
        branches = filters.branch_ids()
        if branches is not None:
            queryset = queryset.filter(home_branch_id__in=sorted(branches))
        return queryset.filter(filters.condition())


FILTER_NAMES = tuple(CustomerFilterSet.base_filters)


def filter_form_class() -> type[forms.Form]:
    """The form class of the filters (their fields, validated together)."""
    return CustomerFilterSet().get_form_class()


def from_cleaned(data: dict[str, Any]) -> SearchFilters:
    """SearchFilters from a form's cleaned data holding the filter fields."""
    return SearchFilters(
        **{name: data[name] if data.get(name) is not None else _empty(name) for name in FILTER_NAMES}
    )


def _empty(name: str) -> Any:
    return None if name.startswith(("aum_", "age_")) else ""


def serializer_fields() -> dict[str, serializers.Field]:
    """The filters as API parameters, for the schema and the first checks; the
    FilterSet's form validates them (`CustomerFilterSet(data).is_valid()`)."""
    fields: dict[str, serializers.Field] = {}
    for name, field in filter_form_class().base_fields.items():
        common: dict[str, Any] = {"required": False, "help_text": field.help_text or field.label}
        # the field's own limits (min_value, max_value, max_length) where it has them
        common |= {
            limit: value
            for limit in ("min_value", "max_value", "max_length")
            if (value := getattr(field, limit, None)) is not None
        }
        if isinstance(field, forms.ChoiceField):
            listed = cast("list[tuple[Any, Any]]", list(field.choices))  # type: ignore[arg-type]  # a list here
            choices = [(value, label) for value, label in listed if value != ""]
            fields[name] = serializers.ChoiceField(choices=choices, allow_blank=True, default="", **common)
        elif isinstance(field, forms.DecimalField):
            fields[name] = serializers.DecimalField(
                max_digits=field.max_digits,
                decimal_places=field.decimal_places,
                allow_null=True,
                default=None,
                coerce_to_string=False,
                **common,
            )
        elif isinstance(field, forms.IntegerField):
            fields[name] = serializers.IntegerField(allow_null=True, default=None, **common)
        else:
            fields[name] = serializers.CharField(allow_blank=True, default="", **common)
    return fields

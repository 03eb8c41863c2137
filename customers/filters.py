"""The customer search's filters, declared once as a django-filter FilterSet. The
list page's search form takes its filter fields from it (`CustomerSearchForm`), so
does the Excel export (it posts that form), and the API validates its filter
parameters with it and documents them from it (`serializer_fields`). A filtered
search is then `SearchFilters` (`search_filters()`), the parameters the search is
built from (customers.search); a plain queryset can be filtered the same way
(`filter_queryset`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, partial
from typing import Any, cast

import django_filters
from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Branch, User
from accounts.roles import Role
from accounts.scope import visible_branches
from core.forms import BootstrapFormMixin, QuickSelect
from core.labels import labels

from .choices import AccountCategory, CustomerStatus
from .models import Customer
from .search import SearchFilters


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CodeField(forms.ChoiceField):
    """A code (a branch, a tier, a manager's employee number): on a page a select of
    the codes the user may choose, each by its name (`CustomerFilterForm(user=...)`);
    without a user (the API) a code typed as it is, up to `max_length` characters.
    The form checks the code itself, to say what is wrong with it."""

    widget = forms.TextInput

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.validators.append(validators.MaxLengthValidator(max_length))

    def valid_value(self, value) -> bool:
        return True  # checked by the form's clean_<name>, with a message naming the code


class CodeFilter(django_filters.Filter):
    field_class = CodeField


def branch_choices(user) -> list[tuple[str, str]]:
    """The branches the user may see, as "11101 中关村网点", in the tree's order."""
    rows = visible_branches(user).order_by("path").values_list("code", "name")
    return [(code, f"{code} {name}") for code, name in rows]


def org_choices(user) -> tuple[list[tuple[str, str]], list[tuple[str, list[tuple[str, str]]]]]:
    """The branches the user may see, as "11101 中关村网点" in the tree's order, and
    the client managers of those branches (a manager who left still has customers
    of record) by name with their employee number, grouped by branch: one read."""
    branches = visible_branches(user)
    own = branches.annotate(number=Value(""), person=Value("")).values_list(
        "path", "code", "name", "number", "person"
    )
    managers = (
        User.objects.filter(branch__in=branches, groups__name=Role.CLIENT_MANAGER)
        .exclude(employee_no="")
        .annotate(person=Coalesce(NullIf("display_name", Value("")), "username"))
        .values_list("branch__path", "branch__code", "branch__name", "employee_no", "person")
    )
    # no ORDER BY in the parts (SQLite refuses it in a compound statement): sorted here
    rows = sorted(own.order_by().union(managers.order_by(), all=True))
    branch_list = [(code, f"{code} {name}") for _path, code, name, number, _person in rows if not number]
    groups: dict[str, list[tuple[str, str]]] = {}
    for _path, code, name, number, person in sorted(rows, key=lambda row: (row[0], row[4], row[3])):
        if number:
            groups.setdefault(f"{code} {name}", []).append((number, f"{person} ({number})"))
    return branch_list, list(groups.items())


class CustomerFilterForm(BootstrapFormMixin, forms.Form):
    """Validates the filters together: a known branch, bounds in order. Given the
    user (a page), the branch, tier and manager are selects of what the user may
    choose, by name, and a code outside them is refused with a message saying so."""

    CODE_FIELDS = ("branch", "tier", "manager")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is None:
            return
        empty = {"branch": _("All branches"), "tier": _("All tiers"), "manager": _("All managers")}
        for name in self.CODE_FIELDS:
            field = cast(CodeField, self.fields[name])
            field.widget = QuickSelect(attrs={"class": "form-select"})
            # read on first use (rendering or checking), once per form
            field.choices = partial(self._choices_with_empty, name, empty[name])

    def _choices_with_empty(self, name: str, empty: str) -> list:
        return [("", empty), *self._choices(name)]

    def _choices(self, name: str) -> list:
        cached = self.__dict__.setdefault("_code_choices", {})
        if name not in cached:
            if name == "tier":
                cached[name] = list(self.tier_labels.items())
            else:
                cached["branch"], cached["manager"] = org_choices(self.user)
        return cached[name]

    @cached_property
    def tier_labels(self) -> Mapping[str, str]:
        """The tier levels' names by code (read on first use), for the select and
        for the page's rows alike."""
        return labels("tier")

    def _codes(self, name: str) -> set[str]:
        codes: set[str] = set()
        for value, label in self._choices(name):
            if isinstance(label, (list, tuple)):
                codes.update(str(v) for v, _label in label)
            else:
                codes.add(str(value))
        return codes

    def clean_branch(self):
        code = self.cleaned_data["branch"]
        if not code or (self.user is not None and code in self._codes("branch")):
            return code
        if not Branch.objects.filter(code=code).exists():
            raise ValidationError(
                _("No branch has the code %(code)s."), code="unknown_branch", params={"code": code}
            )
        if self.user is not None:
            raise ValidationError(
                _("Branch %(code)s is outside the branches you may see: choose one from the list."),
                code="branch_out_of_scope",
                params={"code": code},
            )
        return code

    def clean_tier(self):
        code = self.cleaned_data["tier"]
        if code and self.user is not None and code not in self._codes("tier"):
            raise ValidationError(
                _("No tier level has the code %(code)s: choose one from the list."),
                code="unknown_tier",
                params={"code": code},
            )
        return code

    def clean_manager(self):
        number = self.cleaned_data["manager"]
        if number and self.user is not None and number not in self._codes("manager"):
            raise ValidationError(
                _(
                    "Employee %(number)s is not a client manager of the branches you may see: "
                    "choose one from the list."
                ),
                code="manager_out_of_scope",
                params={"number": number},
            )
        return number

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # marked for the eye and for assistive technology
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"{name}-error"

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
    # branch, tier and manager are codes (the API's contract); a page shows them as
    # selects of names (CustomerFilterForm(user=...))
    branch = CodeFilter(label=_("Branch"), max_length=20, help_text=_("Branch code (and below)."))
    tier = CodeFilter(label=_("Tier"), max_length=20, help_text=_("Tier code."))
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CustomerStatus.choices, empty_label=_("All statuses")
    )
    manager = CodeFilter(
        label=_("Manager"),
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
        empty_label=_("Any product"),
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
        if isinstance(field, CodeField):
            fields[name] = serializers.CharField(allow_blank=True, default="", **common)
        elif isinstance(field, forms.ChoiceField):
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

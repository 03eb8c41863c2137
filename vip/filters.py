"""The filters of the VIP list pages, declared once with django-filter: a manager's
book, the branch pool, the VIPs to be won and the VIP report (the page and its
Excel export read the same `ReportFilterSet`, so the export is what the page shows).

Every FilterSet here narrows rows already held to the user's data scope (the
view's `queryset`, `core.views.ScopedView`, or a selector's `visible_to(user)`):
the scope always comes first, never from a filter. None declares a model, so none
can start from a model's unscoped manager: it is always given its rows. Its form validates the query
string on the server and renders with the portal's Bootstrap classes; the
query-string names are the pages' own, so bookmarks keep working.

A page's form may also carry parameters that are not filters of its rows (the
cursor of a keyset-paged list, the months of the report): they are validated with
the filters, and the view reads them from `params`.

Where the values are known, a filter is a select of them by name, with a worded
empty choice ("All tiers", "All my branches"): the managers whose book the user
may open, the branches the user may see, the tiers, a prospect's status and
source. A value outside the user's scope is not a choice: the form says so."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, BranchLevel, User
from accounts.scope import visible_branches
from core.forms import BootstrapFormMixin
from customers.models import Customer

from .choices import ProspectSource, ProspectStatus
from .forms import date_widget
from .models import VipStatusChange
from .selectors import NO_TIER, book_managers, tier_names


class PageFilterSet(django_filters.FilterSet):
    """A FilterSet whose form may hold page parameters besides its filters: only
    the filters narrow the rows; a value that fails validation narrows nothing and
    is absent from `params`."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        data = self.form.cleaned_data
        for name, filter_ in self.filters.items():
            if name in data:
                queryset = filter_.filter(queryset, data[name])
        return queryset

    @property
    def params(self) -> dict[str, Any]:
        """The valid values of the query string, filters and page parameters."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        return self.form.cleaned_data


class FilterForm(BootstrapFormMixin, forms.Form):
    """The form of a FilterSet, with the portal's Bootstrap classes."""


# --- a manager's book --------------------------------------------------------------------------


class BookPageForm(FilterForm):
    # A cursor of a keyset page, prefixed with the sort it belongs to (vip.views._common).
    cursor = forms.CharField(required=False, max_length=240, widget=forms.HiddenInput)


def _tier_choices() -> list[tuple[str, str | Promise]]:
    # Withdrawn levels too: customers may still hold them.
    return [*tier_names().items(), (NO_TIER, _("No tier"))]


def _book_managers(request) -> QuerySet[User]:
    if request is None:
        return User.objects.none()
    return book_managers(request.user)


class ManagerField(forms.ModelChoiceField):
    """A client manager by name, with the employee number that tells two of the same
    name apart, and their outlet."""

    def label_from_instance(self, obj: User) -> str:
        label = f"{obj.display_name} ({obj.employee_no})"
        if obj.branch is not None:
            label = f"{label} · {obj.branch.name}"
        if not obj.is_active:
            label = f"{label} · {obj.get_status_display()}"
        return label


class ManagerFilter(django_filters.ModelChoiceFilter):
    field_class = ManagerField


class BookFilterSet(PageFilterSet):
    """A manager's book: whose (`manager`, by employee number: one of the managers
    whose book the user may open, pass `request`; none: the user's own) and the tier
    tabs (`tier=none`: customers without a tier)."""

    manager = ManagerFilter(
        label=_("Client manager"),
        queryset=_book_managers,
        to_field_name="employee_no",
        empty_label=_("My own customers"),
        method="filter_manager",
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a client manager whose customers you may see: choose one from the list."
            )
        },
    )
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), choices=_tier_choices, empty_label=_("All tiers"), method="filter_tier"
    )

    class Meta:
        form = BookPageForm

    def filter_manager(self, queryset: QuerySet[Customer], name: str, manager: User) -> QuerySet[Customer]:
        return queryset.filter(primary_manager=manager)

    def filter_tier(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.filter(tier="" if value == NO_TIER else value)


# --- the branch pool ----------------------------------------------------------------------------


class PoolPageForm(FilterForm):
    # A cursor of a keyset page, prefixed with the sort it belongs to (vip.views._common).
    cursor = forms.CharField(required=False, max_length=240, widget=forms.HiddenInput)


def _branches_in_scope(request) -> QuerySet[Branch]:
    if request is None:
        return Branch.objects.none()
    return visible_branches(request.user).order_by("path")


class BranchField(forms.ModelChoiceField):
    """A branch by name, indented under the branch above it."""

    def label_from_instance(self, obj: Branch) -> str:
        return "\u3000" * obj.level + obj.name


class BranchFilter(django_filters.ModelChoiceFilter):
    field_class = BranchField


class PoolFilterSet(PageFilterSet):
    """The pool of one branch and the branches below it, chosen by name (the query
    string holds its code): a branch the user may see (pass `request`)."""

    branch = BranchFilter(
        label=_("Branch"),
        queryset=_branches_in_scope,
        to_field_name="code",
        empty_label=_("All my branches"),
        method="filter_branch",
        error_messages={"invalid_choice": _("No branch with this code in your scope.")},
    )

    class Meta:
        form = PoolPageForm

    def filter_branch(self, queryset: QuerySet[Customer], name: str, branch: Branch) -> QuerySet[Customer]:
        # A list of ids, not a subquery: the planner then knows how many customers
        # they hold (as for the data scope, customers.querysets.ScopeRule).
        subtree = list(Branch.objects.subtree(branch).values_list("pk", flat=True))
        return queryset.filter(home_branch_id__in=subtree)


# --- VIPs to be won -----------------------------------------------------------------------------


class ProspectFilterForm(FilterForm):
    """Ids of its own: the page's form to register a prospect names a source too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_filter_%s")
        super().__init__(*args, **kwargs)


class ProspectFilterSet(PageFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ProspectStatus.choices, empty_label=_("All statuses")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=ProspectSource.choices, empty_label=_("All sources")
    )

    class Meta:
        form = ProspectFilterForm


# --- the VIP report -----------------------------------------------------------------------------


def month_choices(count: int = 24) -> list[tuple[str, str]]:
    """The last `count` months, this one first, as YYYY-MM."""
    today = timezone.localdate().replace(day=1)
    months = []
    for k in range(count):
        index = today.year * 12 + today.month - 1 - k
        month = datetime.date(index // 12, index % 12 + 1, 1)
        months.append((month.strftime("%Y-%m"), month.strftime("%Y-%m")))
    return months


class ReportPageForm(FilterForm):
    """The report's parameters besides its period: the branch level it rolls up to
    and the two months of the tier migration. Missing values take the defaults
    (per branch; from last month to this month; this month so far)."""

    level = forms.TypedChoiceField(
        label=_("Per"),
        coerce=int,
        required=False,
        choices=[
            (BranchLevel.BRANCH, _("Branch")),
            (BranchLevel.SUB_BRANCH, _("Sub-branch")),
            (BranchLevel.OUTLET, _("Outlet")),
        ],
    )
    month_from = forms.ChoiceField(label=_("Migration from month"), required=False)
    month_to = forms.ChoiceField(label=_("to month"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = month_choices()
        self.fields["month_from"].choices = choices
        self.fields["month_to"].choices = choices

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["level"] = data.get("level") or BranchLevel.BRANCH
        month_to = data.get("month_to") or today.strftime("%Y-%m")
        default_from = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
        month_from = data.get("month_from") or default_from
        data["month_from"] = datetime.date.fromisoformat(month_from + "-01")
        data["month_to"] = datetime.date.fromisoformat(month_to + "-01")
        if data["month_from"] > data["month_to"]:
            self.add_error("month_to", _("The second month must not be before the first."))
        data["start"] = data.get("start") or today.replace(day=1)
        data["end"] = data.get("end") or today
        if data["start"] > data["end"]:
            self.add_error("end", _("The end must not be before the start."))
        return data


class ReportFilterSet(PageFilterSet):
    """The VIP report's filters, one set for the page and its export. The period
    (`start`, `end`) narrows each history the report reads, VIP status changes and
    tier changes, already in the user's scope (`selectors.won_and_lost`); the level
    and the months are parameters of the figures by branch and of the migration.
    It has no rows of its own (`qs` is empty)."""

    start = django_filters.DateFilter(
        field_name="effective_date", lookup_expr="gte", label=_("Won / lost from"), widget=date_widget()
    )
    end = django_filters.DateFilter(
        field_name="effective_date", lookup_expr="lte", label=_("to"), widget=date_widget()
    )

    class Meta:
        form = ReportPageForm

    def __init__(self, data=None, *, request=None):
        super().__init__(data, queryset=VipStatusChange.objects.none(), request=request)

"""The filters of the marketing lists, declared with django-filter.

A list page narrows its rows to the user's scope first (`core.views.ScopedView`,
`visible_to(user)`) and hands only those rows to its FilterSet: no filter value can
reach a row outside the scope, and the FilterSets declare no model, so none can
start from an unscoped manager. A choice of branch or campaign is offered, and
accepted, only among those the user may see.

Every value is validated: an unknown code or an id that is not among the choices is
a form error, which the page answers with 400 and the message, never a silently
ignored filter. The query-string names are the pages' own (`status`, `excluded`,
`all`, `on_sale`), so bookmarks keep working.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scope import visible_branches
from core.forms import BootstrapFormMixin
from customers.choices import AccountCategory
from vip.selectors import managers_in_scope

from .channels import channel_choices
from .choices import (
    OPEN_STAGES,
    OPEN_TARGET_STATUSES,
    CampaignObjective,
    CampaignStatus,
    IndicatorKind,
    OpportunityStage,
    TargetStatus,
    TaskStatus,
)
from .models import Campaign, Indicator, Product, Segment
from .selectors import on_sale

# The value a two-way switch of a list takes in the query string (`?excluded=1`).
ON = "1"


class FilterForm(BootstrapFormMixin, forms.Form):
    """A filter bar: small Bootstrap controls; a changed choice applies at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] += " form-select-sm"
                widget.attrs["data-autosubmit"] = ""
            else:
                widget.attrs["class"] += " form-control-sm"


class PersonChoiceField(forms.ModelChoiceField):
    """A colleague by name (and branch, when read with it), not by employee number."""

    def label_from_instance(self, obj) -> str:
        name = obj.display_name or obj.username
        if "branch" in obj._state.fields_cache and obj.branch is not None:
            return f"{name} · {obj.branch.name}"
        return name


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class ListFilter(django_filters.FilterSet):
    class Meta:
        form = FilterForm


def _visible_branches(request) -> QuerySet:
    return visible_branches(request.user).order_by("path")


def _visible_campaigns(request) -> QuerySet:
    return Campaign.objects.visible_to(request.user).order_by("-start_date", "-id")


def _managers(request) -> QuerySet:
    """The client managers of the user's scope, by branch."""
    return managers_in_scope(request.user).order_by("branch__path", "employee_no")


def _segment_owners(request) -> QuerySet:
    """Everyone who owns a segment the user may see."""
    owners = Segment.objects.visible_to(request.user).values("owner_id")
    return User.objects.filter(pk__in=owners).order_by("display_name", "pk")


def _running_campaigns(request) -> QuerySet:
    return _visible_campaigns(request).filter(status=CampaignStatus.RUNNING)


# --- products and segments ------------------------------------------------------------------


class ProductFilter(ListFilter):
    on_sale = django_filters.ChoiceFilter(
        label=_("Products"),
        choices=[(ON, _("On sale today"))],
        empty_label=_("All products"),
        method="filter_on_sale",
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=AccountCategory.choices, empty_label=_("All categories")
    )

    def filter_on_sale(self, products, name, value):
        return on_sale(products, on=timezone.localdate())


class SegmentFilter(ListFilter):
    q = django_filters.CharFilter(
        label=_("Segment"), field_name="name", lookup_expr="icontains", max_length=100
    )
    owner = PersonFilter(
        label=_("Owner"),
        queryset=_segment_owners,
        empty_label=_("All owners"),
    )


class IndicatorFilter(ListFilter):
    """The indicator library: words of the code, name or description, a kind,
    switched on or off."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=IndicatorKind.choices, empty_label=_("All kinds")
    )
    active = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[("1", _("Active")), ("0", _("Switched off"))],
        empty_label=_("All statuses"),
        method="filter_active",
    )

    def search(self, indicators, name, value):
        words = Q()
        for word in value.split():
            words &= Q(code__icontains=word) | Q(name__icontains=word) | Q(description__icontains=word)
        return indicators.filter(words)

    def filter_active(self, indicators, name, value):
        return indicators.filter(active=value == "1")


# --- campaigns and their targets ---------------------------------------------------------------


class CampaignFilter(ListFilter):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CampaignStatus.choices, empty_label=_("All statuses")
    )
    objective = django_filters.ChoiceFilter(
        label=_("Objective"), choices=CampaignObjective.choices, empty_label=_("All objectives")
    )
    # the channels of the list by name, switched-off ones too (campaigns keep them);
    # read once per page, in __init__
    channel = django_filters.ChoiceFilter(
        label=_("Channel"),
        choices=(),
        empty_label=_("All channels"),
        method="filter_channel",
    )
    product = django_filters.ModelChoiceFilter(
        label=_("Product"),
        queryset=Product.objects.order_by("category", "code"),
        empty_label=_("All products"),
        field_name="products",
        distinct=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["channel"].extra["choices"] = channel_choices(switched_off=True)

    def filter_channel(self, campaigns, name, value):
        return campaigns.filter(channels__has_item=value)


class CampaignTargetFilter(ListFilter):
    """A campaign's members: its targets by default, or the excluded ones
    (`?excluded=1`), by where they stand and by branch (the branch and all below)."""

    excluded = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[(ON, _("Excluded members"))],
        empty_label=_("Targets"),
        method="filter_excluded",
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=TargetStatus.choices, empty_label=_("All statuses")
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"),
        queryset=_visible_branches,
        empty_label=_("All branches"),
        method="filter_branch",
    )
    manager = PersonFilter(
        label=_("Client manager"),
        queryset=_managers,
        to_field_name="employee_no",
        empty_label=_("All managers"),
    )

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("excluded") != ON:
            queryset = queryset.filter(excluded_reason="")
        return super().filter_queryset(queryset)

    def filter_excluded(self, targets, name, value):
        return targets.exclude(excluded_reason="")

    def filter_branch(self, targets, name, branch):
        return targets.filter(branch__path__startswith=branch.path)


class MyTargetFilter(ListFilter):
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campaign"), queryset=_running_campaigns, empty_label=_("All campaigns")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in OPEN_TARGET_STATUSES],
        empty_label=_("All open statuses"),
    )


# --- opportunities ------------------------------------------------------------------------------


class OpportunityFilter(ListFilter):
    """Open opportunities by default; `?all=1` includes the closed ones, and a
    chosen stage shows that stage, open or closed."""

    all = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[(ON, _("Include closed"))],
        empty_label=_("Open only"),
        method="include_closed",
    )
    stage = django_filters.ChoiceFilter(
        label=_("Stage"), choices=OpportunityStage.choices, empty_label=_("All stages")
    )
    product = django_filters.ModelChoiceFilter(
        label=_("Product"),
        queryset=Product.objects.order_by("category", "code"),
        empty_label=_("All products"),
    )
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campaign"), queryset=_visible_campaigns, empty_label=_("All campaigns")
    )
    manager = PersonFilter(
        label=_("Owner"),
        queryset=_managers,
        to_field_name="employee_no",
        empty_label=_("All managers"),
    )

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        if data.get("all") != ON and not data.get("stage"):
            queryset = queryset.filter(stage__in=OPEN_STAGES)
        return super().filter_queryset(queryset)

    def include_closed(self, opportunities, name, value):
        return opportunities


# --- marketing tasks ----------------------------------------------------------------------------


class TaskFilter(ListFilter):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=TaskStatus.choices, empty_label=_("All statuses")
    )
    indicator = django_filters.ModelChoiceFilter(
        label=_("Indicator"),
        queryset=Indicator.objects.all(),
        to_field_name="code",
        empty_label=_("All indicators"),
        # the words of any other choice filter's refusal (Django's own msgid)
        error_messages={
            "invalid_choice": _("Select a valid choice. %(value)s is not one of the available choices.")
        },
    )

"""The forms of credit-report queries: an authorization, a query request, a decision's
note, and the queries list's filter. They validate input; the services decide
(credit.services)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin
from marketing.filters import FilterForm, ListFilter, PersonFilter

from . import query_selectors
from .choices import QueryPurpose, QueryStatus


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuthorizationForm(BootstrapFormMixin, forms.Form):
    form_reference = forms.CharField(
        label=_("Scanned form reference"),
        max_length=60,
        help_text=_("The reference of the signed form in the imaging system."),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("Choose a purpose")), *QueryPurpose.choices]
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=_date())
    valid_until = forms.DateField(label=_("Valid until"), widget=_date())

    def __init__(self, *args, **kwargs):
        # the page holds the request form too, which has a purpose of its own
        kwargs.setdefault("auto_id", "authorization_%s")
        super().__init__(*args, **kwargs)


class QueryRequestForm(BootstrapFormMixin, forms.Form):
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("Choose a purpose")), *QueryPurpose.choices]
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "query_%s")
        super().__init__(*args, **kwargs)


class NoteForm(BootstrapFormMixin, forms.Form):
    """A decision's note (a rejection's reason; the service wants one to reject)."""

    note = forms.CharField(label=_("Note"), max_length=200, required=False)


# --- the list's filter ------------------------------------------------------------------------


def _requesters(request):
    return query_selectors.requesters(request.user)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class QueryFilterForm(FilterForm):
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError(_("The date range ends before it starts."))
        return data


class QueryFilter(ListFilter):
    """Queries by customer number, status, purpose, who asked, and the days asked."""

    class Meta:
        form = QueryFilterForm

    q = django_filters.CharFilter(
        label=_("Customer number"), field_name="customer__customer_no", max_length=20
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=QueryStatus.choices, empty_label=_("All statuses")
    )
    purpose = django_filters.ChoiceFilter(
        label=_("Purpose"), choices=QueryPurpose.choices, empty_label=_("All purposes")
    )
    requester = PersonFilter(
        label=_("Requested by"),
        queryset=_requesters,
        field_name="proposed_by",
        to_field_name="employee_no",
        empty_label=_("Everyone"),
    )
    date_from = django_filters.DateFilter(label=_("Asked from"), method="filter_from", widget=_date())
    date_to = django_filters.DateFilter(label=_("Asked until"), method="filter_to", widget=_date())

    def filter_from(self, queries, name, day):
        return queries.filter(proposed_at__gte=_start_of(day))

    def filter_to(self, queries, name, day):
        return queries.filter(proposed_at__lt=_start_of(day + datetime.timedelta(days=1)))

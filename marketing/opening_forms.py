"""The forms of account-opening requests: a new request, its appointment, its
cancellation, and the list's filter. They validate input; the services decide."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.forms import BootstrapFormMixin

from . import openings
from .choices import OpeningStatus
from .filters import ON, FilterForm, ListFilter
from .models import Channel, Product
from .selectors import on_sale


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class BranchChoiceField(forms.ModelChoiceField):
    """A branch by its name, never its code."""

    def label_from_instance(self, obj) -> str:
        return obj.name


class AppointmentFields(forms.Form):
    """A day and a time, read as one moment in the bank's time zone."""

    appointment_date = forms.DateField(label=_("Appointment day"), required=False, widget=_date())
    appointment_time = forms.TimeField(label=_("Appointment time"), required=False, widget=_time())
    appointment_required = False

    def clean(self):
        data = super().clean()
        day, time = data.get("appointment_date"), data.get("appointment_time")
        if day and not time:
            self.add_error("appointment_time", _("Give the time of the appointment."))
        elif time and not day:
            self.add_error("appointment_date", _("Give the day of the appointment."))
        elif not day and self.appointment_required and "appointment_date" not in self.errors:
            self.add_error("appointment_date", _("Give the day and time of the appointment."))
        data["appointment_at"] = (
            timezone.make_aware(datetime.datetime.combine(day, time)) if day and time else None
        )
        return data


class OpeningRequestForm(BootstrapFormMixin, AppointmentFields):
    """A new request of one customer: the product, where and through which channel,
    when (optional) and how much. The channels and branches offered are those the
    service accepts."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), empty_label=_("Choose a product")
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.none(), empty_label=_("Choose a channel")
    )
    branch = BranchChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), empty_label=_("Choose a branch")
    )
    expected_amount = forms.DecimalField(
        label=_("Expected amount (CNY)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=2,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    field_order = [
        "product",
        "channel",
        "branch",
        "appointment_date",
        "appointment_time",
        "expected_amount",
        "note",
    ]

    def __init__(self, *args, user, customer, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        products = cast(forms.ModelChoiceField, self.fields["product"])
        products.queryset = on_sale(Product.objects.all(), on=today).order_by("category", "code")
        channels = openings.channels_for(product)
        # the product's own channels come first; any channel in use is accepted
        channel = cast(forms.ModelChoiceField, self.fields["channel"])
        channel.queryset = Channel.objects.filter(is_active=True)
        channel.choices = [("", _("Choose a channel"))] + [(c.pk, c.name) for c in channels]
        branches = cast(forms.ModelChoiceField, self.fields["branch"])
        branches.queryset = openings.service_branches(user, customer).order_by("path")
        if product is not None and not self.is_bound:
            own = [c for c in channels if c.code in (product.channels or [])]
            if own:
                self.initial.setdefault("channel", own[0].pk)


class AppointmentForm(BootstrapFormMixin, AppointmentFields):
    appointment_required = True


class CancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Why cancelled"), max_length=200)


# --- the list's filter ------------------------------------------------------------------------


def _branches(request):
    return openings.calendar_branches(request.user)


def _channels(request):
    return Channel.objects.order_by("position", "code")


class ChannelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class BranchFilter(django_filters.ModelChoiceFilter):
    field_class = BranchChoiceField


class ChannelFilter(django_filters.ModelChoiceFilter):
    field_class = ChannelChoiceField


class OpeningFilterForm(FilterForm):
    def clean(self):
        data = super().clean()
        start, end = data.get("appointment_from"), data.get("appointment_to")
        if start and end and end < start:
            raise ValidationError(_("The appointment range ends before it starts."))
        return data


class OpeningFilter(ListFilter):
    """Requests by customer (number or name), status, branch (and those below it),
    channel, product, overdue only, and the appointment's days."""

    class Meta:
        form = OpeningFilterForm

    q = django_filters.CharFilter(label=_("Customer"), method="search", max_length=60)
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=OpeningStatus.choices, empty_label=_("All statuses")
    )
    branch = BranchFilter(
        label=_("Branch"), queryset=_branches, empty_label=_("All branches"), method="filter_branch"
    )
    channel = ChannelFilter(label=_("Channel"), queryset=_channels, empty_label=_("All channels"))
    product = django_filters.ModelChoiceFilter(
        label=_("Product"),
        queryset=Product.objects.order_by("category", "code"),
        empty_label=_("All products"),
    )
    overdue = django_filters.ChoiceFilter(
        label=_("Overdue"),
        choices=[(ON, _("Overdue only"))],
        empty_label=_("Overdue or not"),
        method="filter_overdue",
    )
    appointment_from = django_filters.DateFilter(
        label=_("Appointment from"), field_name="appointment_at", method="filter_from", widget=_date()
    )
    appointment_to = django_filters.DateFilter(
        label=_("Appointment until"), field_name="appointment_at", method="filter_to", widget=_date()
    )

    def search(self, requests, name, value):
        value = value.strip()
        if not value:
            return requests
        return requests.filter(Q(customer__customer_no=value) | Q(customer__name__icontains=value))

    def filter_branch(self, requests, name, branch):
        return requests.filter(branch__path__startswith=branch.path)

    def filter_overdue(self, requests, name, value):
        return requests.filter(openings.overdue_condition(timezone.localdate()))

    def filter_from(self, requests, name, day):
        return requests.filter(appointment_at__gte=openings.start_of(day))

    def filter_to(self, requests, name, day):
        return requests.filter(appointment_at__lt=openings.start_of(day + datetime.timedelta(days=1)))

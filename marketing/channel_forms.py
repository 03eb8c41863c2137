"""The channels pages' forms: the list's search and filter, a channel's form and
the switch's answer."""

from __future__ import annotations

from typing import cast

import django_filters
from django import forms
from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import BootstrapFormMixin

from .filters import ListFilter
from .models import Channel

IN_USE, SWITCHED_OFF = "1", "0"


class ChannelFilter(ListFilter):
    """Words of the name or code; in use or switched off."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=60)
    active = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(IN_USE, _("In use")), (SWITCHED_OFF, _("Switched off"))],
        empty_label=_("All statuses"),
        method="filter_active",
    )

    def search(self, channels, name, value):
        words = Q()
        for word in value.split():
            words &= Q(code__icontains=word) | Q(name__icontains=word)
        return channels.filter(words)

    def filter_active(self, channels, name, value):
        return channels.filter(is_active=value == IN_USE)


class ChannelForm(BootstrapFormMixin, forms.ModelForm):
    """A channel: its code (a slug, unique, set once), name, how it contacts
    customers and the transaction channel core banking reports it under, each a
    labelled select whose empty choice says what it means."""

    class Meta:
        model = Channel
        fields = ["code", "name", "contact_channel", "transaction_channel", "position", "description"]
        labels = {"name": pgettext_lazy("thing", "Name")}
        help_texts = {
            "code": _("Lower-case letters, digits, - and _; products and campaigns name the channel by it."),
            "position": _("Where the channel comes in lists: smaller first."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"code": {"unique": _("Another channel has this code already.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
        elif not self.is_bound:
            last = Channel.objects.aggregate(last=Max("position"))["last"] or 0
            self.initial.setdefault("position", last + 10)
        for name, empty in (
            ("contact_channel", _("Does not contact customers")),
            ("transaction_channel", _("No transactions of its own")),
        ):
            field = cast(forms.ChoiceField, self.fields[name])
            field.choices = [("", empty), *((v, label) for v, label in field.choices if v != "")]


class SwitchForm(forms.Form):
    """Switch on (1) or off (0)."""

    active = forms.TypedChoiceField(
        choices=[(IN_USE, _("In use")), (SWITCHED_OFF, _("Switched off"))],
        coerce=lambda value: value == IN_USE,
    )

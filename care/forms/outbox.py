"""Forms of the outbox page (its filter bar) and of a customer's service
subscriptions. Every value is validated on the server."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin

from ..choices import MessageChannel, MessageStatus, ServiceKind, SubscriptionChannel
from ..models.subscriptions import SERVICE_CHANNELS


def _blank(label) -> list:
    return [("", label)]


class OutboxFilterForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(_("All statuses")) + list(MessageStatus.choices)
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=_blank(_("All channels"))
        + [(c.value, c.label) for c in (MessageChannel.SMS, MessageChannel.EMAIL)],
    )
    date_from = forms.DateField(
        label=_("Queued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Queued until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The first date is after the second."))
        return data


class SubscriptionForm(BootstrapFormMixin, forms.Form):
    service = forms.ChoiceField(label=_("Service"), choices=ServiceKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=SubscriptionChannel.choices)
    consent_date = forms.DateField(
        label=_("Consent date"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean_consent_date(self):
        value = self.cleaned_data["consent_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The consent date cannot be in the future."))
        return value

    def clean(self):
        data = super().clean()
        service, channel = data.get("service"), data.get("channel")
        if service and channel and channel not in SERVICE_CHANNELS[service]:
            self.add_error("channel", _("This service is not offered on that channel."))
        return data


class CancelSubscriptionForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Why"), required=False, max_length=200)

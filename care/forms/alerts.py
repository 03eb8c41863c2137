"""Forms of the alert pages: the list's filter bar and the small forms that close,
snooze, dismiss or hand over an alert. They check the input; the services decide
who may do what."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.people import person_choices
from core.forms import BootstrapFormMixin
from customers.choices import InteractionKind

from ..choices import AlertKind, AlertOutcome, AlertPriority
from ..services.alerts import CONTACT_CHANNELS

STATUS_FILTERS = [
    ("open", _("Open")),
    ("snoozed", _("Snoozed")),
    ("done", _("Done")),
    ("dismissed", _("Dismissed")),
    ("all", _("All statuses")),
]
DUE_FILTERS = [
    ("", _("Any time")),
    ("overdue", _("Overdue")),
    ("today", _("Due today")),
    ("week", _("Due this week")),
]


class AlertFilterForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *AlertKind.choices]
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTERS)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any priority")), *AlertPriority.choices],
    )
    due = forms.ChoiceField(label=_("Due"), required=False, choices=DUE_FILTERS)
    manager = forms.ChoiceField(
        label=_("Manager"),
        required=False,
        error_messages={"invalid_choice": _("This manager is not in your scope: choose one from the list.")},
    )
    q = forms.CharField(label=_("Customer number"), required=False, max_length=32)

    def __init__(self, *args, managers: Iterable[User] | None = None, **kwargs):
        """`managers`: those whose alerts the user may filter by (a branch head's
        team, head office everyone); None for a client manager, who has no such filter."""
        super().__init__(*args, **kwargs)
        if managers is None:
            del self.fields["manager"]
        else:
            cast(forms.ChoiceField, self.fields["manager"]).choices = person_choices(
                managers, _("All managers")
            )

    def clean_q(self) -> str:
        return (self.cleaned_data.get("q") or "").strip()

    def clean_manager(self) -> str:
        return (self.cleaned_data.get("manager") or "").strip()


class AlertDoneForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AlertOutcome.choices)
    channel = forms.ChoiceField(
        label=_("Reached by"),
        required=False,
        initial=InteractionKind.CALL,
        choices=[(c.value, c.label) for c in CONTACT_CHANNELS],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.TextInput)

    def clean_channel(self) -> str:
        return self.cleaned_data.get("channel") or InteractionKind.CALL


class AlertSnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))


class AlertDismissForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.TextInput)

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise forms.ValidationError(_("Say why the alert is dismissed."))
        return reason


class AlertHandOverForm(forms.Form):
    to_manager = forms.ChoiceField(label=_("Hand over to"))
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.TextInput)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_manager"].choices = [
            ("", _("Choose a manager")),
            *((u.employee_no, u.display_name or u.get_full_name() or u.username) for u in candidates),
        ]

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise forms.ValidationError(_("Say why the alert is handed over."))
        return reason

"""Forms of the work plan, the visit journal and own reminders. They check the shape
of what is typed; the services check it again and check the scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.people import person_choices
from core.forms import BootstrapFormMixin
from marketing.models import Product

from ..choices import JournalKind, PlanKind, PlanRecurrence, VisitPurpose


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PlanItemForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    customer_no = forms.CharField(
        label=_("Customer number"), max_length=20, required=False, help_text=_("Leave empty for a to-do.")
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    start_date = forms.DateField(label=_("Date"), widget=_date())
    start_time = forms.TimeField(label=_("From"), required=False, widget=_time())
    end_time = forms.TimeField(label=_("Until"), required=False, widget=_time())
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=PlanRecurrence.choices)
    recur_until = forms.DateField(label=_("Repeats until"), required=False, widget=_date())
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    alert = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if end is not None and start is None:
            self.add_error("start_time", _("Give the start time of a plan with an end time."))
        elif start is not None and end is not None and end <= start:
            self.add_error("end_time", _("The end must be after the start."))
        if data.get("recurrence") not in (None, PlanRecurrence.NONE):
            until, first = data.get("recur_until"), data.get("start_date")
            if until is None:
                self.add_error("recur_until", _("Say until when it repeats."))
            elif first is not None and until < first:
                self.add_error("recur_until", _("It cannot repeat until a day before it starts."))
        return data


class CompleteForm(forms.Form):
    """Which occurrence of a recurring item is done."""

    on = forms.DateField(required=False)


class JournalEntryForm(BootstrapFormMixin, forms.Form):
    customer_no = forms.CharField(label=_("Customer number"), max_length=20)
    kind = forms.ChoiceField(label=_("Contact"), choices=JournalKind.choices)
    visited_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=VisitPurpose.choices)
    products = forms.ModelMultipleChoiceField(
        label=_("Products discussed"),
        queryset=Product.objects.filter(is_active=True).order_by("code"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    feedback = forms.CharField(
        label=_("Customer's feedback"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # how satisfied the customer said they were (the customer analysis' satisfaction
    # averages the ratings of 12 months); optional: not every contact asks
    satisfaction = forms.TypedChoiceField(
        label=_("Customer's satisfaction"),
        choices=[("", _("Not asked")), *((n, str(n)) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("1 not satisfied at all, 5 very satisfied"),
        error_messages={"invalid_choice": _("Rate the satisfaction from 1 to 5, or leave it empty.")},
    )
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_step_date = forms.DateField(
        label=_("Next step date"),
        required=False,
        widget=_date(),
        help_text=_("A date puts the next step in your plan."),
    )
    confidential = forms.BooleanField(
        label=_("Confidential"), required=False, help_text=_("Shown to you and your branch head only.")
    )

    def clean(self):
        data = super().clean()
        if data.get("next_step_date") and not data.get("next_step"):
            self.add_error("next_step", _("Say what the next step is."))
        return data


class OwnReminderForm(BootstrapFormMixin, forms.Form):
    customer_no = forms.CharField(label=_("Customer number"), max_length=20, required=False)
    on = forms.DateField(label=_("Remind me on"), widget=_date())
    text = forms.CharField(label=_("Reminder"), max_length=200)


class JournalFilterForm(BootstrapFormMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=_date())
    date_to = forms.DateField(label=_("To"), required=False, widget=_date())
    customer_no = forms.CharField(label=_("Customer number"), max_length=20, required=False)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("All purposes")), *VisitPurpose.choices], required=False
    )
    manager = forms.ChoiceField(
        label=_("Manager"),
        required=False,
        error_messages={"invalid_choice": _("No manager with this employee number in your team.")},
    )

    def __init__(self, *args, managers: Iterable[User] | None = None, **kwargs):
        """`managers`: the team whose journal the user reads (None for a client manager,
        who reads their own journal only and has no manager filter)."""
        super().__init__(*args, **kwargs)
        if managers is None:
            del self.fields["manager"]
        else:
            self.managers = {m.employee_no: m for m in managers if m.employee_no}
            cast(forms.ChoiceField, self.fields["manager"]).choices = person_choices(
                self.managers.values(), _("The whole team")
            )

    def clean_manager(self) -> User | None:
        number = self.cleaned_data.get("manager") or ""
        return self.managers.get(number) if number else None

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end must be after the start."))
        return data

"""The forms of the audit pages: the trail's filters, the report's, a review, a month."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin

from .audit_display import action_choices
from .models import FindingRule, ReviewOutcome
from .scope import visible_branches

REPORT_DAYS = 7  # the report's default range: the last week
MAX_REPORT_DAYS = 92


def _date_field(label) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class _DateRangeForm(BootstrapFormMixin, forms.Form):
    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class AuditLogFilterForm(_DateRangeForm):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    branch: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Branch"), queryset=None, required=False, to_field_name="code"
    )
    target = forms.CharField(label=_("Target"), required=False, max_length=200)

    field_order = ["action", "actor", "branch", "target", "date_from", "date_to"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All actions")), *action_choices()]
        self.fields["branch"].queryset = visible_branches(user)
        self.fields["branch"].empty_label = _("All branches")
        self.fields["actor"].widget.attrs["placeholder"] = _("Username, employee number or name")
        self.fields["target"].widget.attrs["placeholder"] = _("Target")


class FindingFilterForm(_DateRangeForm):
    rule = forms.ChoiceField(label=_("Rule"), required=False)
    user = forms.CharField(label=_("Username"), required=False, max_length=150)
    show_reviewed = forms.BooleanField(label=_("Show reviewed findings"), required=False)

    field_order = ["date_from", "date_to", "rule", "user", "show_reviewed"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("All rules")), *FindingRule.choices]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - datetime.timedelta(days=REPORT_DAYS - 1)
        if date_from > date_to:
            return data  # refused above
        if (date_to - date_from).days >= MAX_REPORT_DAYS:
            raise forms.ValidationError(
                _("The report covers at most %(days)s days.") % {"days": MAX_REPORT_DAYS}
            )
        data["date_from"], data["date_to"] = date_from, date_to
        return data


class FindingReviewForm(BootstrapFormMixin, forms.Form):
    rule = forms.ChoiceField(choices=FindingRule.choices, widget=forms.HiddenInput)
    username = forms.CharField(max_length=150, widget=forms.HiddenInput)
    day = forms.DateField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReviewOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=500, widget=forms.TextInput)


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthForm(BootstrapFormMixin, forms.Form):
    month = forms.CharField(label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    branch: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Branch"), queryset=None, required=False, to_field_name="code"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user)
        self.fields["branch"].empty_label = _("All branches")

    def clean_month(self) -> datetime.date:
        text = self.cleaned_data.get("month") or ""
        if not text:
            return timezone.localdate().replace(day=1)
        match = MONTH.match(text)
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)

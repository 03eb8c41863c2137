"""Forms of the drill-down below a customer and of disputes: checked on the server,
messages in words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.approvals import ApprovalStatus
from core.forms import BootstrapFormMixin

from .choices import DisputeClaim


class DisputeForm(BootstrapFormMixin, forms.Form):
    claim = forms.ChoiceField(label=_("Claim"), choices=DisputeClaim.choices)
    first_day = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Reason"), min_length=4, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            raise forms.ValidationError(_("The last day comes before the first."))
        return data


class DecisionForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    manager = forms.CharField(
        label=_("The days count for"),
        required=False,
        max_length=20,
        help_text=_("For a claim that the days are not the manager's: empty gives them to the branch pool."),
    )


class DisputeListForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ApprovalStatus.choices],
    )

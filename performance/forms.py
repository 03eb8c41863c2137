from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin

from .models import Period
from .parameters import CATEGORIES, category_label, spread_text, spreads_for


class FtpProposalForm(BootstrapFormMixin, forms.Form):
    """New spreads for some categories, for the bank's default or one period. A
    category left blank keeps its spread; the values are checked by the service."""

    period = forms.ModelChoiceField(
        label=_("For"),
        queryset=Period.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("Bank default (every period without spreads of its own)"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    field_order = ["period", *CATEGORIES, "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        in_force = spreads_for(None)
        for category in CATEGORIES:
            self.fields[category] = forms.CharField(
                label=category_label(category),
                required=False,
                max_length=20,
                widget=forms.TextInput(
                    attrs={
                        "class": "form-control",
                        "placeholder": spread_text(in_force[category]),
                        "inputmode": "decimal",
                    }
                ),
            )
        self.order_fields(self.field_order)

    def spreads(self) -> dict[str, str]:
        """The categories given a value."""
        return {c: v.strip() for c in CATEGORIES if (v := self.cleaned_data.get(c, "")).strip()}


class NoteForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

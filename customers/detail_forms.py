"""Forms of the 360 view: the reveal dialog (what to reveal and why) and the records
a manager keeps about a customer (relationships, household, other assets). They
check what a person typed; the services (`customers.services.pii_reveals`,
`customers.records`) check again and decide."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import BootstrapFormMixin

from .choices import AssetKind, HouseholdRole, RelationType, RevealField

MAX_REVEALS = 40  # values one dialog may reveal at once
CUSTOMER_NO_HELP = _("The customer number, if they are a customer of the bank.")


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RevealChoiceForm(forms.Form):
    """The reveal dialog: the values chosen ("field" or "field:item", e.g.
    "account:42") and the reason, said once for all of them."""

    reveal = forms.MultipleChoiceField(
        required=True,
        error_messages={"required": _("Choose at least one value to reveal.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=200,
        error_messages={
            "required": _("Say why you need to see the full value (at least 4 characters)."),
            "min_length": _("Say why you need to see the full value (at least 4 characters)."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any well-formed value is a choice; the service refuses what is not this
        # customer's (a contact or account of someone else).
        chosen = self.data.getlist("reveal") if hasattr(self.data, "getlist") else []
        self.fields["reveal"].choices = [(value, value) for value in chosen]

    def clean_reveal(self) -> list[tuple[str, int | None]]:
        values = list(dict.fromkeys(self.cleaned_data["reveal"]))
        if len(values) > MAX_REVEALS:
            raise forms.ValidationError(
                _("Reveal at most %(n)s values at once.") % {"n": MAX_REVEALS}, code="too_many"
            )
        chosen: list[tuple[str, int | None]] = []
        for value in values:
            field, _sep, item = value.partition(":")
            if field not in RevealField.values or (item and not item.isdigit()):
                raise forms.ValidationError(_("This field cannot be revealed."), code="unknown")
            chosen.append((field, int(item) if item else None))
        return chosen


class RelationshipForm(BootstrapFormMixin, forms.Form):
    relation_type = forms.ChoiceField(label=_("Relation"), choices=RelationType.choices)
    related_customer_no = forms.CharField(
        label=_("Related customer number"), max_length=20, required=False, help_text=CUSTOMER_NO_HELP
    )
    related_name = forms.CharField(
        label=_("Name (person or company)"),
        max_length=100,
        required=False,
        help_text=_("Needed when the person or company is not a customer."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, keep_related: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if keep_related:
            # the related customer is outside the user's scope: not shown, not changed
            del self.fields["related_customer_no"]

    def clean(self):
        data = super().clean()
        if (
            "related_customer_no" in self.fields
            and not data.get("related_customer_no")
            and not data.get("related_name")
        ):
            self.add_error(
                "related_name",
                _("Give the customer number of the relative, or the name of the person or company."),
            )
        return data


class HouseholdJoinForm(BootstrapFormMixin, forms.Form):
    """A customer in no household: join another customer's, or start a new one."""

    role = forms.ChoiceField(
        label=pgettext_lazy("household", "Place in the household"), choices=HouseholdRole.choices
    )
    household_of_no = forms.CharField(
        label=_("Join the household of customer number"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to start a new household."),
    )
    name = forms.CharField(
        label=_("Name of a new household"),
        max_length=60,
        required=False,
        help_text=_("By default, after the customer."),
    )


class HouseholdChangeForm(BootstrapFormMixin, forms.Form):
    role = forms.ChoiceField(
        label=pgettext_lazy("household", "Place in the household"), choices=HouseholdRole.choices
    )
    name = forms.CharField(label=_("Household name"), max_length=60)


class OtherAssetForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AssetKind.choices)
    description = forms.CharField(label=_("Description"), max_length=200)
    estimated_value = forms.DecimalField(
        label=_("Estimated value (CNY)"), min_value=Decimal("0"), max_digits=18, decimal_places=2
    )
    valued_on = forms.DateField(label=_("Valued on"), required=False, widget=_date_widget())

    def clean_valued_on(self) -> datetime.date | None:
        valued_on = self.cleaned_data["valued_on"]
        if valued_on is not None and valued_on > timezone.localdate():
            raise forms.ValidationError(_("A valuation cannot be dated in the future."))
        return valued_on

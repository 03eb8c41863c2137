"""The forms of the employer pages (customers.employer_views). They check what
can be checked on its own (the unified social credit code and its check character,
a phone number's shape, a positive amount); the services check the rest again
(customers.employers)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin

from .employer_choices import Industry
from .uscc import validate_uscc

PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EmployerSearchForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Employer name or unified social credit code"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control form-control-sm", "autocomplete": "off"}
        ),
    )


class EmployerForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Employer name"), max_length=100)
    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        help_text=_("18 characters, as on the business licence; the last one is checked."),
    )
    industry = forms.ChoiceField(
        label=_("Industry"), choices=[("", _("Choose an industry")), *Industry.choices]
    )
    contact_person = forms.CharField(label=_("Contact person"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)

    def clean_uscc(self) -> str:
        return validate_uscc(self.cleaned_data["uscc"])

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        if phone and not PHONE.match(phone):
            raise ValidationError(_("Give a phone number: digits, with spaces or hyphens if you like."))
        return phone


class PayrollLinkForm(BootstrapFormMixin, forms.Form):
    customer_no = forms.CharField(label=_("Customer number"), max_length=20)
    since = forms.DateField(label=_("Paid since"), required=False, widget=_date_widget())
    account_no = forms.CharField(
        label=_("Payroll account"),
        max_length=32,
        required=False,
        help_text=_("Optional: the customer's account the salary is paid into."),
    )
    monthly_amount = forms.DecimalField(
        label=_("Monthly amount (CNY)"),
        required=False,
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )

    def clean_since(self) -> datetime.date | None:
        since = self.cleaned_data["since"]
        if since is not None and since > timezone.localdate():
            raise ValidationError(_("A payroll relationship starts today or earlier."))
        return since


class PayrollEndForm(BootstrapFormMixin, forms.Form):
    until = forms.DateField(label=_("Paid until"), required=False, widget=_date_widget())

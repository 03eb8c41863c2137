from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_portal.forms import BootstrapFormMixin

from .choices import (
    AccountCategory,
    ContactType,
    CustomerStatus,
    Education,
    Gender,
    IdType,
    InteractionKind,
    Marital,
    RevealField,
    RiskLevel,
)
from .selectors import SORTS, SearchFilters
from .services import EDITABLE_FIELDS

BLANK = [("", "—")]


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomerSearchForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Customer no., account no., ID number, mobile or name"),
                "autocomplete": "off",
            }
        ),
    )
    branch = forms.CharField(label=_("Branch code"), required=False, max_length=20)
    tier = forms.CharField(label=_("Tier"), required=False, max_length=20)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=BLANK + list(CustomerStatus.choices)
    )
    manager = forms.CharField(label=_("Manager (employee no.)"), required=False, max_length=20)
    aum_min = forms.DecimalField(
        label=_("AUM from"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    aum_max = forms.DecimalField(
        label=_("AUM to"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=130)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=130)
    product = forms.ChoiceField(
        label=_("Holds"), required=False, choices=BLANK + list(AccountCategory.choices)
    )
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("aum", _("AUM, highest first")),
            ("-aum", _("AUM, lowest first")),
            ("name", _("Name")),
            ("customer_no", _("Customer number")),
        ],
    )

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        return SearchFilters(
            branch=data["branch"],
            tier=data["tier"],
            status=data["status"],
            manager=data["manager"],
            aum_min=data["aum_min"],
            aum_max=data["aum_max"],
            age_min=data["age_min"],
            age_max=data["age_max"],
            product=data["product"],
        )

    def clean(self):
        data = super().clean()
        low, high = data.get("aum_min"), data.get("aum_max")
        if low is not None and high is not None and low > high:
            raise ValidationError(_("The lower AUM bound is above the upper one."))
        young, old = data.get("age_min"), data.get("age_max")
        if young is not None and old is not None and young > old:
            raise ValidationError(_("The lower age bound is above the upper one."))
        if data.get("sort") and data["sort"] not in SORTS:
            data["sort"] = "aum"
        return data


class CustomerCreateForm(BootstrapFormMixin, forms.Form):
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=60)
    gender = forms.ChoiceField(
        label=_("Gender"),
        required=False,
        choices=BLANK + list(Gender.choices),
        help_text=_("Taken from a resident ID when left empty."),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=_date_widget(),
        help_text=_("Taken from a resident ID when left empty."),
    )
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=20)
    home_branch = forms.ModelChoiceField(label=_("Home branch"), queryset=None)
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=60)
    employer = forms.CharField(label=_("Employer"), required=False, max_length=100)
    education = forms.ChoiceField(
        label=_("Education"), required=False, choices=BLANK + list(Education.choices)
    )
    marital = forms.ChoiceField(
        label=_("Marital status"), required=False, choices=BLANK + list(Marital.choices)
    )
    annual_income = forms.DecimalField(
        label=_("Annual income (CNY)"), required=False, min_value=0, max_digits=18, decimal_places=2
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_branch"].queryset = branches
        if branches.count() == 1:
            self.fields["home_branch"].initial = branches.first()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter the name."))
        return name


class CustomerEditForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    nationality = forms.RegexField(
        label=_("Nationality (ISO 3166 alpha-3)"), regex=r"^[A-Z]{3}$", max_length=3
    )
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=60)
    employer = forms.CharField(label=_("Employer"), required=False, max_length=100)
    education = forms.ChoiceField(
        label=_("Education"), required=False, choices=BLANK + list(Education.choices)
    )
    marital = forms.ChoiceField(
        label=_("Marital status"), required=False, choices=BLANK + list(Marital.choices)
    )
    annual_income = forms.DecimalField(
        label=_("Annual income (CNY)"), required=False, min_value=0, max_digits=18, decimal_places=2
    )
    risk_level = forms.ChoiceField(
        label=_("Risk assessment"), required=False, choices=BLANK + list(RiskLevel.choices)
    )
    risk_expiry = forms.DateField(label=_("Risk assessment expiry"), required=False, widget=_date_widget())
    status = forms.ChoiceField(label=_("Status"), choices=CustomerStatus.choices)
    consent_call = forms.BooleanField(label=_("Marketing calls allowed"), required=False)
    consent_sms = forms.BooleanField(label=_("Marketing SMS allowed"), required=False)
    consent_wechat = forms.BooleanField(label=_("Marketing WeChat messages allowed"), required=False)
    consent_email = forms.BooleanField(label=_("Marketing e-mails allowed"), required=False)
    consent_visit = forms.BooleanField(label=_("Marketing visits allowed"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("risk_level") and not data.get("risk_expiry"):
            self.add_error("risk_expiry", _("A risk assessment needs its expiry date."))
        return data

    @staticmethod
    def initial_for(customer) -> dict:
        return {f: getattr(customer, f) for f in EDITABLE_FIELDS}


class RevealForm(BootstrapFormMixin, forms.Form):
    field = forms.ChoiceField(choices=RevealField.choices)
    item = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=200)


class InteractionForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ContactForm(BootstrapFormMixin, forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=ContactType.choices)
    value = forms.CharField(label=_("Value"), max_length=200)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

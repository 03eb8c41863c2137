from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.forms import BootstrapFormMixin
from core.listing import PAGE_SIZES

from .choices import (
    BirthdayCalendar,
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
from .contacts import clean_contact_value
from .countries import COUNTRIES, DEFAULT_COUNTRY, country_choices
from .filters import FILTER_NAMES, filter_form_class, from_cleaned
from .masking import MASK_CHAR
from .search import SORTS, SearchFilters
from .search_keys import SearchKeys, display_text, identifier_mask
from .services import EDITABLE_FIELDS

BLANK = [("", _("Not given"))]
EXPIRED_KEY = "expired"  # in a results URL: the search's key had expired (never a valid key)


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomerSearchForm(filter_form_class()):  # type: ignore[misc]  # the FilterSet's form class
    """The customer search: the text, and the filters of `CustomerFilterSet` (its
    form's fields and checks). A full identifier typed as the text never travels in
    a URL: it is kept in the session under a key (`k`, customers.search_keys), the
    results URL carries the key and the box shows the text masked; submitted again
    with the box unchanged, the key stands for the text."""

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
    k = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    field_order = ["q", "k", *FILTER_NAMES]
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("aum", _("AUM, highest first")),
            ("-aum", _("AUM, lowest first")),
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("customer_no", _("Customer number, ascending")),
            ("-customer_no", _("Customer number, descending")),
        ],
    )
    # the page size, carried along when the search changes; the page reads it as
    # core.listing does (a size not offered is the default)
    size = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, keys: SearchKeys | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys
        self._resolution: tuple[str, str, bool] | None = None
        self._mask: str | None = None

    SELECT_FILTERS = ("branch", "tier", "manager", "status", "product")

    def filters(self) -> SearchFilters:
        return from_cleaned(self.cleaned_data)

    def clean_size(self) -> str:
        size = self.cleaned_data["size"]
        return size if size in {str(n) for n in PAGE_SIZES} else ""

    def select_filters(self) -> list[forms.BoundField]:
        """The filters chosen from a list, in the order the page shows them."""
        return [self[name] for name in self.SELECT_FILTERS]

    def clean(self):
        data = super().clean()
        text, _key, gone = self._resolved()
        if gone:
            self.add_error(
                None,
                ValidationError(
                    _("This search has expired (or was made in another session): enter it again."),
                    code="search_expired",
                ),
            )
        elif "q" in data:
            data["q"] = text
        if data.get("sort") and data["sort"] not in SORTS:
            data["sort"] = "aum"
        return data

    # --- the search text, and what may be shown or linked of it -------------------

    def _resolved(self) -> tuple[str, str, bool]:
        """(the text searched, the key it is kept under or "", whether the key given
        no longer stands for anything: expired, unknown, another session's)."""
        if self._resolution is None:
            self._resolution = self._resolve()
        return self._resolution

    def _resolve(self) -> tuple[str, str, bool]:
        if not self.is_bound:
            return "", "", False
        typed = (self.data.get("q") or "").strip()
        key = (self.data.get("k") or "").strip()
        if not key:
            return typed, "", False
        kept = self.keys.get(key) if self.keys is not None else None
        if kept is None:
            # The text the key stood for is gone, unless the box holds a new one.
            if "q" not in self.data or MASK_CHAR in typed:
                return "", "", True
            return typed, "", False
        if "q" not in self.data or typed == display_text(kept):
            return kept, key, False
        return typed, "", False  # the box was edited: a new search

    def identifier_mask(self) -> str:
        """The mask kind of the text searched when it is a full identifier, else ""."""
        if self._mask is None:
            self._mask = identifier_mask(self._resolved()[0])
        return self._mask

    def text_display(self) -> str:
        """What the search box shows: the text, masked when it is an identifier."""
        return display_text(self._resolved()[0], self.identifier_mask())

    def text_in_url(self) -> bool:
        """Whether the text was sent in the clear (`q`) although it is an identifier:
        such a request is answered by a redirect to its key."""
        return self.is_bound and "q" in self.data and not self._resolved()[1] and bool(self.identifier_mask())

    def search_key(self) -> str:
        """The key of an identifier searched, kept in the session now if it is not
        yet; "" for any other text."""
        if not self.identifier_mask() or self.keys is None:
            return ""
        text, key, _gone = self._resolved()
        if not key:
            key = self.keys.put(text)
            self._resolution = (text, key, False)
        return key

    def query_string(self, *, keep_cursor: bool = False) -> str:
        """The results page's query string for this search: the text as `q`, or as
        `k` when it is an identifier (never in the clear), and the filters as sent
        (the results page validates them)."""
        params = QueryDict(mutable=True)
        text, _key, gone = self._resolved()
        if gone:  # for the results page to say so (not the key as sent: any text)
            params["k"] = EXPIRED_KEY
        elif text:
            key = self.search_key()
            if key:
                params["k"] = key
            elif not self.identifier_mask():
                params["q"] = text
        for name in self.fields:
            if name in ("q", "k") or (name == "cursor" and not keep_cursor):
                continue
            value = self.data.get(name, "") if self.is_bound else ""
            if value:
                params[name] = value
        return params.urlencode()


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
    home_branch: "forms.ModelChoiceField[Branch]" = forms.ModelChoiceField(
        label=_("Home branch"), queryset=None
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
    nationality = forms.ChoiceField(label=_("Nationality"), choices=country_choices, initial=DEFAULT_COUNTRY)
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
    birthday_calendar = forms.ChoiceField(
        label=_("Birthday kept by"),
        choices=BirthdayCalendar.choices,
        help_text=_("The calendar of the customer's birthday greeting and reminder."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=CustomerStatus.choices)
    consent_call = forms.BooleanField(label=_("Marketing calls allowed"), required=False)
    consent_sms = forms.BooleanField(label=_("Marketing SMS allowed"), required=False)
    consent_wechat = forms.BooleanField(label=_("Marketing WeChat messages allowed"), required=False)
    consent_email = forms.BooleanField(label=_("Marketing e-mails allowed"), required=False)
    consent_visit = forms.BooleanField(label=_("Marketing visits allowed"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A code the list no longer holds (an old record) is shown as it is rather
        # than silently replaced by the first country; saving asks for a country.
        kept = self.initial.get("nationality")
        if kept and kept not in COUNTRIES:
            field = self.fields["nationality"]
            field.choices = [(kept, kept), *field.choices]

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

    def clean(self):
        data = super().clean()
        if data.get("type") and data.get("value"):
            try:
                data["value"] = clean_contact_value(data["type"], data["value"])
            except ValidationError as exc:
                self.add_error("value", exc)
        return data

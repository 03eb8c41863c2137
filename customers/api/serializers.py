"""Shapes of the customer API. Serializers only validate query parameters, shape and
mask: every personal number leaves through a `customers.masking` function, never in
clear. Scope and queries are the selectors' business."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import MONEY
from customers import panels
from customers.filters import FILTER_NAMES, CustomerFilterSet, serializer_fields
from customers.masking import mask_account_no, mask_contact, mask_id_number, mask_mobile
from customers.search import Cursor
from customers.selectors import Customer360


class MaskedField(serializers.CharField):
    """A read-only string passed through a masking function."""

    def __init__(self, mask: Callable[[str | None], str], **kwargs):
        self.mask = mask
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return self.mask(value)


class CodeOrNullField(serializers.CharField):
    """A code the model stores as "" when there is none: null in the API."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:  # type: ignore[override]  # null is this field's point
        return value or None


class CustomerSearchParamsSerializer(serializers.Serializer):
    """Parameters of the customer search (all optional): the query string of
    `GET /api/v1/customers/`, or the JSON body of `POST /api/v1/customers/search/`.
    The text is declared here; the filters are the list page's
    (`customers.filters.CustomerFilterSet`), declared and validated there."""

    # Unknown parameters (cursor, format) are ignored here. The AUM bounds are read as
    # numbers or decimal strings; `coerce_to_string=False` only makes the schema say
    # so (a number, minimum 0) instead of a bare string pattern.

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        default="",
        help_text=_("Name (substring), customer number, mobile, ID number or account number (exact)."),
    )

    def get_fields(self):
        return {**super().get_fields(), **serializer_fields()}

    def validate(self, attrs):
        filterset = CustomerFilterSet(data={name: attrs.get(name) for name in FILTER_NAMES})
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        attrs["filters"] = filterset.search_filters()
        return attrs

    def search_arguments(self) -> dict:
        """Keyword arguments for `CustomerSearch` (after `is_valid()`)."""
        return {"q": self.validated_data["q"], "filters": self.validated_data["filters"]}


class CustomerCursorSerializer(serializers.Serializer):
    """Where a page of the search starts (the query string, for GET and POST alike).
    Pages are followed by key: a page number is refused, except `page=1`, the first
    page (clients written for page numbers start there)."""

    cursor = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    page = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_cursor(self, value: str) -> str:
        if value and Cursor.decode(value, "aum") is None:
            raise serializers.ValidationError(_("This cursor was not written by this API: follow `next`."))
        return value

    def validate_page(self, value: str) -> str:
        if value not in ("", "1"):
            raise serializers.ValidationError(
                _("Pages are followed by key, not by number: follow the `next` and `previous` links.")
            )
        return value


class CustomerSummarySerializer(serializers.Serializer):
    """A customer in a search result; personal numbers masked."""

    # Expects a Customer loaded with home_branch and primary_manager (customer_search).

    customer_no = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    id_type = serializers.CharField(read_only=True)
    id_number = MaskedField(mask_id_number)
    mobile = MaskedField(mask_mobile)
    branch = serializers.CharField(
        source="home_branch.code", read_only=True, help_text=_("Home branch code.")
    )
    tier = CodeOrNullField()
    manager = serializers.CharField(
        source="primary_manager.employee_no",
        read_only=True,
        allow_null=True,
        help_text=_("Employee number of the manager of record."),
    )
    aum = serializers.DecimalField(read_only=True, help_text=_("AUM (CNY)."), **MONEY)


class ContactSerializer(serializers.Serializer):
    type = serializers.CharField(read_only=True)
    value = serializers.SerializerMethodField()
    is_primary = serializers.BooleanField(read_only=True)

    def get_value(self, contact) -> str:
        return mask_contact(contact.type, contact.value)


class AccountSerializer(serializers.Serializer):
    account_no = MaskedField(mask_account_no)
    category = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    balance = serializers.DecimalField(read_only=True, help_text=_("In the account's currency."), **MONEY)
    status = serializers.CharField(read_only=True)
    maturity_date = serializers.DateField(read_only=True, allow_null=True)


class HouseholdSerializer(serializers.Serializer):
    members = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("Customer numbers.")
    )
    aum = serializers.DecimalField(read_only=True, help_text=_("The members' AUM combined (CNY)."), **MONEY)


class SectionField(serializers.Field):
    """A section another area adds to the 360 summary (customers.panels.ApiSection):
    its data is read by the view (context["sections"], only the sections the caller
    may read); its serializer, when it names one, describes it in the schema."""

    def __init__(self, section: panels.ApiSection, **kwargs):
        self.section = section
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return self.context.get("sections", {}).get(self.section.name)


def _section_field(section: panels.ApiSection) -> SectionField:
    """The section's field, described in the schema by its serializer (nullable)."""
    if section.serializer is None:
        return SectionField(section)
    described = type(f"{section.name.title()}SectionField", (SectionField,), {})
    extend_schema_field(section.serializer(allow_null=True))(described)
    return described(section)


class CustomerDetailSerializer(CustomerSummarySerializer):
    """The customer 360 summary: open accounts only; household null when none."""

    # Serializes the Customer; contacts, accounts and household come from
    # context["customer_360"] (`customer_360()` of the same customer), so that
    # nothing here runs a query.

    gender = CodeOrNullField()
    birth_date = serializers.DateField(read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)
    risk_level = CodeOrNullField()
    risk_expiry = serializers.DateField(read_only=True, allow_null=True)
    contacts = serializers.SerializerMethodField()
    accounts = serializers.SerializerMethodField()
    month_avg_aum = serializers.DecimalField(read_only=True, **MONEY)
    liabilities = serializers.DecimalField(read_only=True, **MONEY)
    household = serializers.SerializerMethodField()
    vip_status = CodeOrNullField()

    @property
    def view_360(self) -> Customer360:
        return self.context["customer_360"]

    def get_fields(self):
        fields = super().get_fields()
        for section in panels.api_sections():
            fields[section.name] = _section_field(section)
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # a section the caller may not read is left out, not null
        readable = self.context.get("sections", {})
        for section in panels.api_sections():
            if section.name not in readable:
                data.pop(section.name, None)
        return data

    @extend_schema_field(ContactSerializer(many=True))
    def get_contacts(self, customer) -> list:
        return list(ContactSerializer(self.view_360.contacts, many=True).data)

    @extend_schema_field(AccountSerializer(many=True))
    def get_accounts(self, customer) -> list:
        accounts = [account for group in self.view_360.account_groups for account in group.accounts]
        return list(AccountSerializer(accounts, many=True).data)

    @extend_schema_field(HouseholdSerializer(allow_null=True))
    def get_household(self, customer) -> dict | None:
        view = self.view_360
        if not customer.household_id:
            return None
        household = {"members": [m.customer_no for m in view.household_members], "aum": view.household_aum}
        return HouseholdSerializer(household).data

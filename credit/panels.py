"""What the credit area adds to the customer's 360 view and to the 360 summary of
the customer API (customers.panels): the customer's loans and cards (open ones, and
closed ones still past due), each with its masked number, its category, its balance,
its repayment status (days and amount past due, five-category classification, since
when) and its status at the last six month ends, and the customer's totals
(docs/credit.md).

For the users who see the 360 view's accounts card, whose loans and cards these
are: that card has no permission of its own beyond the view's,
`customers.view_customer`. The 360 view and the API are already held to the user's
scope, and the accounts are read through it again. Two queries at most (one for a
customer without a loan or card): the accounts, then their status rows.

`register()` is called from CreditConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.money import MONEY
from customers import panels

from .selectors import credit_panel

PERMISSION = "customers.view_customer"
NAME = "credit"


def may_read(user) -> bool:
    return bool(user is not None and user.is_active and user.has_perm(PERMISSION))


def customer_panel(customer, user) -> panels.Section | None:
    """The 360 view's credit panel; its empty state when the customer holds no loan
    or card (the user may see)."""
    if not may_read(user):
        return None
    return panels.Section(
        name=NAME,
        template="credit/panel.html",
        context={"credit": credit_panel(user=user, customer=customer)},
    )


# --- the customer API ---------------------------------------------------------------------

RISK_CLASS_HELP = _("Five-category classification: 1 Normal to 5 Loss; 3 to 5 are non-performing.")


class MonthEndStatusSerializer(serializers.Serializer):
    month_end = serializers.DateField(read_only=True, source="day")
    overdue_days = serializers.IntegerField(
        read_only=True, source="status.overdue_days", help_text=_("Days past due on the month end.")
    )
    risk_class = serializers.IntegerField(
        read_only=True, source="status.risk_class", help_text=RISK_CLASS_HELP
    )
    risk_class_label = serializers.CharField(read_only=True, source="status.risk_class_label")


class CreditAccountSerializer(serializers.Serializer):
    account_no = serializers.CharField(read_only=True, help_text=_("Account or card number, masked."))
    category = serializers.CharField(read_only=True, help_text=_("Loan or card category code."))
    category_label = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    balance = serializers.DecimalField(
        read_only=True, help_text=_("Balance in the account's currency."), **MONEY
    )
    cny_balance = serializers.DecimalField(read_only=True, help_text=_("Balance (CNY)."), **MONEY)
    closed = serializers.BooleanField(
        read_only=True, help_text=_("A closed account is listed only while it is still past due.")
    )
    overdue_days = serializers.IntegerField(read_only=True, source="status.overdue_days")
    overdue_amount = serializers.DecimalField(
        read_only=True, source="status.overdue_amount", help_text=_("Amount past due (CNY)."), **MONEY
    )
    risk_class = serializers.IntegerField(
        read_only=True, source="status.risk_class", help_text=RISK_CLASS_HELP
    )
    risk_class_label = serializers.CharField(read_only=True, source="status.risk_class_label")
    since = serializers.DateField(
        read_only=True,
        source="status.since",
        allow_null=True,
        help_text=_("Business date of the status; null when core banking never reported one (current)."),
    )
    trend = MonthEndStatusSerializer(
        many=True, read_only=True, help_text=_("The status at each of the last six month ends, oldest first.")
    )


class CustomerCreditSerializer(serializers.Serializer):
    """The customer's loans and cards in the 360 summary (docs/credit.md): each
    account's status on the as-of date is its latest reported status on or before
    it; an account never reported is current."""

    as_of = serializers.DateField(read_only=True, help_text=_("Business date the statuses are read for."))
    outstanding = serializers.DecimalField(
        read_only=True, help_text=_("Total balance of the accounts listed (CNY)."), **MONEY
    )
    overdue_amount = serializers.DecimalField(
        read_only=True, help_text=_("Total amount past due (CNY)."), **MONEY
    )
    worst_risk_class = serializers.IntegerField(
        read_only=True, source="worst.risk_class", help_text=_("The worst classification of the accounts.")
    )
    worst_risk_class_label = serializers.CharField(read_only=True, source="worst.risk_class_label")
    accounts = CreditAccountSerializer(
        many=True, read_only=True, help_text=_("Open loans and cards, and closed ones still past due.")
    )


def api_section(customer, user) -> dict[str, Any]:
    return dict(CustomerCreditSerializer(credit_panel(user=user, customer=customer)).data)


def credit_queries_action(customer, user) -> list[panels.PanelItem]:
    """The link to the customer's credit-report authorizations and queries, for those
    who may read them."""
    if user is None or not (
        user.has_perm("credit.view_creditquery") or user.has_perm("credit.view_creditauthorization")
    ):
        return []
    return [
        panels.PanelItem(
            text=str(_("Credit-report queries")),
            url=reverse("credit:queries_customer", args=[customer.customer_no]),
        )
    ]


def register() -> None:
    panels.register(panels.ACTIONS, credit_queries_action)
    panels.register_section(NAME, customer_panel)
    panels.register_api_section(
        panels.ApiSection(
            name=NAME,
            allowed=may_read,
            read=api_section,
            serializer=CustomerCreditSerializer,
        )
    )

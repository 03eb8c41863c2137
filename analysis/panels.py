"""What the customer analysis adds to the customer's 360 view and to the 360
summary of the customer API (customers.panels): the customer's 12-month
contribution by business line, loyalty, churn probability (and whether the model or
the rules scored it), satisfaction and value at risk, each score's top three reasons
as sentences, and the next best products with their reasons.

For users with `analysis.view_customeranalysis` only; the 360 view and the API are
already held to the user's scope, and the row is read through it again. Two
queries at most: the row, then the recommended products (none without a row).

`register()` is called from AnalysisConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.money import MONEY
from customers import panels

from .selectors import analysis_panel, customer_analysis

PERMISSION = "analysis.view_customeranalysis"
NAME = "analysis"


def may_read(user) -> bool:
    return bool(user is not None and user.is_active and user.has_perm(PERMISSION))


def customer_panel(customer, user) -> panels.Section | None:
    """The 360 view's analysis panel; its empty state when the customer has not
    been analysed yet (a new customer, before the next night's run)."""
    if not may_read(user):
        return None
    row = customer_analysis(user=user, customer=customer)
    return panels.Section(
        name=NAME,
        template="analysis/panel.html",
        context={"analysis": analysis_panel(row) if row is not None else None},
    )


# --- the customer API ---------------------------------------------------------------------


class NextProductSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=_("Product code."))
    name = serializers.CharField(read_only=True)
    share = serializers.DecimalField(
        read_only=True,
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text=_("Share of the customer's peers holding it (0-1)."),
    )
    reason = serializers.CharField(read_only=True)


class ReasonsSerializer(serializers.Serializer):
    contribution = serializers.ListField(child=serializers.CharField(), read_only=True)
    loyalty = serializers.ListField(child=serializers.CharField(), read_only=True)
    churn = serializers.ListField(child=serializers.CharField(), read_only=True)
    satisfaction = serializers.ListField(child=serializers.CharField(), read_only=True)


class CustomerAnalysisSerializer(serializers.Serializer):
    """The customer's analysis in the 360 summary (docs/analysis.md); null when the
    customer has not been analysed yet."""

    as_of = serializers.DateField(read_only=True, source="row.as_of")
    contribution = serializers.DecimalField(
        read_only=True, source="row.contribution", help_text=_("12-month contribution (CNY)."), **MONEY
    )
    contribution_liability = serializers.DecimalField(
        read_only=True, source="row.contribution_liability", **MONEY
    )
    contribution_asset = serializers.DecimalField(read_only=True, source="row.contribution_asset", **MONEY)
    contribution_intermediary = serializers.DecimalField(
        read_only=True, source="row.contribution_intermediary", **MONEY
    )
    loyalty = serializers.IntegerField(read_only=True, source="row.loyalty", help_text=_("0-100."))
    churn_probability = serializers.DecimalField(
        read_only=True, source="row.churn_probability", max_digits=5, decimal_places=4, help_text=_("0-1.")
    )
    churn_source = serializers.CharField(
        read_only=True, source="row.churn_source", help_text=_("model or rules: what scored the churn risk.")
    )
    satisfaction = serializers.IntegerField(read_only=True, source="row.satisfaction", help_text=_("0-100."))
    value_at_risk = serializers.DecimalField(read_only=True, source="row.value_at_risk", **MONEY)
    reasons = ReasonsSerializer(read_only=True, help_text=_("Each score's top three reasons, as sentences."))
    next_products = NextProductSerializer(many=True, read_only=True, source="products")


def api_section(customer, user) -> dict[str, Any] | None:
    row = customer_analysis(user=user, customer=customer)
    if row is None:
        return None
    return dict(CustomerAnalysisSerializer(analysis_panel(row)).data)


def register() -> None:
    panels.register_section(NAME, customer_panel)
    panels.register_api_section(
        panels.ApiSection(
            name=NAME,
            allowed=may_read,
            read=api_section,
            serializer=CustomerAnalysisSerializer,
        )
    )

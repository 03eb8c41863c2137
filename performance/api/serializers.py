"""Shapes of the performance API (docs/performance.md, "Entry points"). Amounts are
string decimals. Scores, ranks and grades come with the assessment schemes; until a
scheme applies they are null and `indicators` is empty."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.money import MONEY

from ..periods import parse_period


class PeriodParamsSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7, help_text=_("2026-11, 2026-Q4 or 2026."))
    version = serializers.IntegerField(
        required=False, min_value=0, help_text=_("A version of the period (default: the one it shows).")
    )

    def validate_period(self, value: str) -> str:
        from django.core.exceptions import ValidationError

        try:
            return parse_period(value).code
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class BranchParamsSerializer(PeriodParamsSerializer):
    level = serializers.ChoiceField(
        choices=[("outlet", _("Outlet")), ("sub_branch", _("Sub-branch")), ("branch", _("Branch"))],
        default="outlet",
    )


class ContributionSerializer(serializers.Serializer):
    liability = serializers.DecimalField(read_only=True, **MONEY)
    asset = serializers.DecimalField(read_only=True, **MONEY)
    intermediary = serializers.DecimalField(read_only=True, **MONEY)
    total = serializers.DecimalField(read_only=True, **MONEY)


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    actual = serializers.DecimalField(**MONEY)
    target = serializers.DecimalField(**MONEY)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    score = serializers.DecimalField(max_digits=7, decimal_places=2)


class FiguresSerializer(serializers.Serializer):
    employee_no = serializers.CharField(allow_null=True, help_text=_("Null on a branch's pool row."))
    branch = serializers.CharField(help_text=_("Branch code."))
    deposit_avg = serializers.DecimalField(**MONEY)
    loan_avg = serializers.DecimalField(**MONEY)
    aum_avg = serializers.DecimalField(**MONEY)
    contribution = ContributionSerializer()
    score = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    indicators = IndicatorSerializer(many=True)


def figures_row(*, employee_no: str | None, branch: str, figures: dict) -> dict:
    """A result row of the API from a row's figures."""
    return {
        "employee_no": employee_no,
        "branch": branch,
        "deposit_avg": figures["deposit_avg"],
        "loan_avg": figures["loan_avg"],
        "aum_avg": figures["aum_avg"],
        "contribution": {name: figures[name] for name in ("liability", "asset", "intermediary", "total")},
        "score": None,
        "rank": None,
        "grade": None,
        "indicators": [],
    }

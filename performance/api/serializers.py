"""Shapes of the performance API (docs/performance.md, "Entry points"). Amounts are
string decimals. Scores, ranks and grades come from the approved assessment scheme of
the period (performance/scoring.py); a row no scheme scores (a branch pool, a period
without an approved scheme) has them null and `indicators` empty."""

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
    target = serializers.DecimalField(allow_null=True, **MONEY)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    score = serializers.DecimalField(max_digits=7, decimal_places=2)


class RankMoveSerializer(serializers.Serializer):
    next_rank = serializers.IntegerField(help_text=_("The rank above the caller's."))
    gap = serializers.DecimalField(max_digits=9, decimal_places=2, help_text=_("Points to reach it."))
    indicator = serializers.CharField(
        allow_null=True, help_text=_("The indicator that closes the gap cheapest.")
    )
    extra_actual = serializers.DecimalField(allow_null=True, **MONEY)
    extra_completion = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True, help_text=_("In percent of the target.")
    )


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


class ScorecardSerializer(FiguresSerializer):
    period = serializers.CharField()
    status = serializers.CharField(help_text=_("provisional, published or pending"))
    version = serializers.IntegerField()
    peers = serializers.IntegerField(allow_null=True, help_text=_("Units in the caller's peer group."))
    scheme = serializers.CharField(allow_null=True)
    move = RankMoveSerializer(allow_null=True, help_text=_("What would move the caller up one rank."))


def indicator_rows(score) -> list[dict]:
    """`indicators` of a result from a ManagerScore (its indicators prefetched)."""
    if score is None:
        return []
    return [
        {
            "code": part.code,
            "actual": part.actual,
            "target": part.target,
            "weight": part.weight,
            "score": part.score,
        }
        for part in score.indicators.all()
    ]


def figures_row(*, employee_no: str | None, branch: str, figures: dict, score=None) -> dict:
    """A result row of the API from a row's figures and its score (a ManagerScore or
    None)."""
    return {
        "employee_no": employee_no,
        "branch": branch,
        "deposit_avg": figures["deposit_avg"],
        "loan_avg": figures["loan_avg"],
        "aum_avg": figures["aum_avg"],
        "contribution": {name: figures[name] for name in ("liability", "asset", "intermediary", "total")},
        "score": score.score if score is not None else None,
        "rank": score.rank if score is not None else None,
        "grade": (score.grade or None) if score is not None else None,
        "indicators": indicator_rows(score),
    }

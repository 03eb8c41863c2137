"""Performance API views: thin over the selectors; rows narrowed to the caller's
scope (`ManagerResult.objects.visible_to`), listed by key."""

from __future__ import annotations

import base64
import json
from typing import cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import BranchLevel, User
from accounts.scope import ScopeKind, data_scope

from ..models import Period
from ..selectors import (
    branch_rows,
    branch_scores,
    manager_rows,
    manager_scores,
    own_figures,
    own_score,
    rank_move,
    shown_version,
)
from .serializers import (
    BranchParamsSerializer,
    FiguresSerializer,
    PeriodParamsSerializer,
    ScorecardSerializer,
    figures_row,
)

LEVELS = {"outlet": BranchLevel.OUTLET, "sub_branch": BranchLevel.SUB_BRANCH, "branch": BranchLevel.BRANCH}
CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="From a `next` or `previous` link.",
)


class HasAScope(permissions.BasePermission):
    message = "You may not view performance figures."

    def has_permission(self, request, view) -> bool:
        return data_scope(request.user).kind is not ScopeKind.NONE


def _envelope(name: str) -> serializers.Serializer:
    return inline_serializer(
        name,
        {
            "period": serializers.CharField(),
            "status": serializers.CharField(help_text="provisional, published or pending"),
            "version": serializers.IntegerField(),
            "counted_days": serializers.IntegerField(),
            "counted_through": serializers.DateField(allow_null=True),
            "ftp_spreads": serializers.DictField(child=serializers.CharField()),
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": FiguresSerializer(many=True),
        },
    )


class _PeriodView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasAScope]
    params_class: type[PeriodParamsSerializer] = PeriodParamsSerializer

    def version(self, params: dict):
        period = Period.objects.filter(code=params["period"]).first()
        version = shown_version(period, params.get("version")) if period else None
        if version is None:
            raise Http404("No figures of this period (and version) have been computed.")
        return version

    def envelope(
        self, request: Request, version, rows: list[dict], *, count: int, after: str, before: str
    ) -> dict:
        return {
            "period": version.period.code,
            "status": version.status,
            "version": version.number,
            "counted_days": version.counted_days,
            "counted_through": version.counted_through,
            "ftp_spreads": version.ftp_spreads,
            "count": count,
            "next": _link(request, after),
            "previous": _link(request, before),
            "results": FiguresSerializer(rows, many=True).data,
        }


def _link(request: Request, cursor: str) -> str | None:
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor) if cursor else None


def _encode(position: int, *, before: bool = False) -> str:
    values = [position, "b"] if before else [position]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, bool]:
    """(offset in the list, whether the page ends there); a forged cursor is a 400."""
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        position, before = values[0], len(values) == 2 and values[1] == "b"
        if isinstance(position, int) and not isinstance(position, bool) and position >= 0:
            return position, before
    except (ValueError, TypeError, IndexError, KeyError):
        pass
    raise serializers.ValidationError({"cursor": ["This cursor was not written by this API: follow `next`."]})


class ManagerFiguresView(_PeriodView):
    """Each manager's figures (and each branch pool's) for a period, as far as the
    caller may see them: a client manager their own row, a branch head their
    subtree's, head office all."""

    @extend_schema(
        operation_id="performance_managers",
        tags=["performance"],
        parameters=[PeriodParamsSerializer, CURSOR],
        responses={
            200: _envelope("ManagerFiguresPage"),
            400: OpenApiResponse(description="Bad parameters."),
            404: OpenApiResponse(description="No figures of this period yet."),
        },
    )
    def get(self, request: Request) -> Response:
        params = PeriodParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = self.version(params.validated_data)
        rows = manager_rows(request.user, version)
        page, count, after, before = _page(request, rows)
        scores = manager_scores(request.user, version, [row.manager_id for row in page])
        shaped = [
            figures_row(
                employee_no=row.manager.employee_no if row.manager else None,
                branch=row.branch.code,
                figures={name: getattr(row, name) for name in FIGURE_NAMES},
                score=scores.get(row.manager_id) if row.manager_id else None,
            )
            for row in page
        ]
        return Response(self.envelope(request, version, shaped, count=count, after=after, before=before))


class BranchFiguresView(_PeriodView):
    """Each branch of a level the caller may see: the sum of its subtree's managers
    and pools."""

    @extend_schema(
        operation_id="performance_branches",
        tags=["performance"],
        parameters=[BranchParamsSerializer, CURSOR],
        responses={
            200: _envelope("BranchFiguresPage"),
            400: OpenApiResponse(description="Bad parameters."),
            404: OpenApiResponse(description="No figures of this period yet."),
        },
    )
    def get(self, request: Request) -> Response:
        params = BranchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = self.version(params.validated_data)
        level = LEVELS[params.validated_data["level"]]
        branches = branch_rows(request.user, version, level)
        page, count, after, before = _page(request, branches)
        scores = branch_scores(request.user, version, level, [b.branch.pk for b in page])
        shaped = [
            figures_row(
                employee_no=None, branch=b.branch.code, figures=b.figures, score=scores.get(b.branch.pk)
            )
            for b in page
        ]
        return Response(self.envelope(request, version, shaped, count=count, after=after, before=before))


class ScorecardView(_PeriodView):
    """The caller's own scorecard for a period: their figures, score, rank in their
    peer group, grade, each indicator's actual against its target, and what would
    move them up one rank. Null where the caller has no figures or no scheme scores
    them."""

    @extend_schema(
        operation_id="performance_scorecard",
        tags=["performance"],
        parameters=[PeriodParamsSerializer],
        responses={
            200: ScorecardSerializer,
            400: OpenApiResponse(description="Bad parameters."),
            404: OpenApiResponse(description="No figures of this period yet."),
        },
    )
    def get(self, request: Request) -> Response:
        params = PeriodParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = self.version(params.validated_data)
        user = cast(User, request.user)  # HasAScope let only a signed-in user through
        figures = own_figures(user, version)
        score = own_score(user, version)
        move = rank_move(score) if score is not None else None
        zero = dict.fromkeys(FIGURE_NAMES, 0)
        row = figures_row(
            employee_no=user.employee_no,
            branch=figures.branch.code if figures else (user.branch.code if user.branch else ""),
            figures={name: getattr(figures, name) for name in FIGURE_NAMES} if figures else zero,
            score=score,
        )
        row.update(
            {
                "period": version.period.code,
                "status": version.status,
                "version": version.number,
                "peers": score.peers if score else None,
                "scheme": score.scheme.name if score else None,
                "move": None
                if move is None
                else {
                    "next_rank": move.next_rank,
                    "gap": move.gap,
                    "indicator": move.indicator,
                    "extra_actual": move.extra_actual,
                    "extra_completion": move.extra_completion,
                },
            }
        )
        return Response(ScorecardSerializer(row).data)


FIGURE_NAMES = ("deposit_avg", "loan_avg", "aum_avg", "liability", "asset", "intermediary", "total")


def _page(request: Request, rows) -> tuple[list, int, str, str]:
    """One page of an ordered list (a bank's managers, its branches) by position."""
    size = api_settings.PAGE_SIZE or 50
    cursor = request.query_params.get("cursor", "")
    start, before = _decode(cursor) if cursor else (0, False)
    if before:
        start = max(0, start - size)
    # a queryset is counted and sliced by the database; a list (the branches, summed
    # in Python from their rows) is sliced as it is
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    page = list(rows[start : start + size])
    after = _encode(start + size) if start + size < total else ""
    back = _encode(start, before=True) if start > 0 else ""
    return page, total, after, back

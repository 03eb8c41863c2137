"""The caller's plan items on the API: GET /api/v1/plan/?from=YYYY-MM-DD&to=YYYY-MM-DD,
one row per occurrence (a recurring item once per day it falls on), in order of day
and time. Dates that are not dates, an end before the start or a span longer than
the selector expands answer 400."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors.plan import MAX_SPAN_DAYS, Occurrence, plan_occurrences


class PlanParamsSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared below under its query name
    to = serializers.DateField(help_text=_("The last day (YYYY-MM-DD), included."))

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(help_text=_("The first day (YYYY-MM-DD)."))
        return fields

    def validate(self, attrs):
        start, end = attrs["from"], attrs["to"]
        if end < start:
            raise serializers.ValidationError({"to": [_("The end must not be before the start.")]})
        if (end - start).days > MAX_SPAN_DAYS:
            raise serializers.ValidationError(
                {"to": [_("Ask for %(days)d days at most.") % {"days": MAX_SPAN_DAYS + 1}]}
            )
        return attrs


class OccurrenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk", help_text=_("The plan item."))
    date = serializers.DateField(source="day")
    kind = serializers.CharField(source="item.kind")
    kind_label = serializers.CharField(source="item.get_kind_display")
    title = serializers.CharField(source="item.title")
    start_time = serializers.TimeField(source="item.start_time", allow_null=True, format="%H:%M")
    end_time = serializers.TimeField(source="item.end_time", allow_null=True, format="%H:%M")
    customer_no = serializers.SerializerMethodField()
    recurrence = serializers.CharField(source="item.recurrence")
    status = serializers.CharField(source="item.status")
    done = serializers.BooleanField()

    def get_customer_no(self, occurrence: Occurrence) -> str | None:
        customer = occurrence.item.customer
        return customer.customer_no if customer is not None else None


class MayPlan(permissions.BasePermission):
    message = _("You have no work plan.")

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("care.view_planitem")


class PlanView(APIView):
    """The caller's own plan between two days."""

    permission_classes = [permissions.IsAuthenticated, MayPlan]

    @extend_schema(
        operation_id="plan_list",
        tags=["care"],
        parameters=[PlanParamsSerializer],
        responses={
            200: inline_serializer(
                "PlanPage",
                {
                    "from": serializers.DateField(),
                    "to": serializers.DateField(),
                    "results": OccurrenceSerializer(many=True),
                },
            ),
            400: OpenApiResponse(description="Bad dates."),
        },
    )
    def get(self, request: Request) -> Response:
        params = PlanParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["from"], params.validated_data["to"]
        occurrences = plan_occurrences(user=request.user, start=start, end=end)
        return Response(
            {"from": start, "to": end, "results": OccurrenceSerializer(occurrences, many=True).data}
        )


urlpatterns = [
    path("plan/", login_not_required(PlanView.as_view()), name="plan-items"),
]

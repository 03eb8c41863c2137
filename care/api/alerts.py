"""The caller's alerts on the API (docs/alerts.md, "Stable entry points"):
GET /api/v1/alerts/?kind=K&status=open|closed|all → {"count", "next", "results"},
the alerts the caller may see (a client manager their own, a branch head their
subtree's, head office all), the most pressing first. Each has its reason, a
sentence with the figures that raised it, personal data masked. An unknown kind or
status answers 400 and says which values are accepted."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User

from ..choices import AlertKind, AlertPriority
from ..models import Alert
from ..reasons import alert_reason, reason_context
from ..selectors.alerts import alert_list

STATUSES = ("open", "closed", "all")


class AlertParamsSerializer(serializers.Serializer):
    kind = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("One kind: %(kinds)s.") % {"kinds": ", ".join(AlertKind.values)},
    )
    status = serializers.CharField(
        required=False,
        default="open",
        help_text=_(
            "open (the default; a snoozed alert counts from the day its snooze ends), closed or all."
        ),
    )

    def validate_kind(self, value: str) -> str:
        if value and value not in AlertKind.values:
            raise serializers.ValidationError(
                _("Unknown kind %(kind)s: use one of %(kinds)s.")
                % {"kind": value, "kinds": ", ".join(AlertKind.values)}
            )
        return value

    def validate_status(self, value: str) -> str:
        if value not in STATUSES:
            raise serializers.ValidationError(
                _("Unknown status %(status)s: use open, closed or all.") % {"status": value}
            )
        return value


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    customer_no = serializers.SerializerMethodField()
    event_date = serializers.DateField()
    due_date = serializers.DateField()
    status = serializers.SerializerMethodField(help_text=_("open, snoozed, done or dismissed"))
    priority = serializers.SerializerMethodField(help_text=_("high, normal or low"))
    reason = serializers.SerializerMethodField()

    def get_customer_no(self, alert: Alert) -> str | None:
        return alert.customer.customer_no if alert.customer is not None else None

    def get_status(self, alert: Alert) -> str:
        today = self.context["today"]
        if alert.status == "snoozed" and alert.snoozed_until and alert.snoozed_until <= today:
            return "open"  # its snooze has ended
        return alert.status

    def get_priority(self, alert: Alert) -> str:
        return AlertPriority(alert.priority).name.lower()

    def get_reason(self, alert: Alert) -> str:
        return alert_reason(alert, self.context["names"])


class MaySeeAlerts(permissions.BasePermission):
    message = _("You may not view alerts.")

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("care.view_alert")


class AlertPagination(PageNumberPagination):
    page_size = 50


class AlertListView(APIView):
    """The caller's alerts: open ones (snoozed ones whose date has come count as
    open) by due date, closed ones the latest closed first."""

    permission_classes = [permissions.IsAuthenticated, MaySeeAlerts]

    @extend_schema(
        operation_id="alerts_list",
        tags=["care"],
        summary="The caller's alerts",
        parameters=[AlertParamsSerializer],
        responses={
            200: inline_serializer(
                "AlertPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "results": AlertSerializer(many=True),
                },
            ),
            400: OpenApiResponse(description="An unknown kind or status."),
            401: OpenApiResponse(description="Not authenticated."),
            403: OpenApiResponse(description="The user may not view alerts."),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        params = AlertParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        today = timezone.localdate()
        alerts = alert_list(
            user=cast(User, request.user),
            day=today,
            kind=params.validated_data.get("kind") or "",
            status=params.validated_data["status"],
        )
        paginator = AlertPagination()
        page = paginator.paginate_queryset(alerts, request, view=self) or []
        serializer = AlertSerializer(page, many=True, context={"today": today, "names": reason_context(page)})
        return Response(
            {
                "count": paginator.page.paginator.count if paginator.page is not None else 0,
                "next": paginator.get_next_link(),
                "results": serializer.data,
            }
        )


urlpatterns = [
    path("alerts/", login_not_required(AlertListView.as_view()), name="alert-list"),
]

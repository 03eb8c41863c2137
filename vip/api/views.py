from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.permissions import access_customer
from vip.selectors import customer_vip

from .serializers import CustomerVipSerializer


class CanViewCustomers(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("customers.view_customer")


class CustomerVipView(APIView):
    """A customer's tier, VIP status and manager of record, with their history."""

    permission_classes = [permissions.IsAuthenticated, CanViewCustomers]

    @extend_schema(
        operation_id="customers_vip_retrieve",
        tags=["vip"],
        summary="Tier, VIP status and manager of record",
        parameters=[
            OpenApiParameter(
                "customer_no", OpenApiTypes.STR, OpenApiParameter.PATH, description="Customer number."
            )
        ],
        responses={
            200: CustomerVipSerializer,
            404: OpenApiResponse(description="No such customer in the caller's data scope."),
        },
    )
    def get(self, request: Request, customer_no: str) -> Response:
        view = customer_vip(access_customer(request.user, customer_no, for_change=False))
        view.tier_changes = view.tier_changes[:20]
        return Response(CustomerVipSerializer(view).data)

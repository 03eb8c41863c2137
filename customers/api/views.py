"""Customer API views: thin wrappers around the selectors. Scope comes from
`customer_search` / `access_customer` (a customer outside it is 404, exactly like
one that does not exist); masking from the serializers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from customers.permissions import access_customer
from customers.selectors import customer_360, customer_search

from .serializers import CustomerDetailSerializer, CustomerSearchParamsSerializer, CustomerSummarySerializer

ERRORS = {
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="The user may not view customers."),
}


class CanViewCustomers(permissions.BasePermission):
    message = "You may not view customers."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("customers.view_customer")


class CustomerListView(generics.ListAPIView):
    """Search the customers in the caller's data scope, largest AUM first."""

    permission_classes = [permissions.IsAuthenticated, CanViewCustomers]
    serializer_class = CustomerSummarySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Customer.objects.none()
        params = CustomerSearchParamsSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return customer_search(user=self.request.user, **params.search_arguments())

    @extend_schema(
        operation_id="customers_search",
        tags=["customers"],
        summary="Search customers",
        parameters=[CustomerSearchParamsSerializer],
        responses={
            200: CustomerSummarySerializer(many=True),
            400: OpenApiResponse(description="Invalid query parameters (per parameter messages)."),
            **ERRORS,
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class CustomerDetailView(APIView):
    """The 360 summary of one customer in the caller's data scope (open accounts only)."""

    permission_classes = [permissions.IsAuthenticated, CanViewCustomers]

    @extend_schema(
        operation_id="customers_retrieve",
        tags=["customers"],
        summary="Customer 360 summary",
        parameters=[
            OpenApiParameter(
                "customer_no", OpenApiTypes.STR, OpenApiParameter.PATH, description="Customer number."
            )
        ],
        responses={
            200: CustomerDetailSerializer,
            404: OpenApiResponse(description="No such customer in the caller's data scope."),
            **ERRORS,
        },
    )
    def get(self, request: Request, customer_no: str) -> Response:
        customer = access_customer(request.user, customer_no)
        # The API shows no interactions: do not load them.
        view_360 = customer_360(customer, interactions=0)
        serializer = CustomerDetailSerializer(
            customer, context={"request": request, "customer_360": view_360}
        )
        return Response(serializer.data)

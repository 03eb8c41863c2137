"""Customer API views: thin wrappers around the selectors. Scope comes from
`customer_search` / `access_customer` (a customer outside it is 404, exactly like
one that does not exist); masking from the serializers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions
from rest_framework.parsers import JSONParser
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


PAGE = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.QUERY,
    required=False,
    description="Page number, from 1 (default 1). `page=0`, a page past the last one or "
    "a page that is not a number answers 404.",
)
PAGE_NOT_FOUND = OpenApiResponse(
    description="No such page: `page` is below 1 (`?page=0`), past the last page or not a number."
)


class CustomerListView(generics.ListAPIView):
    """Search the customers in the caller's data scope, largest AUM first."""

    permission_classes = [permissions.IsAuthenticated, CanViewCustomers]
    serializer_class = CustomerSummarySerializer

    def search_data(self):
        """Where the search parameters are: the query string."""
        return self.request.query_params

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Customer.objects.none()
        params = CustomerSearchParamsSerializer(data=self.search_data())
        params.is_valid(raise_exception=True)
        return customer_search(user=self.request.user, **params.search_arguments())

    @extend_schema(
        operation_id="customers_search",
        tags=["customers"],
        summary="Search customers",
        description="Search the customers in the caller's data scope, largest AUM first. "
        "A full ID, mobile, account or card number in `q` ends up in URLs and access logs: "
        "systems should send such a search with `POST /api/v1/customers/search/` instead.",
        parameters=[CustomerSearchParamsSerializer, PAGE],
        responses={
            200: CustomerSummarySerializer(many=True),
            400: OpenApiResponse(description="Invalid query parameters (per parameter messages)."),
            404: PAGE_NOT_FOUND,
            **ERRORS,
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class CustomerSearchView(CustomerListView):
    """The customer search with its parameters in a JSON body, so that an identifier
    searched for never appears in a URL (nor in access logs). The page number stays
    in the query string: `next` and `previous` are URLs to POST the same body to."""

    http_method_names = ["post", "options"]
    parser_classes = [JSONParser]

    def search_data(self):
        return self.request.data

    @extend_schema(
        operation_id="customers_search_post",
        tags=["customers"],
        summary="Search customers (parameters in the body)",
        description="The same search as `GET /api/v1/customers/`, its parameters in a JSON body "
        "(all optional). Results, paging and errors are those of the GET; `next` and `previous` "
        "are to be POSTed with the same body.",
        request=CustomerSearchParamsSerializer,
        parameters=[PAGE],
        responses={
            200: CustomerSummarySerializer(many=True),
            400: OpenApiResponse(description="Invalid parameters (per parameter messages)."),
            404: PAGE_NOT_FOUND,
            **ERRORS,
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)


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
        customer = access_customer(request.user, customer_no, for_change=False)
        # The API shows no interactions: do not load them.
        view_360 = customer_360(customer, interactions=0)
        serializer = CustomerDetailSerializer(
            customer, context={"request": request, "customer_360": view_360}
        )
        return Response(serializer.data)

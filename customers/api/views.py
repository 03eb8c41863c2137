"""Customer API views: thin wrappers around the search and the selectors. Scope
comes from `CustomerSearch` / `access_customer` (a customer outside it is 404,
exactly like one that does not exist); masking from the serializers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions
from rest_framework import serializers as drf_serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from customers import panels
from customers.permissions import access_customer
from customers.search import COUNT_CAP, CustomerSearch, keyset_page
from customers.selectors import customer_360

from .serializers import (
    CustomerCursorSerializer,
    CustomerDetailSerializer,
    CustomerSearchParamsSerializer,
    CustomerSummarySerializer,
)

ERRORS = {
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="The user may not view customers."),
}


class CanViewCustomers(permissions.BasePermission):
    message = "You may not view customers."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("customers.view_customer")


CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="Where the page starts: the cursor of a `next` or `previous` link (follow the "
    "links; their cursors are opaque). Absent: the first page.",
)
PAGE_ENVELOPE = inline_serializer(
    "CustomerPage",
    {
        "count": drf_serializers.IntegerField(help_text=f"Matches, counted up to {COUNT_CAP}."),
        "count_capped": drf_serializers.BooleanField(
            help_text=f"True when more than {COUNT_CAP} customers match (`count` is then {COUNT_CAP})."
        ),
        "next": drf_serializers.URLField(allow_null=True, help_text="The next page, or null."),
        "previous": drf_serializers.URLField(allow_null=True, help_text="The previous page, or null."),
        "results": CustomerSummarySerializer(many=True),
    },
)
BAD_PARAMETERS = OpenApiResponse(
    description="Invalid parameters (per parameter messages), a cursor this API did not write, "
    "or a page number (pages are followed by key)."
)


class CustomerListView(APIView):
    """Search the customers in the caller's data scope, largest AUM first, paged by
    key: `next` and `previous` are links to follow, `count` stops at COUNT_CAP."""

    permission_classes = [permissions.IsAuthenticated, CanViewCustomers]

    def search_data(self, request: Request):
        """Where the search parameters are: the query string."""
        return request.query_params

    def page_response(self, request: Request) -> Response:
        params = CustomerSearchParamsSerializer(data=self.search_data(request))
        params.is_valid(raise_exception=True)
        cursor = CustomerCursorSerializer(data=request.query_params)
        cursor.is_valid(raise_exception=True)
        search = CustomerSearch(user=request.user, **params.search_arguments())
        page = keyset_page(search, cursor=cursor.validated_data["cursor"], size=api_settings.PAGE_SIZE or 50)
        return Response(
            {
                "count": page.count,
                "count_capped": page.count_capped,
                "next": self._link(request, page.next_cursor),
                "previous": self._link(request, page.previous_cursor),
                "results": CustomerSummarySerializer(page.rows, many=True).data,
            }
        )

    def _link(self, request: Request, cursor: str) -> str | None:
        if not cursor:
            return None
        return replace_query_param(request.build_absolute_uri(), "cursor", cursor)

    @extend_schema(
        operation_id="customers_search",
        tags=["customers"],
        summary="Search customers",
        description="Search the customers in the caller's data scope, largest AUM first, "
        f"{api_settings.PAGE_SIZE} a page, paged by key. "
        "A full ID, mobile, account or card number in `q` ends up in URLs and access logs: "
        "systems should send such a search with `POST /api/v1/customers/search/` instead.",
        parameters=[CustomerSearchParamsSerializer, CURSOR],
        responses={200: PAGE_ENVELOPE, 400: BAD_PARAMETERS, **ERRORS},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.page_response(request)


class CustomerSearchView(CustomerListView):
    """The customer search with its parameters in a JSON body, so that an identifier
    searched for never appears in a URL (nor in access logs). The cursor stays in the
    query string: `next` and `previous` are URLs to POST the same body to."""

    http_method_names = ["post", "options"]
    parser_classes = [JSONParser]

    def search_data(self, request: Request):
        return request.data

    @extend_schema(
        operation_id="customers_search_post",
        tags=["customers"],
        summary="Search customers (parameters in the body)",
        description="The same search as `GET /api/v1/customers/`, its parameters in a JSON body "
        "(all optional). Results, paging and errors are those of the GET; `next` and `previous` "
        "are to be POSTed with the same body.",
        request=CustomerSearchParamsSerializer,
        parameters=[CURSOR],
        responses={200: PAGE_ENVELOPE, 400: BAD_PARAMETERS, **ERRORS},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return self.page_response(request)


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
        # what other areas add (customers.panels.ApiSection), those the caller may read
        sections = panels.api_section_data(customer, request.user)
        serializer = CustomerDetailSerializer(
            customer, context={"request": request, "customer_360": view_360, "sections": sections}
        )
        return Response(serializer.data)

"""The product catalogue, as the campaigns and opportunities offer it."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from core.listing import Sorting, paginate

from .. import selectors
from ..filters import ON, ProductFilter
from ._common import filtered

SORTING = Sorting(
    {
        "code": ("code",),
        "name": ("name",),
        "category": ("category", "code"),
        "risk": ("risk_rating",),
        "minimum": ("min_amount",),
        "term": ("term_days",),
    },
    default="category",
)


class ProductListView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_product"

    def get(self, request):
        listing = filtered(request, ProductFilter, selectors.product_list())
        page_obj = paginate(request, SORTING.apply(request, listing.rows))
        return render(
            request,
            "marketing/product_list.html",
            {
                "page_obj": page_obj,
                "products": page_obj,
                "sort": SORTING.key(request),
                "on_sale": listing.value("on_sale") == ON,
                "today": timezone.localdate(),
                "filter": listing.filter,
            },
            status=listing.status,
        )

"""The product catalogue, as the campaigns and opportunities offer it."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from .. import selectors
from ..filters import ON, ProductFilter
from ._common import filtered


class ProductListView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_product"

    def get(self, request):
        listing = filtered(request, ProductFilter, selectors.product_list())
        return render(
            request,
            "marketing/product_list.html",
            {
                "products": listing.rows,
                "on_sale": listing.value("on_sale") == ON,
                "today": timezone.localdate(),
                "filter": listing.filter,
            },
            status=listing.status,
        )

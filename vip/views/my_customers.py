"""A manager's book (the alerts beside it are keep close's panel, loaded by htmx)."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.utils import timezone

from core.views import ScopedView
from customers.models import Customer

from .. import selectors
from ..filters import BookFilterSet
from ..permissions import access_manager
from ._common import filter_errors


class MyCustomersView(PermissionRequiredMixin, ScopedView):
    """A manager's book by tier, with the last contact and the next one due. A
    branch head or head office may open any manager's book in their scope."""

    permission_required = "customers.view_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        filters = BookFilterSet(request.GET, queryset=self.queryset)
        params = filters.params
        manager = request.user
        employee_no = (params.get("manager") or "").strip()
        if employee_no and employee_no != request.user.employee_no:
            manager = access_manager(request.user, employee_no, for_change=False)
        filter_errors(request, filters)
        book = selectors.manager_book(
            user=request.user,
            manager=manager,
            cursor=params.get("cursor", ""),
            customers=self.queryset,
            filtered=filters.qs,
        )
        return render(
            request,
            "vip/my_customers.html",
            {
                "book": book,
                "tier": params.get("tier", ""),
                "own": manager.pk == request.user.pk,
                "no_tier": selectors.NO_TIER,
                "today": timezone.localdate(),
            },
        )

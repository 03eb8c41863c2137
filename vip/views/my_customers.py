"""A manager's book (the alerts beside it are keep close's panel, loaded by htmx)."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.utils import timezone

from accounts.scope import ScopeKind, data_scope
from core.views import ScopedView
from customers.models import Customer

from .. import selectors
from ..filters import BookFilterSet
from ._common import filter_errors, keyset_position, keyset_request


class MyCustomersView(PermissionRequiredMixin, ScopedView):
    """A manager's book by tier, with the last contact and the next one due. A
    branch head or head office may open the book of any manager in their scope,
    chosen by name; a manager outside it is refused (404, with the reason and the
    list to choose from), never shown."""

    permission_required = "customers.view_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        filters = BookFilterSet(request.GET, queryset=self.queryset, request=request)
        params = filters.params
        refused = "manager" in filters.errors
        manager = params.get("manager") or request.user
        filter_errors(request, filters)
        asked = keyset_request(request, params.get("cursor", ""))
        book = selectors.manager_book(
            user=request.user,
            manager=manager,
            cursor=asked.cursor,
            size=asked.size,
            sort=asked.order,
            customers=self.queryset,
            filtered=filters.qs,
        )
        tier = params.get("tier", "")
        # the per-tier summary counts the whole book: the rows shown are one tier's or all
        counts = {t["code"] or selectors.NO_TIER: t["count"] for t in book.tiers}
        count = counts.get(tier, 0) if tier else book.total
        return render(
            request,
            "vip/my_customers.html",
            {
                "book": book,
                "tier": tier,
                "own": manager.pk == request.user.pk,
                "no_tier": selectors.NO_TIER,
                "today": timezone.localdate(),
                "filter_form": filters.form,
                "choose_manager": data_scope(request.user).kind is not ScopeKind.OWN,
                "sort": asked.sort,
                "position": keyset_position(asked, book.page, shown=len(book.rows), count=count),
            },
            status=404 if refused else 200,
        )

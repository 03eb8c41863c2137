"""The branch pool (customers without a manager of record) and assigning from it;
the managers of the user's branches, and a leaving manager's book recalled to the
pool."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from core.listing import Sorting, paginate
from core.views import ScopedView
from customers.models import Customer

from .. import selectors, services
from ..filters import PoolFilterSet
from ..forms import AssignForm, ReasonForm
from ..permissions import access_manager
from ._common import filter_errors, form_errors, keyset_position, keyset_request, show_errors


class PoolView(PermissionRequiredMixin, ScopedView):
    """Customers without a manager of record, per branch, and assigning a selection
    of them to one manager."""

    permission_required = "vip.assign_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        filters = PoolFilterSet(request.GET, queryset=self.queryset, request=request)
        params = filters.params
        filter_errors(request, filters)
        asked = keyset_request(request, params.get("cursor", ""))
        page = selectors.pool_customers(
            user=request.user, cursor=asked.cursor, size=asked.size, sort=asked.order, customers=filters.qs
        )
        return render(
            request,
            "vip/pool.html",
            {
                "page": page,
                "customers": page.rows,
                "counts": selectors.pool_counts(request.user),
                "branch": params.get("branch"),
                "filter_form": filters.form,
                "assign_form": AssignForm(user=request.user),
                "names": selectors.tier_names(),
                "sort": asked.sort,
                "position": keyset_position(asked, page, shown=len(page.rows)),
            },
        )

    def post(self, request):
        form = AssignForm(request.POST, user=request.user)
        numbers = request.POST.getlist("customer")[: services.MAX_BATCH_ROWS]
        if not numbers:
            messages.error(request, _("Tick the customers to assign."))
        elif form.is_valid():
            manager = form.cleaned_data["manager"]
            customers = self.queryset.filter(customer_no__in=numbers)
            assigned, refused = 0, 0
            for customer in customers:
                try:
                    services.customer_assign(
                        customer=customer,
                        manager=manager,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    assigned += 1
                except (ValidationError, PermissionDenied) as exc:
                    refused += 1
                    for message in getattr(exc, "messages", None) or [str(exc)]:
                        messages.error(request, f"{customer.name}: {message}")
            # a ticked number that is not a customer of the user's scope is not found
            missing = len(set(numbers)) - assigned - refused
            if assigned:
                messages.success(
                    request,
                    ngettext(
                        "%(n)s customer assigned to %(manager)s.",
                        "%(n)s customers assigned to %(manager)s.",
                        assigned,
                    )
                    % {"n": assigned, "manager": manager.get_full_name()},
                )
            if missing > 0:
                messages.error(
                    request,
                    ngettext(
                        "%(n)s ticked customer is not in your scope: nothing was done with them.",
                        "%(n)s ticked customers are not in your scope: nothing was done with them.",
                        missing,
                    )
                    % {"n": missing},
                )
            if not assigned:
                messages.error(
                    request,
                    _("No customer was assigned to %(manager)s.") % {"manager": manager.get_full_name()},
                )
        else:
            form_errors(request, form)
        return redirect(request.get_full_path())


# --- managers and recall of a book ---------------------------------------------------------


# The managers' list is sorted in Python: the figures of their books are counted
# for all of them in one grouped query (`selectors.managers_with_books`).
MANAGER_SORTING = Sorting(
    {
        "name": ("display_name",),
        "employee_no": ("employee_no",),
        "branch": ("branch_path",),
        "customers": ("book_size",),
        "aum": ("book_aum",),
    },
    default="branch",
)
_MANAGER_KEYS = {
    "name": lambda m: m.display_name,
    "employee_no": lambda m: m.employee_no,
    "branch": lambda m: (m.branch.path if m.branch else "", m.employee_no),
    "customers": lambda m: m.book_size,
    "aum": lambda m: m.book_aum,
}


class ManagerListView(PermissionRequiredMixin, View):
    """The client managers of the user's branches with the size and AUM of their
    books, sorted by a column, a page at a time."""

    permission_required = "vip.recall_customer"

    def get(self, request):
        sort = MANAGER_SORTING.key(request)
        column = sort.lstrip("-")
        managers = sorted(
            selectors.managers_with_books(request.user),
            key=lambda m: (_MANAGER_KEYS[column](m), m.pk),
            reverse=sort.startswith("-"),
        )
        page_obj = paginate(request, managers)
        return render(
            request,
            "vip/managers.html",
            {"managers": page_obj.object_list, "page_obj": page_obj, "sort": sort},
        )


class ManagerRecallView(PermissionRequiredMixin, ScopedView):
    """A manager leaves: their whole book back to the pool in one action."""

    permission_required = "vip.recall_customer"
    access = access_manager

    def get(self, request, employee_no: str):
        manager = self.get_object(employee_no, for_change=True)
        size = Customer.objects.visible_to(request.user).filter(primary_manager=manager).count()
        return render(
            request, "vip/manager_recall.html", {"manager": manager, "size": size, "form": ReasonForm()}
        )

    def post(self, request, employee_no: str):
        manager = self.get_object(employee_no, for_change=True)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            size = Customer.objects.visible_to(request.user).filter(primary_manager=manager).count()
            return render(
                request,
                "vip/manager_recall.html",
                {"manager": manager, "size": size, "form": form},
                status=400,
            )
        try:
            result = services.manager_book_recall(
                manager=manager, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            show_errors(request, exc)
            return redirect("vip:managers")
        messages.success(
            request,
            _("%(n)s customers of %(name)s are back in the pool.")
            % {"n": result.recalled, "name": manager.display_name},
        )
        if result.outside_scope:
            messages.warning(
                request,
                _("%(n)s of their customers are outside your scope and stay with them.")
                % {"n": result.outside_scope},
            )
        return redirect("vip:managers")

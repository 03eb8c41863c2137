"""The branch pool (customers without a manager of record) and assigning from it;
the managers of the user's branches, and a leaving manager's book recalled to the
pool."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.views import ScopedView
from customers.models import Customer

from .. import selectors, services
from ..filters import PoolFilterSet
from ..forms import AssignForm, ReasonForm
from ..permissions import access_manager
from ._common import filter_errors, form_errors, show_errors


class PoolView(PermissionRequiredMixin, ScopedView):
    """Customers without a manager of record, per branch, and assigning a selection
    of them to one manager."""

    permission_required = "vip.assign_customer"
    queryset = Customer.objects.all()

    def get(self, request):
        filters = PoolFilterSet(request.GET, queryset=self.queryset, request=request)
        params = filters.params
        filter_errors(request, filters)
        page = selectors.pool_customers(
            user=request.user, cursor=params.get("cursor", ""), customers=filters.qs
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
            },
        )

    def post(self, request):
        form = AssignForm(request.POST, user=request.user)
        numbers = request.POST.getlist("customer")[: services.MAX_BATCH_ROWS]
        if not numbers:
            messages.error(request, _("Tick the customers to assign."))
        elif form.is_valid():
            customers = self.queryset.filter(customer_no__in=numbers)
            assigned = 0
            for customer in customers:
                try:
                    services.customer_assign(
                        customer=customer,
                        manager=form.cleaned_data["manager"],
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    assigned += 1
                except (ValidationError, PermissionDenied) as exc:
                    show_errors(request, exc)
            messages.success(
                request,
                _("%(n)s customers assigned to %(manager)s.")
                % {"n": assigned, "manager": form.cleaned_data["manager"].get_full_name()},
            )
        else:
            form_errors(request, form)
        return redirect(request.get_full_path())


# --- managers and recall of a book ---------------------------------------------------------


class ManagerListView(PermissionRequiredMixin, View):
    permission_required = "vip.recall_customer"

    def get(self, request):
        return render(request, "vip/managers.html", {"managers": selectors.managers_with_books(request.user)})


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

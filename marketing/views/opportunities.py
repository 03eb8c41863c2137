"""Opportunities: the list, a new lead, and one opportunity's stages and win."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from core.listing import Sorting, paginate
from core.views import ScopedView
from customers.permissions import access_customer

from .. import selectors, services, suitability
from ..filters import ON, OpportunityFilter
from ..forms import LeadForm, StageForm, WinForm
from ..models import Opportunity
from ..permissions import access_opportunity
from ._common import filtered, opportunity_created

SORTING = Sorting(
    {
        "customer": ("customer__name",),
        "product": ("product__name",),
        "stage": ("stage",),
        "expected": ("expected_amount",),
        "close": ("expected_close_date",),
        "owner": ("manager__display_name",),
    },
    default="close",
)


class OpportunityListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_opportunity"
    queryset = Opportunity.objects.all()

    def get(self, request):
        listing = filtered(
            request,
            OpportunityFilter,
            selectors.opportunity_list(user=request.user, open_only=False, opportunities=self.queryset),
        )
        return render(
            request,
            "marketing/opportunity_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "open_only": listing.value("all") != ON,
                "filter": listing.filter,
            },
            status=listing.status,
        )


class LeadCreateView(PermissionRequiredMixin, View):
    permission_required = "marketing.add_opportunity"

    def get(self, request):
        return render(request, "marketing/lead_form.html", {"form": LeadForm(initial=request.GET or None)})

    def post(self, request):
        form = LeadForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                customer = access_customer(request.user, data.pop("customer_no"), for_change=True)
                opportunity = services.opportunity_create(user=request.user, customer=customer, **data)
            except Http404:
                form.add_error("customer_no", _("No customer with this number in your scope."))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, opportunity_created(opportunity))
                return redirect("marketing:opportunity_detail", pk=opportunity.pk)
        return render(request, "marketing/lead_form.html", {"form": form}, status=400)


class OpportunityDetailView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_opportunity"
    access = access_opportunity

    def get(self, request, pk, stage_form=None, win_form=None, status=200):
        opportunity = self.get_object(pk, for_change=False)
        return render(
            request,
            "marketing/opportunity_detail.html",
            {
                "o": opportunity,
                "suitability": suitability.check(opportunity.customer, opportunity.product),
                "stage_form": stage_form or StageForm(initial={"stage": opportunity.stage}),
                "win_form": win_form
                or WinForm(
                    initial={"amount": opportunity.expected_amount, "sale_date": timezone.localdate()}
                ),
                "can_change": request.user.has_perm("marketing.change_opportunity"),
            },
            status=status,
        )

    def post(self, request, pk):
        opportunity = self.get_object(pk, for_change=True)
        if "amount" in request.POST:
            form = WinForm(request.POST)
            if form.is_valid():
                try:
                    services.opportunity_win(opportunity=opportunity, user=request.user, **form.cleaned_data)
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(
                        request,
                        _("Won: the sale of %(product)s to %(name)s is recorded.")
                        % {"product": opportunity.product.name, "name": opportunity.customer.name},
                    )
                    return redirect("marketing:opportunity_detail", pk=pk)
            return self.get(request, pk, win_form=form, status=400)
        form = StageForm(request.POST)
        if form.is_valid():
            try:
                services.opportunity_advance(
                    opportunity=opportunity, user=request.user, stage=form.cleaned_data["stage"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                opportunity.refresh_from_db(fields=["stage"])
                messages.success(
                    request,
                    _("Opportunity of %(name)s for %(product)s moved to “%(stage)s”.")
                    % {
                        "name": opportunity.customer.name,
                        "product": opportunity.product.name,
                        "stage": opportunity.get_stage_display(),
                    },
                )
                return redirect("marketing:opportunity_detail", pk=pk)
        return self.get(request, pk, stage_form=form, status=400)

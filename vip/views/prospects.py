"""VIPs to be won: the list, registering one, and closing one (won or lost)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.listing import Sorting, paginate
from core.views import ScopedView
from customers.permissions import access_customer

from .. import selectors, services
from ..filters import ProspectFilterSet
from ..forms import ProspectCloseForm, ProspectForm
from ..models import VipProspect
from ..permissions import access_prospect
from ._common import form_errors, show_errors

# Open prospects first (`selectors.prospect_list` ranks the statuses), then the newest.
PROSPECT_SORTING = Sorting(
    {
        "status": ("status_rank", "-created_at"),
        "registered": ("created_at",),
        "name": ("name",),
        "assets": ("estimated_assets",),
    },
    default="status",
)


class ProspectListView(PermissionRequiredMixin, ScopedView):
    permission_required = "vip.view_vipprospect"
    queryset = VipProspect.objects.all()

    def _render(self, request, form, status=200):
        filters = ProspectFilterSet(request.GET, queryset=self.queryset)
        if filters.is_valid():
            shown = filters.qs
        else:  # the filter form says which value is wrong
            shown, status = self.queryset.none(), 400
        prospects = PROSPECT_SORTING.apply(
            request, selectors.prospect_list(user=request.user, prospects=shown)
        )
        page_obj = paginate(request, prospects)
        return render(
            request,
            "vip/prospects.html",
            {
                "prospects": page_obj.object_list,
                "page_obj": page_obj,
                "sort": PROSPECT_SORTING.key(request),
                "filter_form": filters.form,
                "form": form,
                "close_form": ProspectCloseForm(),
                "can_add": request.user.has_perm("vip.add_vipprospect"),
            },
            status=status,
        )

    def get(self, request):
        return self._render(request, ProspectForm())

    def post(self, request):
        if not request.user.has_perm("vip.add_vipprospect"):
            raise PermissionDenied
        form = ProspectForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            customer = None
            if data["customer_no"]:
                customer = access_customer(request.user, data["customer_no"].strip(), for_change=True)
            try:
                services.prospect_create(
                    by=request.user,
                    name=data["name"],
                    mobile=data["mobile"],
                    source=data["source"],
                    estimated_assets=data["estimated_assets"],
                    held_at=data["held_at"],
                    note=data["note"],
                    customer=customer,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Prospect %(name)s registered.") % {"name": data["name"]})
                return redirect("vip:prospects")
        return self._render(request, form, status=400)


class ProspectCloseView(PermissionRequiredMixin, ScopedView):
    permission_required = "vip.change_vipprospect"
    access = access_prospect

    def post(self, request, pk: int):
        prospect = self.get_object(pk, for_change=True)
        form = ProspectCloseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            customer = (
                access_customer(request.user, data["customer_no"].strip(), for_change=True)
                if data["customer_no"]
                else None
            )
            try:
                services.prospect_close(
                    prospect=prospect,
                    by=request.user,
                    won=data["outcome"] == "won",
                    note=data["note"],
                    customer=customer,
                )
                messages.success(
                    request,
                    (
                        _("Prospect %(name)s closed: won.")
                        if data["outcome"] == "won"
                        else _("Prospect %(name)s closed: not won.")
                    )
                    % {"name": prospect.name},
                )
            except (ValidationError, PermissionDenied) as exc:
                show_errors(request, exc)
        else:
            form_errors(request, form)
        return redirect("vip:prospects")

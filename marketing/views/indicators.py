"""The indicator library (考核指标库): the list, searchable, for everyone who reads
marketing; a new indicator and a change of one for head office's business
manager. The library holds no customer data: there is no scope to narrow."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.listing import Sorting, paginate
from core.views import ScopedView

from .. import services
from ..choices import IndicatorKind
from ..filters import IndicatorFilter
from ..forms import IndicatorForm
from ..indicators import PARAMS, REGISTERED_ELSEWHERE, registered
from ..models import Indicator
from ..permissions import access_indicator
from ._common import filtered

SORTING = Sorting(
    {"code": ("code",), "name": ("name",), "kind": ("kind",), "status": ("-active",)}, default="code"
)


def kind_guide() -> list[dict]:
    """Each kind with the names of its parameters (required ones marked), for the
    edit page's guide."""
    return [
        {
            "label": kind.label,
            "code": kind.value,
            "params": [f"{name}{'*' if param.required else ''}" for name, param in PARAMS[kind].items()],
            "elsewhere": kind in REGISTERED_ELSEWHERE,
            "computed": registered(kind),
        }
        for kind in IndicatorKind
    ]


class IndicatorListView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_indicator"

    def get(self, request):
        listing = filtered(request, IndicatorFilter, Indicator.objects.all())
        return render(
            request,
            "marketing/indicator_list.html",
            {
                "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
                "sort": SORTING.key(request),
                "filter": listing.filter,
            },
            status=listing.status,
        )


class IndicatorEditView(PermissionRequiredMixin, ScopedView):
    """A new indicator (no pk) or a change of one; its parameters are checked for
    its kind before anything is saved."""

    access = access_indicator

    def get_permission_required(self):
        return ["marketing.change_indicator" if "pk" in self.kwargs else "marketing.add_indicator"]

    def _indicator(self, pk) -> Indicator | None:
        return self.get_object(pk, for_change=True) if pk is not None else None

    def _page(self, request, form, indicator, status=200):
        return render(
            request,
            "marketing/indicator_form.html",
            {"form": form, "indicator": indicator, "kinds": kind_guide()},
            status=status,
        )

    def get(self, request, pk=None):
        indicator = self._indicator(pk)
        return self._page(request, IndicatorForm(instance=indicator), indicator)

    def post(self, request, pk=None):
        indicator = self._indicator(pk)
        # the form checks a copy; the service writes (and checks again under lock)
        form = IndicatorForm(request.POST, instance=Indicator.objects.get(pk=pk) if pk is not None else None)
        if form.is_valid():
            try:
                saved = services.indicator_save(
                    user=request.user, values=form.cleaned_data, indicator=indicator
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Indicator “%(name)s” saved.") % {"name": saved.name})
                return redirect("marketing:indicator_edit", pk=saved.pk)
        return self._page(request, form, indicator, status=400)

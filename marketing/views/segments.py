"""Segments: the list, the rule builder and its live preview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.views import ScopedView

from .. import selectors, services
from ..filters import SegmentFilter
from ..forms import SegmentForm, SegmentPreviewForm
from ..models import Segment
from ..permissions import access_segment
from ._common import filtered


class SegmentListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_segment"
    queryset = Segment.objects.all()

    def get(self, request):
        listing = filtered(
            request, SegmentFilter, selectors.segment_list(user=request.user, segments=self.queryset)
        )
        return render(
            request,
            "marketing/segment_list.html",
            {"segments": listing.rows, "filter": listing.filter},
            status=listing.status,
        )


class SegmentEditView(PermissionRequiredMixin, ScopedView):
    """Build or change a segment; the count and a sample update live (htmx) as the
    rules change."""

    permission_required = "marketing.add_segment"
    access = access_segment

    def get(self, request, pk=None):
        segment = self.get_object(pk, for_change=False) if pk is not None else None
        form = SegmentForm(initial=SegmentForm.initial_for(segment) if segment else None)
        preview = selectors.segment_preview(segment.rules, user=request.user) if segment else None
        return render(
            request, "marketing/segment_form.html", {"form": form, "segment": segment, "preview": preview}
        )

    def post(self, request, pk=None):
        segment = self.get_object(pk, for_change=True) if pk is not None else None
        form = SegmentForm(request.POST)
        if form.is_valid():
            segment = services.segment_save(
                user=request.user,
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=form.rules(),
            )
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect("marketing:segment_edit", pk=segment.pk)
        return render(request, "marketing/segment_form.html", {"form": form, "segment": segment}, status=400)


class SegmentPreviewView(PermissionRequiredMixin, View):
    """The live count and sample of the rules being edited (an htmx partial)."""

    permission_required = "marketing.view_segment"

    def post(self, request):
        form = SegmentPreviewForm(request.POST)
        if not form.is_valid():
            return render(request, "marketing/partials/_segment_preview.html", {"form": form}, status=400)
        preview = selectors.segment_preview(form.rules(), user=request.user)
        return render(request, "marketing/partials/_segment_preview.html", {"preview": preview})

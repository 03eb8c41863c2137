"""Segments: the list, the rule builder and its live count.

A segment's rules are shown in words everywhere ("Platinum or above, 90 days
without a transaction, women"), never as their codes (marketing.segment_words)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.listing import Sorting, paginate
from core.templatetags.display import labels_of
from core.views import ScopedView

from .. import selectors, services
from ..filters import SegmentFilter
from ..forms import SegmentForm, SegmentPreviewForm
from ..models import Segment
from ..permissions import access_segment
from ..segment_words import count_sentence, describe, rule_names
from ._common import filtered

SORTING = Sorting(
    {"name": ("name",), "owner": ("owner__display_name",), "updated": ("updated_at",)}, default="-updated"
)


class SegmentListView(PermissionRequiredMixin, ScopedView):
    permission_required = "marketing.view_segment"
    queryset = Segment.objects.all()

    def get(self, request):
        listing = filtered(
            request, SegmentFilter, selectors.segment_list(user=request.user, segments=self.queryset)
        )
        page_obj = paginate(request, SORTING.apply(request, listing.rows))
        names = rule_names(s.rules for s in page_obj)
        return render(
            request,
            "marketing/segment_list.html",
            {
                "page_obj": page_obj,
                "segments": page_obj,
                "rows": [(s, describe(s.rules, names)) for s in page_obj],
                "filter": listing.filter,
                "sort": SORTING.key(request),
            },
            status=listing.status,
        )


def _preview_context(rules, user) -> dict:
    """The live count of `rules` in the user's scope, said with the rules in words."""
    preview = selectors.segment_preview(rules, user=user)
    names = rule_names([rules])
    return {
        "preview": preview,
        # the sample's customers match the rules: a tier rule's names name their tiers
        "tier_labels": names.tiers or labels_of("tier"),
        "words": describe(rules, names),
        "sentence": count_sentence(rules, names, preview.count),
    }


class SegmentEditView(PermissionRequiredMixin, ScopedView):
    """Build or change a segment from selects; the rules in words and their count
    update live (htmx, debounced) as the rules change."""

    permission_required = "marketing.add_segment"
    access = access_segment

    def get(self, request, pk=None):
        segment = self.get_object(pk, for_change=False) if pk is not None else None
        form = SegmentForm(user=request.user, segment=segment)
        context = {"form": form, "segment": segment}
        if segment:
            # the count itself is asked for as the page loads (the form's hx-trigger)
            context["words"] = describe(segment.rules, rule_names([segment.rules]))
        return render(request, "marketing/segment_form.html", context)

    def post(self, request, pk=None):
        segment = self.get_object(pk, for_change=True) if pk is not None else None
        form = SegmentForm(request.POST, user=request.user)
        if form.is_valid():
            rules = form.rules()
            created = segment is None
            segment = services.segment_save(
                user=request.user,
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=rules,
            )
            words = describe(rules, rule_names([rules]))
            message = (
                _("Segment “%(name)s” created: %(rules)s.")
                if created
                else _("Segment “%(name)s” saved: %(rules)s.")
            )
            messages.success(request, message % {"name": segment.name, "rules": words})
            return redirect("marketing:segment_edit", pk=segment.pk)
        return render(request, "marketing/segment_form.html", {"form": form, "segment": segment}, status=400)


class SegmentPreviewView(PermissionRequiredMixin, View):
    """The live count of the rules being edited, with the rules in words and a
    sample (an htmx partial): one counting statement within the user's scope."""

    permission_required = "marketing.view_segment"

    def post(self, request):
        form = SegmentPreviewForm(request.POST, user=request.user)
        if not form.is_valid():
            return render(request, "marketing/partials/_segment_preview.html", {"form": form}, status=400)
        return render(
            request,
            "marketing/partials/_segment_preview.html",
            _preview_context(form.rules(), request.user),
        )

"""The tier parameters in force and their history."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.views import View

from ..choices import ProposalStatus
from ..models import EvaluationRun, ParameterProposal, TierLevel, TierPolicy


class ParametersView(PermissionRequiredMixin, View):
    """The tier parameters in force and their history (changes go through the
    admin, as proposals)."""

    permission_required = "vip.view_tierlevel"

    def get(self, request):
        history = (
            ParameterProposal.objects.exclude(status=ProposalStatus.PENDING)
            .select_related("proposed_by", "decided_by")
            .order_by("-decided_at", "-id")[:50]
        )
        pending = ParameterProposal.objects.filter(status=ProposalStatus.PENDING).select_related(
            "proposed_by"
        )

        return render(
            request,
            "vip/parameters.html",
            {
                "levels": TierLevel.objects.order_by("-is_active", "-aum_threshold"),
                "policy": TierPolicy.current(),
                "history": history,
                "pending": pending,
                "runs": EvaluationRun.objects.order_by("-started_at")[:10],
            },
        )

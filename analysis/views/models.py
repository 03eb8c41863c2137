"""The churn model versions: the list (newest first, paged, the version in use on
top) and one version. Thin: the reads are analysis.churn_models'."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render
from django.views import View

from core.listing import paginate

from .. import churn_models


class ChurnModelListView(PermissionRequiredMixin, View):
    permission_required = "analysis.view_churnmodel"

    def get(self, request):
        in_use = churn_models.churn_model_in_use()
        page = paginate(request, churn_models.churn_model_versions())
        return render(
            request,
            "analysis/models.html",
            {
                "page_obj": page,
                "rows": [churn_models.model_card(model) for model in page],
                "card": churn_models.model_card(in_use) if in_use is not None else None,
                "needed": churn_models.training_requirements(),
            },
        )


class ChurnModelDetailView(PermissionRequiredMixin, View):
    permission_required = "analysis.view_churnmodel"

    def get(self, request, number: int):
        model = churn_models.churn_model_by_number(number)
        return render(
            request,
            "analysis/model_detail.html",
            {"card": churn_models.model_card(model), "needed": churn_models.training_requirements()},
        )

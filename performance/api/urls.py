"""Performance API routes (mounted under /api/v1/)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "performance_api"

urlpatterns = [
    path("performance/managers/", login_not_required(views.ManagerFiguresView.as_view()), name="managers"),
    path("performance/branches/", login_not_required(views.BranchFiguresView.as_view()), name="branches"),
    path("performance/scorecard/", login_not_required(views.ScorecardView.as_view()), name="scorecard"),
]

"""Customer API routes (mounted under /api/v1/). The views authenticate themselves
(token or session) and answer 401/403, so they are exempt from the login redirect
(DRF's as_view() already marks them so; the explicit wrapper keeps that visible)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "customers_api"

urlpatterns = [
    path("customers/", login_not_required(views.CustomerListView.as_view()), name="customer-list"),
    # before the detail route: "search" is not a customer number
    path("customers/search/", login_not_required(views.CustomerSearchView.as_view()), name="customer-search"),
    path(
        "customers/<str:customer_no>/",
        login_not_required(views.CustomerDetailView.as_view()),
        name="customer-detail",
    ),
]

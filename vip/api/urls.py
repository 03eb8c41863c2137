"""VIP API routes (mounted under /api/v1/)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "vip_api"

urlpatterns = [
    path(
        "customers/<str:customer_no>/vip/",
        login_not_required(views.CustomerVipView.as_view()),
        name="customer-vip",
    ),
]

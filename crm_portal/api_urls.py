"""The REST API, mounted at /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("customers.api.urls")),
    path("", include("vip.api.urls")),
    path("", include("care.api.urls")),
    path("", include("performance.api.urls")),
]

"""Exports of the customer search (included under the customers namespace)."""

from django.urls import path

from . import export_views

urlpatterns = [
    path("", export_views.ExportListView.as_view(), name="export_list"),
    path("new/", export_views.ExportStartView.as_view(), name="export_start"),
    path("<int:pk>/", export_views.ExportDetailView.as_view(), name="export_detail"),
    path("<int:pk>/download/", export_views.ExportDownloadView.as_view(), name="export_download"),
]

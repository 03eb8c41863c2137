"""The URLs of the customer analysis report (included at reports/ by analysis/urls.py)."""

from django.urls import path

from .views.reports import AnalysisReportExportView, AnalysisReportView

urlpatterns: list = [
    path("", AnalysisReportView.as_view(), name="reports"),
    path("export/", AnalysisReportExportView.as_view(), name="reports_export"),
]

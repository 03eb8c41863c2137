"""The URLs of the credit-risk reports (included at reports/ by credit/urls.py)."""

from django.urls import path

from .views_reports import CreditReportExportView, CreditReportView

urlpatterns: list = [
    path("", CreditReportView.as_view(), name="reports"),
    path("export/", CreditReportExportView.as_view(), name="reports_export"),
]

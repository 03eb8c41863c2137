"""The URLs of the opening reports pages (included by marketing/urls.py): the
account-opening funnel and its export, and the match of a request by hand."""

from django.urls import path

from .views.opening_reports import OpeningFunnelExportView, OpeningFunnelView, OpeningMatchView

urlpatterns: list = [
    path("openings/funnel/", OpeningFunnelView.as_view(), name="opening_funnel"),
    path("openings/funnel/export/", OpeningFunnelExportView.as_view(), name="opening_funnel_export"),
    path("openings/<int:pk>/match/", OpeningMatchView.as_view(), name="opening_match"),
]

"""The URLs of the channel report pages (included by marketing/urls.py)."""

from django.urls import path

from .views.channel_report import ChannelReportExportView, ChannelReportView

urlpatterns: list = [
    path("channels/results/", ChannelReportView.as_view(), name="channel_report"),
    path("channels/results/export/", ChannelReportExportView.as_view(), name="channel_report_export"),
]

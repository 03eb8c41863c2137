"""The URLs of the openings pages (included by marketing/urls.py)."""

from django.urls import path

from .views import openings as views

urlpatterns: list = [
    path("openings/", views.OpeningListView.as_view(), name="opening_list"),
    path("openings/new/", views.OpeningCreateView.as_view(), name="opening_create"),
    path("openings/calendar/", views.OpeningCalendarView.as_view(), name="opening_calendar"),
    path("openings/<int:pk>/", views.OpeningDetailView.as_view(), name="opening_detail"),
    path("openings/<int:pk>/appointment/", views.OpeningAppointView.as_view(), name="opening_appoint"),
    path("openings/<int:pk>/cancel/", views.OpeningCancelView.as_view(), name="opening_cancel"),
]

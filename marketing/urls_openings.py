"""The URLs of the openings pages (included by marketing/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

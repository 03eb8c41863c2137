"""The URLs of the opening reports pages (included by marketing/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

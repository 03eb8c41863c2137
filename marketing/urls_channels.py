"""The URLs of the channels pages (included by marketing/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

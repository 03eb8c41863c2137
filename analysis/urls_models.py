"""The URLs of the churn model versions (included at models/ by analysis/urls.py)."""

from django.urls import path

from .views.models import ChurnModelDetailView, ChurnModelListView

urlpatterns: list = [
    path("", ChurnModelListView.as_view(), name="models"),
    path("<int:number>/", ChurnModelDetailView.as_view(), name="model_detail"),
]

"""/customers/quality/...: included by customers/urls.py (namespace "customers")."""

from django.urls import path

from . import quality_views

urlpatterns = [
    path("", quality_views.QualityQueueView.as_view(), name="quality_queue"),
    path("<int:pk>/", quality_views.QualityCompareView.as_view(), name="quality_compare"),
    path("<int:pk>/merge/", quality_views.QualityMergeView.as_view(), name="quality_merge"),
    path("<int:pk>/dismiss/", quality_views.QualityDismissView.as_view(), name="quality_dismiss"),
]

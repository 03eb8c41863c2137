from django.urls import include, path

app_name = "analysis"

urlpatterns = [
    path("", include("analysis.urls_save")),
    path("reports/", include("analysis.urls_reports")),
    path("models/", include("analysis.urls_models")),
]

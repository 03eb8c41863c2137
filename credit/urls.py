from django.urls import include, path

app_name = "credit"

urlpatterns = [
    path("reports/", include("credit.urls_reports")),
    path("queries/", include("credit.urls_queries")),
]

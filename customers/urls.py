from django.urls import include, path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("search/", views.CustomerSearchView.as_view(), name="search"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("quality/", include("customers.quality_urls")),
    path("exports/", include("customers.export_urls")),
    path("<str:customer_no>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<str:customer_no>/edit/", views.CustomerEditView.as_view(), name="edit"),
    path("<str:customer_no>/reveal/", views.RevealView.as_view(), name="reveal"),
    path("<str:customer_no>/interactions/", views.InteractionCreateView.as_view(), name="log_interaction"),
    path("<str:customer_no>/contacts/", views.ContactCreateView.as_view(), name="add_contact"),
]

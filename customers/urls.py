from django.urls import include, path

from . import record_views, views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("search/", views.CustomerSearchView.as_view(), name="search"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("quality/", include("customers.quality_urls")),
    path("exports/", include("customers.export_urls")),
    path("employers/", include("customers.employer_urls")),
    path("<str:customer_no>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<str:customer_no>/edit/", views.CustomerEditView.as_view(), name="edit"),
    path("<str:customer_no>/reveal/", views.RevealView.as_view(), name="reveal"),
    path("<str:customer_no>/interactions/", views.InteractionCreateView.as_view(), name="log_interaction"),
    path("<str:customer_no>/contacts/", views.ContactCreateView.as_view(), name="add_contact"),
    # what a manager records beside the bank's data (customers.record_views)
    path(
        "<str:customer_no>/relationships/new/",
        record_views.RelationshipCreateView.as_view(),
        name="relationship_add",
    ),
    path(
        "<str:customer_no>/relationships/<int:pk>/",
        record_views.RelationshipEditView.as_view(),
        name="relationship_edit",
    ),
    path(
        "<str:customer_no>/relationships/<int:pk>/remove/",
        record_views.RelationshipRemoveView.as_view(),
        name="relationship_remove",
    ),
    path("<str:customer_no>/household/", record_views.HouseholdView.as_view(), name="household_edit"),
    path(
        "<str:customer_no>/household/leave/",
        record_views.HouseholdLeaveView.as_view(),
        name="household_leave",
    ),
    path("<str:customer_no>/assets/new/", record_views.OtherAssetCreateView.as_view(), name="asset_add"),
    path("<str:customer_no>/assets/<int:pk>/", record_views.OtherAssetEditView.as_view(), name="asset_edit"),
    path(
        "<str:customer_no>/assets/<int:pk>/remove/",
        record_views.OtherAssetRemoveView.as_view(),
        name="asset_remove",
    ),
]

"""Credit-report queries (credit.views_queries), under /credit/queries/ in the
"credit" namespace."""

from django.urls import path

from . import views_queries as views

urlpatterns = [
    path("", views.QueryListView.as_view(), name="queries_list"),
    path("approvals/", views.ApprovalQueueView.as_view(), name="queries_approvals"),
    path("customer/<str:customer_no>/", views.CustomerCreditView.as_view(), name="queries_customer"),
    path(
        "customer/<str:customer_no>/authorizations/",
        views.AuthorizationRecordView.as_view(),
        name="queries_authorization_record",
    ),
    path(
        "authorizations/<int:pk>/revoke/",
        views.AuthorizationRevokeView.as_view(),
        name="queries_authorization_revoke",
    ),
    path("customer/<str:customer_no>/request/", views.QueryRequestView.as_view(), name="queries_request"),
    path("<int:pk>/approve/", views.QueryActionView.as_view(action="approve"), name="queries_approve"),
    path("<int:pk>/reject/", views.QueryActionView.as_view(action="reject"), name="queries_reject"),
    path("<int:pk>/resend/", views.QueryActionView.as_view(action="resend"), name="queries_resend"),
    path("<int:pk>/withdraw/", views.QueryActionView.as_view(action="withdraw"), name="queries_withdraw"),
]

from django.urls import path

from . import views
from .views.customer_actions import SplitCreditEndView, SplitCreditSetView

app_name = "vip"

urlpatterns = [
    path("my/", views.MyCustomersView.as_view(), name="my_customers"),
    path("pool/", views.PoolView.as_view(), name="pool"),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("approvals/decide/", views.BulkDecisionView.as_view(), name="approvals_decide"),
    path("managers/", views.ManagerListView.as_view(), name="managers"),
    path("managers/<str:employee_no>/recall/", views.ManagerRecallView.as_view(), name="manager_recall"),
    path("batch/", views.BatchStartView.as_view(), name="batch_start"),
    path("batch/<int:pk>/", views.BatchView.as_view(), name="batch"),
    path("batch/<int:pk>/errors.csv", views.BatchErrorsView.as_view(), name="batch_errors"),
    path("reports/", views.ReportView.as_view(), name="reports"),
    path("reports/export/", views.ReportExportView.as_view(), name="report_export"),
    path("prospects/", views.ProspectListView.as_view(), name="prospects"),
    path("prospects/<int:pk>/close/", views.ProspectCloseView.as_view(), name="prospect_close"),
    path("parameters/", views.ParametersView.as_view(), name="parameters"),
    path(
        "transfers/<int:pk>/approve/",
        views.TransferDecisionView.as_view(action="approve"),
        name="transfer_approve",
    ),
    path(
        "transfers/<int:pk>/reject/",
        views.TransferDecisionView.as_view(action="reject"),
        name="transfer_reject",
    ),
    path(
        "transfers/<int:pk>/cancel/",
        views.TransferDecisionView.as_view(action="cancel"),
        name="transfer_cancel",
    ),
    path(
        "proposals/<int:pk>/approve/",
        views.ProposalDecisionView.as_view(action="approve"),
        name="proposal_approve",
    ),
    path(
        "proposals/<int:pk>/reject/",
        views.ProposalDecisionView.as_view(action="reject"),
        name="proposal_reject",
    ),
    path(
        "proposals/<int:pk>/withdraw/",
        views.ProposalDecisionView.as_view(action="withdraw"),
        name="proposal_withdraw",
    ),
    path("customers/<str:customer_no>/", views.CustomerVipView.as_view(), name="customer"),
    path("customers/<str:customer_no>/assign/", views.AssignView.as_view(), name="assign"),
    path("customers/<str:customer_no>/transfer/", views.TransferRequestView.as_view(), name="transfer"),
    path("customers/<str:customer_no>/recall/", views.RecallView.as_view(), name="recall"),
    path("customers/<str:customer_no>/share/", views.ShareView.as_view(), name="share"),
    path(
        "customers/<str:customer_no>/shares/<int:grant_id>/revoke/",
        views.ShareRevokeView.as_view(),
        name="share_revoke",
    ),
    path("customers/<str:customer_no>/override/", views.OverrideView.as_view(), name="override"),
    path("customers/<str:customer_no>/override/end/", views.OverrideEndView.as_view(), name="override_end"),
    path("customers/<str:customer_no>/register/", views.RegisterView.as_view(), name="register"),
    path("customers/<str:customer_no>/liquidate/", views.LiquidateView.as_view(), name="liquidate"),
    path("customers/<str:customer_no>/split/", SplitCreditSetView.as_view(), name="split_set"),
    path("customers/<str:customer_no>/split/end/", SplitCreditEndView.as_view(), name="split_end"),
]

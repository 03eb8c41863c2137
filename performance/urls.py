from django.urls import path

from . import drill_pages, pages, publication_pages, scheme_pages, views

app_name = "performance"

urlpatterns = [
    path("", pages.FiguresView.as_view(), name="figures"),
    path("export/", pages.BoardExportView.as_view(), name="board_export"),
    path("branches/", pages.BranchRankingView.as_view(), name="branches"),
    path("managers/<str:employee_no>/", pages.ManagerView.as_view(), name="manager"),
    path("managers/<str:employee_no>/export/", pages.ManagerExportView.as_view(), name="manager_export"),
    path(
        "managers/<str:employee_no>/days/<str:customer_no>/",
        drill_pages.CustomerDaysView.as_view(),
        name="customer_days",
    ),
    path("pools/<str:branch_code>/", pages.PoolView.as_view(), name="pool"),
    path(
        "pools/<str:branch_code>/days/<str:customer_no>/",
        drill_pages.PoolCustomerDaysView.as_view(),
        name="pool_customer_days",
    ),
    path("disputes/", drill_pages.DisputesView.as_view(), name="disputes"),
    path(
        "disputes/<int:pk>/approve/",
        drill_pages.DisputeDecisionView.as_view(approve=True),
        name="dispute_approve",
    ),
    path(
        "disputes/<int:pk>/reject/",
        drill_pages.DisputeDecisionView.as_view(approve=False),
        name="dispute_reject",
    ),
    path("periods/", publication_pages.PeriodsView.as_view(), name="periods"),
    path("periods/<str:code>/", publication_pages.PeriodView.as_view(), name="period"),
    path(
        "publications/<int:pk>/approve/",
        publication_pages.PublicationDecisionView.as_view(action="approve"),
        name="publication_approve",
    ),
    path(
        "publications/<int:pk>/reject/",
        publication_pages.PublicationDecisionView.as_view(action="reject"),
        name="publication_reject",
    ),
    path(
        "publications/<int:pk>/withdraw/",
        publication_pages.PublicationDecisionView.as_view(action="withdraw"),
        name="publication_withdraw",
    ),
    path("schemes/", scheme_pages.SchemeListView.as_view(), name="schemes"),
    path("schemes/<int:pk>/", scheme_pages.SchemeView.as_view(), name="scheme"),
    path("schemes/<int:pk>/whatif/", scheme_pages.WhatIfView.as_view(), name="whatif"),
    path("ftp/", views.FtpView.as_view(), name="ftp"),
    path("ftp/<int:pk>/approve/", views.FtpDecisionView.as_view(action="approve"), name="ftp_approve"),
    path("ftp/<int:pk>/reject/", views.FtpDecisionView.as_view(action="reject"), name="ftp_reject"),
    path("ftp/<int:pk>/withdraw/", views.FtpDecisionView.as_view(action="withdraw"), name="ftp_withdraw"),
]

from django.urls import path

from . import pages, views

app_name = "performance"

urlpatterns = [
    path("", pages.FiguresView.as_view(), name="figures"),
    path("export/", pages.BoardExportView.as_view(), name="board_export"),
    path("branches/", pages.BranchRankingView.as_view(), name="branches"),
    path("managers/<str:employee_no>/", pages.ManagerView.as_view(), name="manager"),
    path("managers/<str:employee_no>/export/", pages.ManagerExportView.as_view(), name="manager_export"),
    path("ftp/", views.FtpView.as_view(), name="ftp"),
    path("ftp/<int:pk>/approve/", views.FtpDecisionView.as_view(action="approve"), name="ftp_approve"),
    path("ftp/<int:pk>/reject/", views.FtpDecisionView.as_view(action="reject"), name="ftp_reject"),
    path("ftp/<int:pk>/withdraw/", views.FtpDecisionView.as_view(action="withdraw"), name="ftp_withdraw"),
]

from django.urls import path

from . import views

app_name = "performance"

urlpatterns = [
    path("ftp/", views.FtpView.as_view(), name="ftp"),
    path("ftp/<int:pk>/approve/", views.FtpDecisionView.as_view(action="approve"), name="ftp_approve"),
    path("ftp/<int:pk>/reject/", views.FtpDecisionView.as_view(action="reject"), name="ftp_reject"),
    path("ftp/<int:pk>/withdraw/", views.FtpDecisionView.as_view(action="withdraw"), name="ftp_withdraw"),
]

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import audit_pages, user_change_views, views

app_name = "accounts"

urlpatterns = [
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/request/", views.UserRequestView.as_view(), name="user_request"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/approve/", views.UserActionView.as_view(action="approve"), name="user_approve"),
    path("users/<int:pk>/reject/", views.UserActionView.as_view(action="reject"), name="user_reject"),
    path("users/<int:pk>/disable/", views.UserActionView.as_view(action="disable"), name="user_disable"),
    path(
        "users/<int:pk>/reactivate/",
        views.UserActionView.as_view(action="reactivate"),
        name="user_reactivate",
    ),
    path("users/<int:pk>/change/", user_change_views.UserChangeView.as_view(), name="user_change"),
    path("users/changes/", user_change_views.UserChangeListView.as_view(), name="user_change_list"),
    path(
        "users/changes/<int:pk>/approve/",
        user_change_views.UserChangeDecisionView.as_view(action="approve"),
        name="user_change_approve",
    ),
    path(
        "users/changes/<int:pk>/reject/",
        user_change_views.UserChangeDecisionView.as_view(action="reject"),
        name="user_change_reject",
    ),
    path(
        "users/changes/<int:pk>/withdraw/",
        user_change_views.UserChangeDecisionView.as_view(action="withdraw"),
        name="user_change_withdraw",
    ),
    path("audit/", audit_pages.AuditLogView.as_view(), name="audit_list"),
    path("audit/export/", audit_pages.AuditExportView.as_view(), name="audit_export"),
    path("audit/findings/", audit_pages.FindingReportView.as_view(), name="audit_report"),
    path("audit/findings/review/", audit_pages.FindingReviewView.as_view(), name="audit_review"),
    path("audit/usage/", audit_pages.UsageView.as_view(), name="audit_usage"),
]

# Login, logout and password pages keep Django's global names ("login", ...)
# because Django's auth views and LOGIN_URL refer to them.
auth_urlpatterns = [
    path("accounts/login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
]

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

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
    path("audit/", views.AuditTrailView.as_view(), name="audit_list"),
]

# Login, logout and password pages keep Django's global names ("login", ...)
# because Django's auth views and LOGIN_URL refer to them.
auth_urlpatterns = [
    path("accounts/login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
]

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from accounts.urls import auth_urlpatterns

from . import metrics, views

admin.site.site_header = _("Retail CRM")
admin.site.site_title = _("Retail CRM")
admin.site.index_title = _("Administration")


class AdminLoginRedirect(RedirectView):
    """One login page for everybody (with its lockout and audit): the admin's own
    login form redirects there."""

    query_string = True
    pattern_name = "login"


class AdminPasswordChangeRedirect(RedirectView):
    """One password-change page for everybody (with its rules and audit event): the
    admin's own form redirects there."""

    pattern_name = "password_change"


urlpatterns = [
    path("", views.home_page, name="home"),
    path("home/customise/", views.HomeCustomiseView.as_view(), name="home_customise"),
    path("home/widgets/<slug:key>/", views.HomeWidgetView.as_view(), name="home_widget"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    *auth_urlpatterns,
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("crm_portal.api_urls")),
    path("customers/", include("customers.urls")),
    path("vip/", include("vip.urls")),
    path("marketing/", include("marketing.urls")),
    path("care/", include("care.urls")),
    path("performance/", include("performance.urls")),
    path("analysis/", include("analysis.urls")),
    path("credit/", include("credit.urls")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "admin/login/",
        login_not_required(AdminLoginRedirect.as_view()),
        name="admin_login_redirect",
    ),
    path(
        "admin/password_change/",
        AdminPasswordChangeRedirect.as_view(),
        name="admin_password_change_redirect",
    ),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Role, role_label
from accounts.scope import data_scope, user_roles

from . import home


@require_GET
@never_cache
@login_not_required
def healthz(request):
    """Liveness for load balancers and operators: database and broker status."""
    status = {"database": "ok", "broker": "eager"}
    http_status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        status["database"] = "down"
        http_status = 503
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        status["broker"] = _broker_status()
    return JsonResponse(status, status=http_status)


def _broker_status() -> str:
    from crm_portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "down"


def home_page(request):
    """One home page whose panels depend on the user's roles."""
    roles = user_roles(request.user)
    primary = next((r for r in Role.values if r in roles), None)
    context = {
        "primary_role": primary,
        "primary_role_label": role_label(primary) if primary else "",
        "scope": data_scope(request.user),
        "panels": home.panels_for(request.user),
    }
    return render(request, "crm_portal/home.html", context)

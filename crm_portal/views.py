from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import Role, role_label
from accounts.scope import data_scope, user_roles
from core import widgets

from . import home


@require_GET
@never_cache
@login_not_required
def healthz(request):
    """Liveness for load balancers and operators: database and broker status."""
    status = {"database": "ok" if _database_answers() else "down", "broker": _broker_or_eager()}
    return JsonResponse(status, status=200 if status["database"] == "ok" else 503)


@require_GET
@never_cache
@login_not_required
def readyz(request):
    """Readiness, for a load balancer or an orchestrator deciding whether this
    process takes traffic: the database answers, every migration of the code is
    applied to it (a process started before `migrate` ran is not ready), and the
    broker answers when one is configured. HTTP 200 when ready, else 503; the
    body names each check."""
    status = {"database": "down", "migrations": "down", "broker": _broker_or_eager()}
    if _database_answers():
        status["database"] = "ok"
        status["migrations"] = "pending" if _pending_migrations() else "ok"
    ready = all(value in ("ok", "eager") for value in status.values())
    return JsonResponse({"ready": ready, **status}, status=200 if ready else 503)


_MIGRATED = False  # once every migration is applied, it stays so for this process


def _pending_migrations() -> int:
    """How many migrations of the code the database has not applied."""
    global _MIGRATED
    if _MIGRATED:
        return 0
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _MIGRATED = pending == 0
    return pending


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return False
    return True


def _broker_or_eager() -> str:
    """ "eager" when tasks run in-process (no broker), else whether the broker answers."""
    return "eager" if settings.CELERY_TASK_ALWAYS_EAGER else _broker_status()


def _broker_status() -> str:
    from crm_portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "down"


def home_page(request):
    """One home page: the widgets the user chose, else their roles' defaults."""
    roles = user_roles(request.user)
    primary = next((r for r in Role.values if r in roles), None)
    context = {
        "primary_role": primary,
        "primary_role_label": role_label(primary) if primary else "",
        "scope": data_scope(request.user),
        "panels": home.panels_for(request.user),
    }
    return render(request, "crm_portal/home.html", context)


class HomeWidgetView(View):
    """The body of one lazy widget, for the home page's htmx frame; a widget the
    user may not have does not exist for them (404)."""

    def get(self, request, key: str):
        widget = widgets.get(key)
        if widget is None or not widget.available(request.user):
            raise Http404
        context = {"key": key, "ctx": widget.context(request.user, timezone.localdate())}
        return render(request, widget.template, context)


class HomeCustomiseView(View):
    """Choose and order the widgets of one's home page: a checkbox per widget the
    user may have and a number for its place; or back to the defaults."""

    template_name = "crm_portal/home_customise.html"

    def rows(self, request, chosen: list[str]) -> list[dict]:
        position = {key: i for i, key in enumerate(chosen, start=1)}
        available = widgets.available_to(request.user)
        rows = [
            {
                "key": w.key,
                "title": w.title,
                "shown": w.key in position,
                "order": position.get(w.key, len(chosen) + n),
            }
            for n, w in enumerate(available, start=1)
        ]
        return sorted(rows, key=lambda r: (not r["shown"], r["order"]))

    def render_page(self, request, chosen: list[str], *, own: bool, errors=(), status: int = 200):
        context = {
            "rows": self.rows(request, chosen),
            "own": own,
            "errors": list(errors),
            "defaults": [w.title for w in map(widgets.get, home.default_keys(request.user)) if w is not None],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        chosen, own = home.layout_for(request.user)
        return self.render_page(request, [w.key for w in chosen], own=own)

    def post(self, request):
        if request.POST.get("action") == "reset":
            if home.home_layout_reset(user=request.user):
                messages.success(request, _("Your home page shows the defaults of your role again."))
            return redirect("home")
        keys = request.POST.getlist("show")
        errors: list[str] = []
        orders: dict[str, int] = {}
        for key in keys:
            raw = request.POST.get(f"order-{key}", "").strip()
            try:
                orders[key] = int(raw) if raw else 999
            except ValueError:
                errors.append(_("The place of a widget must be a whole number."))
        if not errors:
            ordered = sorted(keys, key=lambda k: (orders[k], keys.index(k)))
            try:
                home.home_layout_set(user=request.user, keys=ordered)
            except ValidationError as exc:
                errors = list(exc.messages)
        if errors:
            chosen, own = home.layout_for(request.user)
            return self.render_page(request, [w.key for w in chosen], own=own, errors=errors, status=400)
        messages.success(request, _("Your home page is saved."))
        return redirect("home")

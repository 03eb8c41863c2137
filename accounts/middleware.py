from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect

from .audit import client_ip, reset_context, set_context


class AuditContextMiddleware:
    """Lets `audit()` know who is acting and from where, for this request only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_context(user=getattr(request, "user", None), ip=client_ip(request))
        try:
            return self.get_response(request)
        finally:
            reset_context(token)


class NoStoreMiddleware:
    """Pages may carry personal data: no browser or proxy keeps a copy. Static
    files keep their own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


class PasswordChangeRequiredMiddleware:
    """A user whose password was set by someone else changes it before anything else."""

    ALLOWED_URL_NAMES = {"password_change", "password_change_done", "logout", "set_language"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.must_change_password):
            return None
        match = request.resolver_match
        if match and (match.url_name in self.ALLOWED_URL_NAMES):
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Change your password in the portal first."}, status=403)
        return redirect("password_change")

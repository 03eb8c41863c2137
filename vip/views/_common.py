"""What the VIP pages share: where to go back to, and how errors reach the page."""

from __future__ import annotations

from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def next_or(request, default: str) -> str:
    """The `next` the form carried, if it is a page of this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def show_errors(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")]:
        messages.error(request, message)


def form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def filter_errors(request, filters) -> None:
    """The filter values a list page did not understand (it ignores them), each
    message saying which value."""
    for errors in filters.errors.values():
        for error in errors:
            messages.error(request, error)

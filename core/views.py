"""The base of every list and detail view over data in a user's scope, so that no
view can forget the scope (NetBox narrows its views' querysets the same way, in
`dispatch`). It imports no app: any queryset whose class answers
`visible_to(user)` will do, and every model holding a customer has one
(`customers.querysets`).

- A list view declares `queryset`. `dispatch` narrows it to the request's user
  before any handler runs: handlers (and the selectors they hand it to) read
  `self.queryset` already narrowed, and the class's unscoped one is never read.
- A detail view declares `access`, its app's `access_<thing>(user, key, *,
  for_change)`, and its handlers fetch with `self.get_object(key, for_change=...)`:
  an object outside the user's scope answers 404, never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.views import View


def show_errors(request, exc: Exception) -> None:
    """A refusal's messages (a ValidationError's, else the exception's text) on the
    next page."""
    for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do this.")]:
        messages.error(request, message)


def form_errors(request, form) -> None:
    """A form's errors as messages, each named by its field's label."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


class ScopedView(View):
    queryset: Any = None
    access: Callable[..., Any] | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.queryset is None and self.access is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no queryset and no access function.")
        if self.queryset is not None:
            narrow = getattr(self.queryset, "visible_to", None)
            if narrow is None:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.queryset has no visible_to(user): it cannot be narrowed."
                )
            self.queryset = narrow(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, key: Any, *, for_change: bool) -> Any:
        access = type(self).access  # the plain function, not bound to the view
        if access is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no access function.")
        return access(self.request.user, key, for_change=for_change)

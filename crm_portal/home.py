"""Home pages: each user's home is a list of widgets that the apps register
(core.widgets); the portal composes them here.

- The layout: the user's own choice (accounts.HomeLayout: widget keys in order),
  else the defaults of their roles. A key no longer registered or no longer
  available to the user (a role taken away) is skipped, never shown.
- A panel: a widget with its context, built now with a bounded number of queries,
  or, for a lazy widget, an empty frame that htmx fills from `home_widget` after
  the page is shown.
- Customising: `home_layout_set` keeps a chosen order of widgets after checking
  every key is one the user may have; `home_layout_reset` goes back to the
  defaults. Both are audited.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import HomeLayout, User
from accounts.scope import user_roles
from core import widgets
from core.widgets import Widget

# The most widgets a home page shows: each one costs queries.
MAX_WIDGETS = 12


@dataclass
class Panel:
    key: str
    title: str | Promise
    template: str
    lazy: bool = False
    context: dict[str, Any] = field(default_factory=dict)


def default_keys(user) -> list[str]:
    return widgets.defaults_for(user, user_roles(user))


def _stored_keys(user) -> list[str] | None:
    try:
        layout = user.home_layout
    except HomeLayout.DoesNotExist:
        return None
    return list(layout.widgets)


def layout_for(user) -> tuple[list[Widget], bool]:
    """The user's widgets in their order, and whether they are the user's own
    choice (False: the defaults of their roles)."""
    stored = _stored_keys(user)
    keys = stored if stored is not None else default_keys(user)
    chosen = []
    for key in keys:
        widget = widgets.get(key)
        if widget is not None and widget.available(user):
            chosen.append(widget)
    return chosen[:MAX_WIDGETS], stored is not None


def panel(widget: Widget, user, day: datetime.date) -> Panel:
    if widget.lazy:
        return Panel(widget.key, widget.title, widget.template, lazy=True)
    return Panel(widget.key, widget.title, widget.template, context=widget.context(user, day))


def panels_for(user, day: datetime.date | None = None) -> list[Panel]:
    day = day or timezone.localdate()
    chosen, _own = layout_for(user)
    return [panel(widget, user, day) for widget in chosen]


def _validated(user, keys: list[str]) -> list[str]:
    errors = []
    seen: set[str] = set()
    for key in keys:
        widget = widgets.get(key)
        if widget is None:
            errors.append(_("There is no widget “%(key)s”.") % {"key": key})
        elif not widget.available(user):
            errors.append(_("The widget “%(title)s” is not available to you.") % {"title": widget.title})
        elif key in seen:
            errors.append(_("The widget “%(title)s” is chosen twice.") % {"title": widget.title})
        seen.add(key)
    if not keys:
        errors.append(_("Choose at least one widget."))
    if len(keys) > MAX_WIDGETS:
        errors.append(_("Choose at most %(max)d widgets.") % {"max": MAX_WIDGETS})
    if errors:
        raise ValidationError(errors)
    return keys


@transaction.atomic
def home_layout_set(*, user: User, keys: list[str]) -> HomeLayout:
    """Keep the user's chosen widgets in this order; refuses a key that is not a
    registered widget the user may have."""
    keys = _validated(user, list(keys))
    layout, created = HomeLayout.objects.select_for_update().get_or_create(
        user=user, defaults={"widgets": keys}
    )
    if not created:
        if layout.widgets == keys:
            return layout
        before = list(layout.widgets)
        layout.widgets = keys
        layout.updated_at = timezone.now()
        layout.save(update_fields=["widgets", "updated_at"])
    else:
        before = default_keys(user)
    audit(
        Action.HOME_LAYOUT_CHANGED,
        actor=user,
        target=user,
        details={"widgets": keys, "before": before},
    )
    return layout


@transaction.atomic
def home_layout_reset(*, user: User) -> bool:
    """Back to the defaults of the user's roles; False if already there."""
    deleted, _rows = HomeLayout.objects.filter(user=user).delete()
    if not deleted:
        return False
    audit(
        Action.HOME_LAYOUT_CHANGED,
        actor=user,
        target=user,
        details={"widgets": default_keys(user), "reset": True},
    )
    return True

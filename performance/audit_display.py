"""How the audit pages (accounts.audit_display) show this app's events: the labels of
the schemes' actions and a scheme's page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .scheme_choices import SchemeAction


def _scheme_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("performance:scheme", args=[int(pk)]) for pk in ids if pk.isdigit()}


ACTIONS = [SchemeAction]
TARGET_LINKS = {"performance.scheme": _scheme_links}
CHANGE_LABELS = {SchemeAction.LEVEL_CHANGED: _("Level")}

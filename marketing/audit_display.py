"""How the audit pages (accounts.audit_display) show this app's events: the labels of
its actions and a campaign's page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import MarketingAction


def _campaign_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("marketing:campaign_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


ACTIONS = [MarketingAction]
TARGET_LINKS = {"marketing.campaign": _campaign_links}
CHANGE_LABELS = {MarketingAction.OPPORTUNITY_ADVANCED: _("Stage")}

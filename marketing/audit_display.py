"""How the audit pages (accounts.audit_display) show this app's events: the labels of
its actions and details, a campaign's and an account-opening request's page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import MarketingAction


def _campaign_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("marketing:campaign_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


def _opening_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("marketing:opening_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


ACTIONS = [MarketingAction]
TARGET_LINKS = {"marketing.campaign": _campaign_links, "marketing.openingrequest": _opening_links}
DETAIL_LABELS = {
    # a channel's changes (marketing/channels.py)
    "contact_channel": _("Contacts customers by"),
    "transaction_channel": _("Core banking's transaction channel"),
    "is_active": _("In use"),
    "via": _("Through"),
    # an account-opening request's steps
    "appointment_at": _("Appointment"),
    "account": _("Account"),
    "sale": _("Sale"),
    "opportunity": _("Opportunity"),
}
CHANGE_LABELS = {MarketingAction.OPPORTUNITY_ADVANCED: _("Stage")}

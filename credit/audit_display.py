"""How the audit pages (accounts.audit_display) label the details of credit's events;
the actions themselves are accounts.audit.Action's."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import QueryPurpose

DETAIL_LABELS = {
    "query": _("Credit-report query"),
    "purpose": _("Purpose"),
    "authorization": _("Authorization"),
    "form_reference": _("Scanned form reference"),
    "signed_on": _("Signed on"),
    "valid_until": _("Valid until"),
    "reference": _("Report reference"),
    "error": _("Bureau error"),
}

# the purposes are stored as codes in the details
VALUE_CHOICES = {"purpose": QueryPurpose}

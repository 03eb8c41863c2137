"""What the marketing pages share: a list's filter and a refusal's messages (both
core's, as every app's pages), and the sentence of a created opportunity."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.listing import Filtered, filtered  # noqa: F401  (re-exported for the marketing pages)
from core.views import show_errors  # noqa: F401  (re-exported for the marketing pages)

from ..models import Opportunity


def opportunity_created(opportunity: Opportunity) -> str:
    """What creating an opportunity did (from a target or as a lead), named."""
    return _("Opportunity created: %(product)s for %(name)s.") % {
        "product": opportunity.product.name,
        "name": opportunity.customer.name,
    }

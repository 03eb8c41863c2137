"""What marketing offers on the customer's 360 view (customers.panels.ACTIONS): the
way to record an account-opening request for the customer, for a user who may add
requests. The 360 view is only shown to a user who may see the customer; the
service checks the scope again when it writes. No query: permissions are cached on
the user.

`register_panels()` is called from MarketingConfig.ready()."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from customers import panels


def customer_opening_action(customer, user) -> list[panels.PanelItem]:
    if user is None or not user.has_perm("marketing.add_openingrequest"):
        return []
    url = f"{reverse('marketing:opening_create')}?{urlencode({'customer': customer.customer_no})}"
    return [panels.PanelItem(text=_("Request an account opening"), url=url)]


def register_panels() -> None:
    panels.register(panels.ACTIONS, customer_opening_action)

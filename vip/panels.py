"""What the VIP area offers on the customer's 360 view (customers.panels.ACTIONS):
the way to the customer's VIP page, and to its forms to assign the customer from the
pool, request a transfer and share the customer for a time -- each only for a user
the VIP page would show that form to (`vip.views.customer_actions._action_forms`
makes the same checks; its services check again when they write).

The assign, transfer and share addresses take a POST only, so the links open the VIP
page at the form (`#assign`, `#transfer`, `#share`). No query: permissions and the
data scope are cached on the user, the manager of record is on the customer row. A
transfer already waiting for approval is not looked up here: the VIP page says so
at the same place (`#transfer`).

`register_panels()` is called from VIPConfig.ready()."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.scope import ScopeKind, data_scope
from customers import panels


def customer_vip_links(customer, user) -> list[panels.PanelItem]:
    if user is None or not user.has_perm("customers.view_customer"):
        return []
    page = reverse("vip:customer", kwargs={"customer_no": customer.customer_no})
    items = [panels.PanelItem(text=_("Tier, VIP status and managers"), url=page)]
    has_manager = customer.primary_manager_id is not None
    if user.has_perm("vip.assign_customer") and not has_manager:
        items.append(panels.PanelItem(text=_("Assign to a manager"), url=f"{page}#assign"))
    if user.has_perm("vip.add_transferrequest") and has_manager:
        items.append(panels.PanelItem(text=_("Request a transfer"), url=f"{page}#transfer"))
    own = customer.primary_manager_id == user.pk
    if user.has_perm("vip.share_customer") and (own or data_scope(user).kind is not ScopeKind.OWN):
        items.append(panels.PanelItem(text=_("Share for a time"), url=f"{page}#share"))
    return items


def register_panels() -> None:
    panels.register(panels.ACTIONS, customer_vip_links)

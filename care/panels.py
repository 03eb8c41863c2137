"""What keeping close adds to the customer's 360 view (customers.panels): the
customer's service subscriptions, each with its channel, masked address and consent
date, linking to the page that records and cancels them; and the links to plan a
visit, record one or set a reminder about the customer.

`register_panels()` is called from CareConfig.ready(): it registers the provider
under the 360 view's services panel (customers.panels.SERVICES)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from customers import panels


def customer_services(customer, user) -> list[panels.PanelItem]:
    """The customer's active subscriptions (one query), then the link to record or
    cancel one for a user who may; nothing for a user who may not see them."""
    from .selectors.outbox import active_subscriptions

    if user is None or not user.has_perm("care.view_servicesubscription"):
        return []
    url = reverse("care:customer_services", kwargs={"customer_no": customer.customer_no})
    items = [
        panels.PanelItem(
            text=f"{s.get_service_display()} · {s.get_channel_display()} {s.destination_masked}".strip(),
            url=url,
            when=s.consent_date,
            note=_("consent date"),
        )
        for s in active_subscriptions(user=user, customer=customer)
    ]
    if user.has_perm("care.add_servicesubscription"):
        # the way to the forms, also when there is nothing to list yet
        items.append(panels.PanelItem(text=_("Record or cancel a subscription"), url=url))
    return items


def register_panels() -> None:
    panels.register(panels.SERVICES, customer_services)
    panels.register(panels.ACTIONS, customer_actions)


def customer_actions(customer, user) -> list[panels.PanelItem]:
    """Links to plan a visit, record one and set a reminder about the customer, for a
    user who may (no query: permissions are cached on the user)."""
    if user is None:
        return []
    query = f"?customer={customer.customer_no}"
    offers = (
        ("care.add_planitem", "care:plan_new", _("Plan a visit")),
        ("care.add_journalentry", "care:journal_new", _("Record a visit")),
        ("care.add_alert", "care:own_reminder_new", _("Set a reminder")),
    )
    return [
        panels.PanelItem(text=str(label), url=reverse(name) + query)
        for permission, name, label in offers
        if user.has_perm(permission)
    ]

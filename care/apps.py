from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Keeping close to customers: alerts raised from the bank's data, the manager's
    plan and visit journal, messages to customers under the contact policy, and the
    customers' service subscriptions."""

    name = "care"
    verbose_name = _("Keep close")

    def ready(self) -> None:
        # The VIP area announces its reminders below us (vip cannot import care):
        # we keep them as alerts. The 360 view's reminders panel is our alerts too.
        from customers import panels
        from vip import events

        from .selectors.alerts import customer_alerts
        from .services.alerts import LISTENER

        events.register(LISTENER)
        panels.register(panels.REMINDERS, customer_alerts)
        # the 360 view's service subscriptions, and the care messages marketing's
        # contact cap counts beside campaign contacts
        from .panels import register_panels
        from .services.outbox import register_policy_source

        register_panels()
        register_policy_source()
        # home-page widgets (core.widgets), composed by crm_portal
        from . import widgets

        widgets.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VIPConfig(AppConfig):
    name = "vip"
    verbose_name = _("VIP customers")

    def ready(self) -> None:
        from customers import panels

        from .selectors import customer_reminders

        panels.register(panels.REMINDERS, customer_reminders)

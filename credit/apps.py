from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Credit")

    def ready(self) -> None:
        # The 360 view and the customer API show a customer's loans and cards
        # without the customers app knowing this one: we register our panel with it.
        from . import panels

        panels.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from customers import panels

        from .selectors import customer_campaigns

        panels.register(panels.CAMPAIGNS, customer_campaigns)

        from . import labels, widgets  # noqa: F401  (product names, core.labels; home-page widgets)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from customers import panels

        from .selectors import customer_campaigns

        panels.register(panels.CAMPAIGNS, customer_campaigns)

        from .panels import register_panels

        register_panels()  # the 360 view's "Request an account opening"

        # product and channel names (core.labels), home-page widgets
        from . import channels, labels, widgets  # noqa: F401

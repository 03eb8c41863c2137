from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VIPConfig(AppConfig):
    name = "vip"
    verbose_name = _("VIP customers")

    def ready(self) -> None:
        from . import widgets  # noqa: F401  (home-page widgets, core.widgets)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VIPConfig(AppConfig):
    name = "vip"
    verbose_name = _("VIP customers")

    def ready(self) -> None:
        from . import labels, widgets  # noqa: F401  (tier names, core.labels; home-page widgets, core.widgets)
        from .user_changes import HANDOVER_PAGES  # noqa: F401  (for accounts.user_changes)

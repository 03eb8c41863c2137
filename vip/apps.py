from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VIPConfig(AppConfig):
    name = "vip"
    verbose_name = _("VIP customers")

    def ready(self) -> None:
        from . import labels, widgets  # noqa: F401  (tier names, core.labels; home-page widgets, core.widgets)
        from .panels import register_panels
        from .user_changes import HANDOVER_PAGES  # noqa: F401  (for accounts.user_changes)

        register_panels()  # links to the VIP page's forms on the customer's 360 view
        from customers.widgets import register_book_figures

        from .selectors.figures import scope_book

        register_book_figures(scope_book)  # the home page's "my customers" from the kept figures

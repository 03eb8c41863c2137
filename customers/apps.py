from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers the token-match lookup)
        from .user_changes import customers_of_record  # noqa: F401  (for accounts.user_changes)
        from .widgets import MY_CUSTOMERS  # noqa: F401  (registers the home-page widgets)

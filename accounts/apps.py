from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and organisation")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (audit of logins and permission changes)
        from .roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")

        from . import widgets  # noqa: F401  (home-page widgets, core.widgets)

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmPortalConfig(AppConfig):
    name = "crm_portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from .schedule import ensure_schedule_after_migrate

        post_migrate.connect(ensure_schedule_after_migrate, dispatch_uid="crm_portal.schedule")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VIPConfig(AppConfig):
    name = "vip"
    verbose_name = _("VIP customers")

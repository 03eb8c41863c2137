from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Customer analysis")

    def ready(self) -> None:
        # The 360 view and the customer API show the analysis without the customers
        # app knowing this one: we register our panel and API section with it.
        from . import panels

        panels.register()

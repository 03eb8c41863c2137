from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self) -> None:
        # the approval flows of this app's maker-checker models
        from . import disputes, parameters, publication, schemes  # noqa: F401
        from .indicators import register_kinds

        # the library's kinds computed from the performance figures
        register_kinds()

        from . import widgets  # noqa: F401  (home-page widgets, core.widgets)

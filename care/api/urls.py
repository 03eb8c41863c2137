"""The API of keeping close (docs/api.md, docs/alerts.md), mounted at /api/v1/."""

from .alerts import urlpatterns as alert_patterns
from .plan import urlpatterns as plan_patterns

urlpatterns = [*alert_patterns, *plan_patterns]

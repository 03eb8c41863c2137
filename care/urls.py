"""Pages of keeping close, each part's patterns from its own views module."""

from .views.alerts import urlpatterns as alert_patterns
from .views.meeting import urlpatterns as meeting_patterns
from .views.outbox import urlpatterns as outbox_patterns
from .views.plan import urlpatterns as plan_patterns

app_name = "care"

urlpatterns = [*alert_patterns, *plan_patterns, *outbox_patterns, *meeting_patterns]

"""The embedded default: SQLite, Celery eager, debug on unless the environment
says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_AUTOREFRESH = True

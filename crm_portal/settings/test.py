"""Tests: the base settings with fast password hashing. Tasks run eagerly in the
test process; the worker test sends to the real broker explicitly."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
CELERY_TASK_ALWAYS_EAGER = True
AXES_FAILURE_LIMIT = 5
WHITENOISE_AUTOREFRESH = True

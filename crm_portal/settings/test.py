"""Tests: the base settings with fast password hashing. Tasks run eagerly in the
test process; the worker test sends to the real broker explicitly."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
CELERY_TASK_ALWAYS_EAGER = True
AXES_FAILURE_LIMIT = 5
WHITENOISE_AUTOREFRESH = True

# Fixed keys for tests only (a real installation has its own, outside the repository).
PII_KEY_FILE = ""
PII_ENCRYPTION_KEYS = "t1:" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
PII_BLIND_INDEX_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="

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

# Test hook of customers.ingest.progress: park a load at a named point (inside its
# transaction) so that a test can kill the process there. Never set elsewhere.
INGEST_TEST_PAUSE_AT = env("INGEST_TEST_PAUSE_AT", default="")  # noqa: F405
INGEST_TEST_PAUSE_SECONDS = env.float("INGEST_TEST_PAUSE_SECONDS", default=3600)  # noqa: F405
INGEST_PYTHON_WORKERS = 1
# The test's transaction is the test connection's own: steps on other connections
# would not see its rows (tests/test_post_load_workers.py runs them side by side).
POST_LOAD_WORKERS = 1

# The test runner empties every table between transactional tests with one TRUNCATE,
# which the audit trail's guard refuses unless the session allows it
# (accounts/migrations/0003_audit_no_truncate.py). Never set outside the tests.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c crm.audit_truncate=allow"  # noqa: F405

# Parallel test processes (pytest-xdist, `-n`) share one Redis database: each keeps
# its cache keys apart; each has its own test database (test_<name>_gw0, ...).
_WORKER = env("PYTEST_XDIST_WORKER", default="")  # noqa: F405
if _WORKER:
    CACHES["default"]["KEY_PREFIX"] = _WORKER  # noqa: F405

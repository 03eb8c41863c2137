"""Settings shared by every mode; everything that differs between machines comes
from the environment (see README)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from crm_portal import queues as celery_queues

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "axes",
    "csp",
    "django_htmx",
    "django_filters",
    "django_celery_beat",
    "guardian",
    "import_export",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # ours, in dependency order
    "core",
    "accounts",
    "customers",
    "vip",
    "marketing",
    "care",
    "performance",
    "analysis",
    "credit",
    "crm_portal",
    "django_prometheus",
    "demo",  # the demo data and batch generators: above everything, imported by nothing
]

MIDDLEWARE = [
    # request latency and counts by view, for /metrics (crm_portal.metrics)
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.sessions.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.AuditContextMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # axes last, as its documentation asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_portal.urls"

# /metrics (crm_portal.metrics): answered to these addresses, or to a request with
# "Authorization: Bearer <METRICS_TOKEN>"; 404 to anyone else.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
WSGI_APPLICATION = "crm_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_portal.context_processors.navigation",
            ],
        },
    },
]

# Database: the embedded default is a SQLite file; production and CI give a
# PostgreSQL URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# PostgreSQL's JIT compilation pays off on long set-based statements (the nightly
# steps) and costs a page 100-300 ms whenever a plan's estimate passes
# jit_above_cost, however few rows it reads: the web process turns it off for its
# connections, the primary's and the replica's (deploy/gunicorn.conf.py sets
# DATABASE_JIT=off).
NO_JIT = not env.bool("DATABASE_JIT", default=True)
# The name-search indexes carry extra columns on PostgreSQL (customers.models:
# SEARCH_COVERED); the embedded SQLite default builds them without, by design.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs Celery eagerly in-process; wait on the write lock
    # instead of failing when the dev server and a task write at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    # A connection per request by default: a threaded server (runserver starts a
    # thread per request) would otherwise keep one per finished thread until
    # PostgreSQL runs out. Under gunicorn's sync workers (one request at a time per
    # process) CONN_MAX_AGE=60 keeps one connection per worker instead.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if NO_JIT:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

# A read replica (docs/operations.md, "Read replica"): when set, the views marked
# `core.replica.replica_reads` (reports, dashboards, exports, the customer search)
# read from it while it answers and keeps up; every other read and every write goes
# to DATABASE_URL (crm_portal.routers).
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=30.0)  # seconds
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # a replica that does not answer costs a page this long, then the primary serves
        DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
            "DATABASE_REPLICA_CONNECT_TIMEOUT", default=2
        )
        if NO_JIT:
            DATABASES["replica"]["OPTIONS"]["options"] = "-c jit=off"
    # tests make no second database: the alias reads the default's test database
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["crm_portal.routers.ReplicaRouter"]
    # early, so that a write anywhere in the request pins the rest of it to the primary
    MIDDLEWARE.insert(1, "crm_portal.routers.PrimaryAfterWriteMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first: it refuses locked-out username + IP pairs before any check
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, the user read with their branch (accounts.backends)
    "accounts.backends.PortalModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassValidator"},
]

# Sessions: 30 minutes idle; server-side so that logout and disabling a user end
# them. Renewed by a request at most once a SESSION_RENEW_AFTER seconds
# (accounts.sessions), not rewritten on every page.
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = 30 * 60
SESSION_RENEW_AFTER = env.int("SESSION_RENEW_AFTER", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login lockout: keyed on username + IP so one user's mistakes never lock out a
# whole branch behind one NAT address; lockouts expire.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Content-Security-Policy: only our own scripts, no inline script anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The Django admin and Chart.js set style attributes; scripts stay strict.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# dates as Y-m-d in both languages (core/formats)
FORMAT_MODULE_PATH = ["core.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"

# Cache: Redis when configured, else local memory (one process, embedded default).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a Redis broker when REDIS_URL is set, else tasks run eagerly in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest job, so a long job is not redelivered mid-run.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600),
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Four queues, each task routed to one with its time limits (crm_portal.queues);
# a task nobody routed would go to the derived jobs' queue rather than be lost.
CELERY_TASK_ROUTES = celery_queues.routes()
CELERY_TASK_ANNOTATIONS = celery_queues.time_limits()
CELERY_TASK_DEFAULT_QUEUE = "derived"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Personal-data API: a client that pages through the whole bank is slowed down.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("API_THROTTLE_RATE", default="600/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retail CRM portal API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object

IMPORT_EXPORT_USE_TRANSACTIONS = True

# Personal data: reveals per user and day above this raise a suspicious-operation alert.
PII_REVEAL_DAILY_LIMIT = env.int("PII_REVEAL_DAILY_LIMIT", default=30)
# Encryption of ID numbers and mobiles (customers.crypto): a key file or the two
# variables; never SECRET_KEY, never the database.
PII_KEY_FILE = env("PII_KEY_FILE", default="")
PII_ENCRYPTION_KEYS = env("PII_ENCRYPTION_KEYS", default="")
PII_BLIND_INDEX_KEY = env("PII_BLIND_INDEX_KEY", default="")
# Display masks may be tightened here (see customers.masking.DEFAULT_RULES).
PII_MASK_RULES: dict = {}
# Customer exports (customers.exports): the most rows one export may hold, the size
# built at once in the request (larger ones go to a Celery task), and how long the
# download link lives.
EXPORT_ROW_CAP = env.int("EXPORT_ROW_CAP", default=50000)
EXPORT_SYNC_ROWS = env.int("EXPORT_SYNC_ROWS", default=2000)
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=24)

# Nightly core-banking load (customers.ingest). The inbox is where core banking drops
# its batches (YYYYMMDD/ with BATCH.ok); loaded ones move to INGEST_INBOX/archive.
# Uploaded batches are unpacked under INGEST_UPLOAD_DIR. With more than one machine
# both must be shared storage (the worker that loads may not be the web process
# that received the upload).
INGEST_INBOX = env.path("INGEST_INBOX", default=BASE_DIR / "var" / "inbox")
INGEST_UPLOAD_DIR = env.path("INGEST_UPLOAD_DIR", default=BASE_DIR / "var" / "uploads")
# A load started this many times without finishing (its worker lost each time) is
# failed with an alert instead of being redelivered again.
INGEST_MAX_ATTEMPTS = env.int("INGEST_MAX_ATTEMPTS", default=3)
# Processes for the Python part of a load (ID check, encryption, name search):
# 0 = every CPU for big files, 1 = in the loading process.
INGEST_PYTHON_WORKERS = env.int("INGEST_PYTHON_WORKERS", default=0)
# Steps after a load run side by side where they can (crm_portal.tasks.AFTER), each
# on a database connection of its own: 2 on PostgreSQL (the second core), 1 on
# SQLite (one writer at a time).
POST_LOAD_WORKERS = env.int(
    "POST_LOAD_WORKERS", default=2 if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else 1
)
# Connections a night's bulk write may use at once on PostgreSQL (core.parallel: the
# customers' figures by ranges of ids; the second core). SQLite writes with one.
BULK_WRITERS = env.int("BULK_WRITERS", default=2)
# Upload limits: the zip as sent, what it may expand to, and the expansion ratio.
INGEST_UPLOAD_MAX_BYTES = env.int("INGEST_UPLOAD_MAX_BYTES", default=512 * 1024 * 1024)
INGEST_UPLOAD_MAX_EXPANDED = env.int("INGEST_UPLOAD_MAX_EXPANDED", default=4 * 1024 * 1024 * 1024)
INGEST_UPLOAD_MAX_RATIO = env.int("INGEST_UPLOAD_MAX_RATIO", default=50)
# The task that runs the jobs depending on fresh data after a load (AUM, RFM,
# data quality, ...); crm_portal composes them. "" = none.
INGEST_AFTER_LOAD_TASK = env("INGEST_AFTER_LOAD_TASK", default="crm_portal.after_load")
# Months of daily history (balances, daily AUM, transaction summaries) kept, the
# current one included: older month partitions are dropped by the nightly steps
# after a load (customers.partitions, PostgreSQL). Monthly figures are kept.
DAILY_HISTORY_MONTHS = env.int("DAILY_HISTORY_MONTHS", default=25)

# Demo users' password (seed_demo); production never runs seed_demo.
# Memory for one computation of a period's performance figures (PostgreSQL
# work_mem, for that transaction only): its sums hash a row per customer.
PERFORMANCE_WORK_MEM = env("PERFORMANCE_WORK_MEM", default="1GB")
# An account-opening request not confirmed this many days after its appointment (or
# its recording, without one) is flagged overdue (marketing.opening_matches).
OPENING_OVERDUE_DAYS = env.int("OPENING_OVERDUE_DAYS", default=7)
DEMO_PASSWORD = env("DEMO_PASSWORD", default="Crm-Demo-2026!")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "crm_portal.logs.JsonFormatter"},
    },
    # LOG_FORMAT=json: one JSON object a line, for a log collector (crm_portal.logs)
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
# Care messages by SMS (care.channels): a class with send(*, to, text, reference); the
# default only logs a masked line and sends nothing.
CARE_SMS_BACKEND = env("CARE_SMS_BACKEND", default="care.channels.LoggingSmsBackend")
# Credit-report queries (credit.bureau): the bureau adapter, a class with
# query(request) -> BureauResult; the default asks no bureau, logs a line without
# personal data and answers the reference "LOG-<query id>".
CREDIT_BUREAU_BACKEND = env("CREDIT_BUREAU_BACKEND", default="credit.bureau.LoggingBureau")

"""gunicorn settings of the portal's web process (docs/operations.md, "Deployment").

Sync workers take one request at a time and keep one PostgreSQL connection each
(CONN_MAX_AGE=60 in the environment file): workers × web hosts must stay well under
PostgreSQL's max_connections, with room for the Celery workers and beat. Every
value can be overridden by the environment (GUNICORN_WORKERS, GUNICORN_BIND, ...)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# two workers a core: requests wait on PostgreSQL part of their time
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# a request longer than this is killed (exports larger than EXPORT_SYNC_ROWS are
# built by a Celery worker, never in the request)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# recycle a worker after a few thousand requests (memory held by a large page)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
# behind nginx on the same host: trust its X-Forwarded-* headers only
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# no JIT compilation of the pages' statements (crm_portal.settings.base)
os.environ.setdefault("DATABASE_JIT", "off")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

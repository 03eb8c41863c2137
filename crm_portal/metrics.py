"""Prometheus metrics (docs/operations.md, "Metrics") at /metrics: request latency
and counts by view (django-prometheus's middleware), and, read when scraped, the
Celery queues' depth and the newest batch load's duration, rows and business date.

Not a public page: answered only to the addresses of METRICS_ALLOWED_IPS (default
the host itself) or to a request bearing METRICS_TOKEN; anyone else gets a 404.
Under gunicorn each worker process counts its own requests: set
PROMETHEUS_MULTIPROC_DIR (an empty directory, cleared at start) and the page adds
up every worker's figures."""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from crm_portal.queues import QUEUE_NAMES

# kombu's Redis transport keeps a queue's priority levels as separate lists
_PRIORITY_KEYS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class PortalCollector:
    """What the portal knows at scrape time: a query and a few Redis calls."""

    def collect(self):
        depth = GaugeMetricFamily("crm_queue_depth", "Tasks waiting in a Celery queue", labels=["queue"])
        for queue, waiting in queue_depths().items():
            depth.add_metric([queue], waiting)
        yield depth
        load = newest_load()
        if load is not None:
            yield GaugeMetricFamily(
                "crm_load_duration_seconds",
                "Duration of the newest finished batch load",
                value=load["seconds"],
            )
            yield GaugeMetricFamily(
                "crm_load_rows", "Rows the newest finished batch load loaded", value=load["rows"]
            )
            yield GaugeMetricFamily(
                "crm_load_business_date_timestamp",
                "Business date of the newest finished batch load (Unix time, midnight UTC)",
                value=load["business_date"],
            )

    def describe(self):
        return []


def queue_depths() -> dict[str, int]:
    """Tasks waiting per queue (none when the broker is not Redis or does not answer:
    an empty family, and the scrape still succeeds)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not str(settings.CELERY_BROKER_URL).startswith("redis"):
        return {}
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        with client.pipeline() as pipe:
            for queue in QUEUE_NAMES:
                for suffix in _PRIORITY_KEYS:
                    pipe.llen(queue + suffix)
            lengths = pipe.execute()
    except redis.RedisError:
        return {}
    per = len(_PRIORITY_KEYS)
    return {queue: sum(lengths[i * per : (i + 1) * per]) for i, queue in enumerate(QUEUE_NAMES)}


def newest_load() -> dict[str, float] | None:
    import calendar

    from customers.choices import BatchStatus
    from customers.models import BatchLoad

    load = (
        BatchLoad.objects.filter(
            status=BatchStatus.LOADED, started_at__isnull=False, finished_at__isnull=False
        )
        .order_by("-finished_at")
        .values("started_at", "finished_at", "rows_loaded", "business_date")
        .first()
    )
    if load is None:
        return None
    day, started, finished = load["business_date"], load["started_at"], load["finished_at"]
    assert started is not None and finished is not None  # filtered above
    return {
        "seconds": (finished - started).total_seconds(),
        "rows": float(load["rows_loaded"]),
        "business_date": float(calendar.timegm(day.timetuple())) if day else 0.0,
    }


_registered = False


def _registry() -> CollectorRegistry:
    global _registered
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(PortalCollector())
        return registry
    if not _registered:
        REGISTRY.register(PortalCollector())
        _registered = True
    return REGISTRY


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


@require_GET
@never_cache
@login_not_required
def metrics(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)

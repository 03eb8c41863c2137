"""Prometheus metrics (crm_portal.metrics) at /metrics: request latency by view,
the Celery queues' depth and the newest load's duration and rows; answered to the
allowed addresses or the metrics token only, a 404 to anyone else."""

import datetime

import pytest
from django.utils import timezone

from customers.choices import BatchStatus
from customers.models import BatchLoad

pytestmark = pytest.mark.django_db


def _metrics(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_the_page_counts_requests_and_shows_the_newest_load(client, settings):
    finished = timezone.now()
    BatchLoad.objects.create(
        business_date=datetime.date(2026, 12, 4),
        digest="d" * 64,
        status=BatchStatus.LOADED,
        started_at=finished - datetime.timedelta(seconds=172.5),
        finished_at=finished,
        rows_loaded=2_500_000,
    )
    client.get("/healthz")

    text = _metrics(client)

    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz"}' in text
    assert "crm_load_duration_seconds 172.5" in text
    assert "crm_load_rows 2.5e+06" in text
    assert "crm_load_business_date_timestamp 1.7963424e+09" in text  # 2026-12-04 00:00 UTC


def test_the_queue_depth_is_read_from_the_broker(client, settings):
    import redis

    settings.CELERY_TASK_ALWAYS_EAGER = False
    url = settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/15"
    settings.CELERY_BROKER_URL = url
    try:
        broker = redis.Redis.from_url(url, socket_connect_timeout=1)
        broker.ping()
    except redis.RedisError:
        pytest.skip("no Redis to hold the queues")
    broker.delete("exports")
    broker.rpush("exports", "a", "b", "c")
    try:
        text = _metrics(client)
    finally:
        broker.delete("exports")
    assert 'crm_queue_depth{queue="exports"} 3.0' in text
    assert 'crm_queue_depth{queue="load"} 0.0' in text


def test_a_broker_that_does_not_answer_leaves_the_depth_out(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    text = _metrics(client)
    assert "crm_queue_depth{" not in text and "# HELP crm_queue_depth" in text


def test_others_get_a_404_unless_they_bear_the_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.2.3"]
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert "crm_queue_depth" in _metrics(client, HTTP_AUTHORIZATION="Bearer s3cret-token")
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404

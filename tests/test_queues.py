"""The Celery queues (crm_portal.queues): every task the portal registers goes to
one of the four queues with its time limits, the worker `make worker` starts serves
all four, and the broker does not hand a running task to a second worker before the
longest time limit has killed it."""

import re
from pathlib import Path

from django.conf import settings

from crm_portal.celery import app
from crm_portal.queues import QUEUE_NAMES, QUEUES, longest_time_limit

ROOT = Path(__file__).resolve().parent.parent


def _our_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_is_routed_to_one_queue_with_time_limits():
    tasks = _our_tasks()
    assert "crm_portal.nightly_load" in tasks and "customers.export_build" in tasks  # the registry is read
    routed = [task for q in QUEUES for task in q.tasks]
    assert len(routed) == len(set(routed)), "a task is in two queues"
    assert tasks == set(routed), (
        f"unrouted: {sorted(tasks - set(routed))}; gone: {sorted(set(routed) - tasks)}"
    )
    for task in tasks:
        queue = app.amqp.router.route({}, task)["queue"].name
        limits = settings.CELERY_TASK_ANNOTATIONS[task]
        assert queue in QUEUE_NAMES
        assert 0 < limits["soft_time_limit"] < limits["time_limit"]


def test_a_night_load_and_an_export_do_not_share_a_queue():
    route = app.amqp.router.route
    assert route({}, "crm_portal.nightly_load")["queue"].name == "load"
    assert route({}, "customers.export_build")["queue"].name == "exports"
    assert route({}, "care.send_due_messages")["queue"].name == "messages"
    assert route({}, "performance.compute_version")["queue"].name == "derived"


def test_the_broker_keeps_a_task_for_a_worker_longer_than_any_task_may_run():
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > longest_time_limit()
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_make_worker_serves_every_queue():
    worker = re.search(r"^worker:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert worker is not None
    queues = re.search(r"-Q (\S+)", worker.group(1))
    assert queues is not None and set(queues.group(1).split(",")) == set(QUEUE_NAMES)

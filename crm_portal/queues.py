"""The Celery queues (docs/operations.md, "Workers and queues"): each task goes to one
of four queues, and each queue's tasks have their time limits, so that a night's
load never waits behind a thousand exports, a stuck message send never holds a load
worker, and a worker can be sized and restarted per kind of work.

Every task is acknowledged late and re-queued when its worker is lost
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST) and a worker takes one
task at a time (prefetch 1): a worker killed mid-task leaves it to another, and the
tasks are written to be run again (a load counts its starts and resumes; the
derived jobs rewrite their figures in one transaction). Redis hands an unacknowledged
task to another worker after the broker's visibility timeout, which must outlast
the longest time limit (tests/test_queues.py), or a long load would run twice.

Read by the settings (routes, and time limits as task annotations) and by `make worker`; imports nothing
of Django's."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE = 60
HOUR = 60 * MINUTE


@dataclass(frozen=True)
class Queue:
    name: str
    tasks: tuple[str, ...]
    time_limit: int  # seconds: the task is killed
    soft_time_limit: int  # seconds: SoftTimeLimitExceeded is raised in the task, which rolls back


QUEUES = (
    Queue(
        "load",
        (
            "crm_portal.nightly_load",
            "crm_portal.after_load",
            "customers.ingest_load",
        ),
        time_limit=4 * HOUR,
        soft_time_limit=4 * HOUR - 10 * MINUTE,
    ),
    Queue(
        "derived",
        (
            "vip.evaluate_tiers",
            "vip.figures",
            "vip.contact_warnings",
            "vip.expire_shares",
            "customers.quality_scan",
            "performance.compute_version",
            "performance.recalculate_dispute",
            "care.run_alerts",
            "care.daily_alerts",
            "marketing.profile_refresh",
            "marketing.sales_from_new_accounts",
            "analysis.train_churn_model",
            "accounts.clear_expired_sessions",
        ),
        time_limit=2 * HOUR,
        soft_time_limit=2 * HOUR - 5 * MINUTE,
    ),
    Queue(
        "exports",
        ("customers.export_build", "customers.export_expire"),
        time_limit=30 * MINUTE,
        soft_time_limit=28 * MINUTE,
    ),
    Queue(
        "messages",
        ("care.send_due_messages", "care.messages_from_alerts"),
        time_limit=15 * MINUTE,
        soft_time_limit=14 * MINUTE,
    ),
)
QUEUE_NAMES = tuple(q.name for q in QUEUES)


def routes() -> dict[str, dict[str, str]]:
    return {task: {"queue": q.name} for q in QUEUES for task in q.tasks}


def time_limits() -> dict[str, dict[str, int]]:
    return {
        task: {"time_limit": q.time_limit, "soft_time_limit": q.soft_time_limit}
        for q in QUEUES
        for task in q.tasks
    }


def longest_time_limit() -> int:
    return max(q.time_limit for q in QUEUES)

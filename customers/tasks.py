"""Thin tasks: ids in, a service called, its result out."""

from celery import shared_task


@shared_task(name="customers.export_build", acks_late=True)
def export_build_task(job_id: int) -> str:
    """Build the file of one export job; a re-run of a finished job does nothing."""
    from customers.exports import export_build

    return export_build(job_id)


@shared_task(name="customers.export_expire")
def export_expire_task() -> int:
    """Clear the files of exports whose download link has expired (set-based)."""
    from customers.exports import export_expire

    return export_expire()


@shared_task(name="customers.quality_scan")
def quality_scan_task() -> dict[str, int]:
    """The data-quality scan (set-based). It runs after every load, and daily on its
    own: expired risk assessments appear on days without a batch too."""
    from customers.quality import quality_scan

    return quality_scan()


@shared_task(
    name="customers.ingest_load",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def ingest_load_task(self, load_id: int) -> str:
    """Run one recorded batch load. Acknowledged only when it ends, so a lost worker
    gets it redelivered; the load counts its starts in the database and stops with
    an alert past INGEST_MAX_ATTEMPTS. While another load runs it waits (retries
    every minute, for up to a day) without counting an attempt."""
    from customers.ingest.runner import LoadBusy, ingest_run

    try:
        return ingest_run(load_id).status
    except LoadBusy as busy:
        raise self.retry(exc=busy, countdown=60, max_retries=24 * 60) from busy

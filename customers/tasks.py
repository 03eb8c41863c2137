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

"""Thin tasks: ids in, a service called. Computing a period takes about a minute at
the bank's size, so what a person starts on a page (closing a period, a dispute's
recalculation) runs here, after the request has committed."""

from celery import shared_task


@shared_task(name="performance.compute_version", acks_late=True)
def compute_version_task(version_id: int, user_id: int | None = None) -> dict:
    """Compute a proposed version's figures (harmless to run twice: a version already
    computed is left alone)."""
    from performance.publication import proposed_version_compute

    return proposed_version_compute(version_id=version_id, user_id=user_id)


@shared_task(name="performance.recalculate_dispute", acks_late=True)
def recalculate_dispute_task(dispute_id: int, user_id: int) -> list:
    """Compute again the periods holding the days of an approved dispute."""
    from performance.disputes import dispute_recalculate

    return dispute_recalculate(dispute_id=dispute_id, user_id=user_id)

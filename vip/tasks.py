"""Thin tasks: a service called, its counts out. Each is harmless to run twice."""

from celery import shared_task


@shared_task(name="vip.evaluate_tiers", acks_late=True)
def evaluate_tiers_task(as_of: str | None = None) -> dict:
    """The tier evaluation, then the contact warnings of major customers, whose
    tiers it may have changed. Nightly it runs as a post-load step of the core-banking
    load (crm_portal.tasks.POST_LOAD_STEPS); this task is for a run by hand."""
    import datetime

    from vip.evaluation import evaluate_tiers
    from vip.services import figures_rebuild
    from vip.standards import contact_warnings_refresh

    run = evaluate_tiers(as_of=datetime.date.fromisoformat(as_of) if as_of else None)
    warnings = contact_warnings_refresh()
    build = figures_rebuild()  # the tiers changed under the kept figures
    return {
        "run": run.pk,
        "figures_seconds": build.seconds,
        "counts": {k: v for k, v in run.counts.items() if k != "timings"},
        "warnings": warnings,
    }


@shared_task(name="vip.figures")
def figures_task() -> dict:
    """The kept figures of the books and the VIP report built again."""
    from vip.services import figures_rebuild

    build = figures_rebuild()
    return {"business_date": build.business_date.isoformat(), "seconds": build.seconds}


@shared_task(name="vip.contact_warnings")
def contact_warnings_task() -> dict:
    """Overdue contacts of major customers. It runs after every load, and daily on
    its own: a contact falls overdue on days without a batch too."""
    from vip.standards import contact_warnings_refresh

    return contact_warnings_refresh()


@shared_task(name="vip.expire_shares")
def expire_shares_task() -> int:
    """Delete the temporary shares whose time is up (they already stopped counting)."""
    from vip.services import shares_expire

    return shares_expire()

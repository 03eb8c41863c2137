"""Thin tasks: a service called. The churn model is trained again once a month
(beat entry "Monthly churn model training", crm_portal.schedule), after the month
just closed has been loaded."""

from celery import shared_task


@shared_task(name="analysis.train_churn_model", acks_late=True)
def train_churn_model_task() -> dict:
    """Train a new churn model version on the history (analysis.training). Harmless
    to run twice: a history the version in use was trained on is not trained on
    again. Returns whether it trained, the version in use and the outcome."""
    from analysis.models import ChurnModel
    from analysis.training import train

    outcome = train(unless_trained=True)
    in_use = ChurnModel.objects.filter(active=True).values_list("number", flat=True).first()
    return {"trained": outcome.trained, "version": in_use, "message": str(outcome)}

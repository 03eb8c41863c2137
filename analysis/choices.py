from django.db import models
from django.utils.translation import gettext_lazy as _


class ChurnSource(models.TextChoices):
    """Where a customer's churn probability comes from."""

    MODEL = "model", _("Trained model")
    RULES = "rules", _("Rules (not enough history yet)")


class ModelKind(models.TextChoices):
    LOGISTIC = "logistic", _("Logistic regression")

"""The numbers of the alert rules (docs/alerts.md, "Parameters"), maker-checker: a
parameter manager proposes new values, someone else approves, and only then are
they in force (care.parameters)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.approvals import ChangeProposal


class AlertParameters(models.Model):
    """The values in force: one row, written only by an approved proposal. A number
    the row does not hold is at its default (care.parameters.DEFAULTS), so a new
    installation needs no row at all."""

    # {name: value as text}, e.g. {"birthday_days": "7", "outflow_amount": "100000"}
    values = models.JSONField(_("values"), default=dict)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("alert parameters")
        verbose_name_plural = _("alert parameters")

    def __str__(self) -> str:
        return str(_("Alert parameters"))


class AlertParameterProposal(ChangeProposal):
    """A proposed change of alert parameters. changes: {name: new value as text};
    base: the values they replace, as in force when proposed (an approval refuses
    when they moved since). Approved proposals are the parameters' history."""

    class Meta:
        verbose_name = _("alert parameter proposal")
        verbose_name_plural = _("alert parameter proposals")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_alertparameterproposal", _("Can approve alert parameter proposals"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

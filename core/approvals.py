"""Maker-checker, the part every model shares: who proposed a change and when, who
decided on it, when and with which note, and the four states an approval goes
through (pending → approved | rejected, or withdrawn by its proposer).

A model that waits for a second person inherits `ApprovalRecord`. Where its status
is nothing but the approval (a tier-parameter proposal, a product change), the
status field holds `ApprovalStatus`. Where the model has a longer lifecycle of its
own (a campaign: draft → submitted → approved | rejected → running → closed →
evaluated), it keeps its statuses and names, in `APPROVAL_STATUSES`, which of them
are the approval's states; the others are before or after the approval.

The one service that decides, `accounts.approvals.decide`, sits above this module
with the audit trail: core imports no app, so the user model is
`settings.AUTH_USER_MODEL` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProposalSource(models.TextChoices):
    """How a proposal was made."""

    FORM = "form", _("Form")
    IMPORT = "import", _("Spreadsheet import")


class ApprovalRecord(models.Model):
    """The fields of a decision by a second person. `proposed_by` may not decide
    (`is_proposed_by`); `decided_by`, `decided_at` and `decision_note` are written
    once, by the decision (or the proposer's withdrawal)."""

    # The model's own status value for each approval state it has. The default
    # suits a status field holding ApprovalStatus; a model with a lifecycle of its
    # own maps its values (a state it cannot take is left out, e.g. a campaign is
    # never withdrawn).
    APPROVAL_STATUSES: ClassVar[Mapping[str, str]] = {state: state for state in ApprovalStatus.values}
    APPROVAL_STATUS_FIELD: ClassVar[str] = "status"

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def status_for(cls, state: str) -> str | None:
        """The model's own status value for an approval state (None: it has none)."""
        return cls.APPROVAL_STATUSES.get(state)

    @property
    def approval_status(self) -> str | None:
        """The approval state the item is in (None: before or after its approval,
        e.g. a draft or a running campaign)."""
        current = getattr(self, self.APPROVAL_STATUS_FIELD)
        for state, own in self.APPROVAL_STATUSES.items():
            if own == current:
                return state
        return None

    @property
    def is_pending(self) -> bool:
        return self.approval_status == ApprovalStatus.PENDING

    def is_proposed_by(self, user: Any) -> bool:
        """Whether this is the user's own proposal, which they may not decide on."""
        return self.proposed_by_id is not None and self.proposed_by_id == getattr(user, "pk", None)

    def status_label(self, value: str | None = None) -> str:
        """The label of a status value of this model (its current one by default)."""
        field = cast(models.Field, self._meta.get_field(self.APPROVAL_STATUS_FIELD))
        value = getattr(self, self.APPROVAL_STATUS_FIELD) if value is None else value
        return str(dict(field.flatchoices).get(value, value))


class ChangeProposal(ApprovalRecord):
    """A proposed change of reference values (parameters, the product catalogue):
    `changes` holds the new values, `base` the values they replace as they were when
    proposed, so that an approval can refuse when they moved since. Each model says
    the shape of both."""

    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    changes = models.JSONField(_("changes"), default=dict)
    base = models.JSONField(_("values before"), default=dict)
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(
        _("source"), max_length=10, choices=ProposalSource.choices, default=ProposalSource.FORM
    )

    class Meta(ApprovalRecord.Meta):
        abstract = True

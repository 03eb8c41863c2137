from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.approvals import ApprovalStatus, ProposalSource  # noqa: F401  (ProposalSource re-exported)


class VipStatus(models.TextChoices):
    """The VIP lifecycle as `Customer.vip_status` stores it ("" = none of these)."""

    NONE = "", pgettext_lazy("VIP status", "None")
    POTENTIAL = "potential", _("Potential VIP")
    TO_BE_WON = "to_be_won", _("VIP to be won")
    REGISTERED = "registered", _("Registered VIP")
    LIQUIDATED = "liquidated", _("Liquidated VIP")


class TierChangeSource(models.TextChoices):
    UPGRADE = "upgrade", _("Upgrade by rule")
    DOWNGRADE = "downgrade", _("Downgrade after the observation period")
    RULE = "rule", _("Re-evaluated by rule (level withdrawn)")
    OVERRIDE = "override", _("Manual override")
    OVERRIDE_END = "override_end", _("Override ended")


class OverrideEnd(models.TextChoices):
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    REPLACED = "replaced", _("Replaced by a newer override")


# A parameter proposal's status is nothing but its approval's.
ProposalStatus = ApprovalStatus


class TransferStatus(models.TextChoices):
    """A transfer request's approval states; "cancelled" is the approval's
    "withdrawn" (`TransferRequest.APPROVAL_STATUSES`): by the requester, or by a
    recall of the customer or of the new manager's book."""

    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ProspectSource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event or salon")
    WALK_IN = "walk_in", _("Walk-in at the outlet")
    ASSETS_ELSEWHERE = "assets_elsewhere", _("Customer with assets at another bank")
    PAYROLL = "payroll", _("Payroll or corporate client")
    OTHER = "other", _("Other")


class ProspectStatus(models.TextChoices):
    OPEN = "open", _("Being won")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Preview")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class BatchSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded list")
    SEARCH = "search", _("Search result")


class BatchRowOutcome(models.TextChoices):
    """What a row of a batch assignment will do (preview) or did (done)."""

    ASSIGN = "assign", _("Assign from the pool")
    TRANSFER = "transfer", _("Transfer request (needs approval)")
    UNCHANGED = "unchanged", _("Already with this manager")
    ERROR = "error", _("Error")
    ASSIGNED = "assigned", _("Assigned")
    REQUESTED = "requested", _("Transfer requested")

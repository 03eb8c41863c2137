from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    # raised by the rules of docs/alerts.md from the bank's data
    BIRTHDAY = "birthday", _("Birthday")
    MATURITY = "maturity", _("Maturity")
    RISK_EXPIRY = "risk_expiry", _("Risk assessment expiring")
    LARGE_OUTFLOW = "large_outflow", _("Large outflow")
    DORMANCY = "dormancy", _("Dormancy")
    TIER_CHANGE = "tier_change", _("Tier changed")
    DOWNGRADE_WARNING = "downgrade_warning", _("Downgrade warning")
    CONTACT_OVERDUE = "contact_overdue", _("Contact overdue")
    OVERDUE = "overdue", _("Loan or card past due")
    # raised by events in the portal (formerly the VIP reminders)
    POTENTIAL_VIP = "potential_vip", _("New potential VIP")
    TEAM_OVERDUE = "team_overdue", _("A manager's contacts are overdue")
    CUSTOMER_ASSIGNED = "customer_assigned", _("Customer assigned to you")
    CUSTOMER_SHARED = "customer_shared", _("Customer shared with you")
    TRANSFER_DECIDED = "transfer_decided", _("Transfer decided")
    # raised by the customer analysis: the save list (docs/analysis.md)
    AT_RISK = "at_risk", _("Valuable customer at risk of leaving")
    # set by the manager for themselves
    OWN = "own", _("My own reminder")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    DONE = "done", _("Done")
    DISMISSED = "dismissed", _("Dismissed")


class AlertPriority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class AlertOutcome(models.TextChoices):
    CONTACTED = "contacted", _("Contacted")
    NOT_REACHABLE = "not_reachable", _("Not reachable")
    NOT_NEEDED = "not_needed", _("Not needed")
    FOLLOW_UP = "follow_up", _("Follow-up planned")


# --- the work plan and the visit journal (care/models/plan.py) ---


class PlanKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")
    TODO = "todo", _("To-do")


class PlanRecurrence(models.TextChoices):
    NONE = "none", _("Does not repeat")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class PlanStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class JournalKind(models.TextChoices):
    """How the manager met the customer; recorded on the customer's timeline as an
    interaction of the same kind."""

    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")


class VisitPurpose(models.TextChoices):
    KEEP_IN_TOUCH = "keep_in_touch", _("Keeping in touch")
    PRODUCT = "product", _("Product recommendation")
    MATURITY = "maturity", _("Maturity follow-up")
    ASSET_REVIEW = "asset_review", _("Asset allocation review")
    SERVICE = "service", _("Service request")
    COMPLAINT = "complaint", _("Complaint handling")
    CARE = "care", _("Care (birthday, holiday)")
    OTHER = "other", _("Other")


# --- messages (outbox) and service subscriptions ---------------------------------------


class MessageChannel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held")
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class MessagePurpose(models.TextChoices):
    """What a template is for, which decides who may receive it (care.services.outbox)."""

    GREETING = "greeting", _("Greeting")
    SERVICE_NOTICE = "notice", _("Service notice")
    INTERNAL = "internal", _("Message to a user")


class ServiceKind(models.TextChoices):
    """Service applications (服务签约) a customer subscribes to."""

    SMS_BALANCE_ALERT = "sms_balance_alert", _("SMS balance alerts")
    PHONE_NOTICE = "phone_notice", _("Phone notice")
    E_STATEMENT = "e_statement", _("E-statement")


class SubscriptionChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")

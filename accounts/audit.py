"""The one way to write the audit trail.

`audit()` takes the actor and IP from the current request when the caller does not
give them (the audit-context middleware sets them for each request), so services
deep in the call stack need not thread the request through.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


class Action(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Logout")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    USER_REQUESTED = "user_requested", _("User account requested")
    USER_APPROVED = "user_approved", _("User account approved")
    USER_REJECTED = "user_rejected", _("User account rejected")
    USER_DISABLED = "user_disabled", _("User disabled")
    USER_REACTIVATION_REQUESTED = "user_reactivation", _("User reactivation requested")
    ROLES_CHANGED = "roles_changed", _("Roles changed")
    USER_CHANGE_REQUESTED = "user_change_requested", _("Change of roles or branch requested")
    USER_CHANGE_APPROVED = "user_change_approved", _("Change of roles or branch approved")
    USER_CHANGE_REJECTED = "user_change_rejected", _("Change of roles or branch rejected")
    USER_CHANGE_WITHDRAWN = "user_change_withdrawn", _("Change of roles or branch withdrawn")
    PERMISSIONS_CHANGED = "permissions_changed", _("Permissions changed")
    TOKEN_ISSUED = "token_issued", _("API token issued")
    PII_REVEALED = "pii_revealed", _("Personal data revealed")
    SUSPICIOUS_ACTIVITY = "suspicious", _("Suspicious operation")
    EXPORT = "export", _("Export")
    CUSTOMER_CREATED = "customer_created", _("Customer created")
    CUSTOMER_UPDATED = "customer_updated", _("Customer updated")
    CUSTOMER_MERGED = "customer_merged", _("Customers merged")
    ASSIGNMENT_CHANGED = "assignment_changed", _("Assignment changed")
    GRANT_CHANGED = "grant_changed", _("Customer access granted or revoked")
    TIER_CHANGED = "tier_changed", _("Tier changed")
    PARAMETER_CHANGED = "parameter_changed", _("Parameter changed")
    PERFORMANCE_COMPUTED = "performance_computed", _("Performance figures computed")
    CHURN_MODEL_TRAINED = "churn_model_trained", _("Churn model trained")
    CREDIT_AUTHORIZATION_RECORDED = "credit_auth_recorded", _("Credit-report authorization recorded")
    CREDIT_AUTHORIZATION_REVOKED = "credit_auth_revoked", _("Credit-report authorization revoked")
    CREDIT_QUERY_REQUESTED = "credit_query_requested", _("Credit-report query requested")
    CREDIT_QUERY_REFUSED = "credit_query_refused", _("Credit-report query refused")
    CREDIT_QUERY_DECIDED = "credit_query_decided", _("Credit-report query decided")
    CREDIT_QUERY_SENT = "credit_query_sent", _("Credit-report query sent to the bureau")
    PERFORMANCE_PROPOSED = "performance_proposed", _("Performance figures proposed for publication")
    PERFORMANCE_PUBLISHED = "performance_published", _("Performance figures published")
    DISPUTE_RAISED = "dispute_raised", _("Credited customer disputed")
    DISPUTE_DECIDED = "dispute_decided", _("Dispute of a credited customer decided")
    BATCH_LOADED = "batch_loaded", _("Batch load")
    INTERACTION_LOGGED = "interaction_logged", _("Contact logged")
    REMINDER_DONE = "reminder_done", _("Reminder done")
    ASSIGNMENT_BATCH_PREPARED = "assignment_batch_prepared", _("Batch assignment prepared")
    ASSIGNMENT_BATCH_CANCELLED = "assignment_batch_cancelled", _("Batch assignment cancelled")
    HOME_LAYOUT_CHANGED = "home_layout_changed", _("Home page layout changed")
    # keep close: the work plan, the visit journal and own reminders
    PLAN_ITEM_CREATED = "plan_item_created", _("Plan item created")
    PLAN_ITEM_CHANGED = "plan_item_changed", _("Plan item changed")
    PLAN_ITEM_DONE = "plan_item_done", _("Plan item done")
    PLAN_ITEM_CANCELLED = "plan_item_cancelled", _("Plan item cancelled")
    JOURNAL_ENTRY_RECORDED = "journal_entry_recorded", _("Visit journal entry recorded")
    OWN_REMINDER_SET = "own_reminder_set", _("Own reminder set")
    # keep close: the alert rules (care.engine)
    ALERTS_EVALUATED = "alerts_evaluated", _("Alert rules evaluated")
    ALERTS_ESCALATED = "alerts_escalated", _("Overdue alerts escalated")
    # keep close: an alert's life
    ALERT_DONE = "alert_done", _("Alert done")
    ALERT_SNOOZED = "alert_snoozed", _("Alert snoozed")
    ALERT_HANDED_OVER = "alert_handed_over", _("Alert handed over")
    ALERT_DISMISSED = "alert_dismissed", _("Alert dismissed")
    # keep close: messages to customers and their service subscriptions
    MESSAGE_QUEUED = "message_queued", _("Message queued")
    MESSAGES_FROM_ALERTS = "messages_from_alerts", _("Care messages queued from alerts")
    SUBSCRIPTION_ADDED = "subscription_added", _("Service subscription added")
    SUBSCRIPTION_CANCELLED = "subscription_cancelled", _("Service subscription cancelled")
    # the audit pages: a customer refused as outside the user's scope, a finding reviewed
    CUSTOMER_ACCESS_REFUSED = "customer_access_refused", _("Customer outside the scope refused")
    FINDING_REVIEWED = "finding_reviewed", _("Suspicious-operation finding reviewed")


@dataclass(frozen=True)
class AuditContext:
    user: Any
    ip: str | None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


def set_context(*, user: Any, ip: str | None) -> contextvars.Token:
    return _context.set(AuditContext(user=user, ip=ip))


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def client_ip(request) -> str | None:
    """The client address as the web server saw it. Behind a load balancer the
    production settings trust its X-Forwarded-For through the WSGI server config,
    never a header the client can set freely."""
    return request.META.get("REMOTE_ADDR") or None


def audit(
    action: str,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_repr: str = "",
    ip: str | None = None,
    request=None,
    details: dict[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event. Never pass an unmasked personal value in `details`."""
    ctx = _context.get()
    if request is not None:
        actor = actor if actor is not None else getattr(request, "user", None)
        ip = ip or client_ip(request)
    elif ctx is not None:
        actor = actor if actor is not None else ctx.user
        ip = ip or ctx.ip
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_repr = target_repr or str(target)
    return AuditEvent.objects.create(
        action=str(action),
        actor=actor,
        actor_username=actor_username or (actor.get_username() if actor else ""),
        target_type=target_type,
        target_id=str(target_id),
        target_repr=target_repr[:200],
        ip=ip,
        details=details or {},
    )


def audit_many(
    action: str,
    *,
    target_type: str,
    rows: Iterable[tuple[str | int, str, dict[str, Any]]],
    batch_size: int = 1000,
) -> int:
    """Append one event per row (target id, target description, details), written by
    nobody (a nightly step), in as few inserts as `batch_size` allows: what `audit`
    would write for each. Never pass an unmasked personal value in the details."""
    events = [
        AuditEvent(
            action=str(action),
            target_type=target_type,
            target_id=str(target_id),
            target_repr=description[:200],
            details=details or {},
        )
        for target_id, description, details in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
    return len(events)

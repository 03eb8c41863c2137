"""Alerts (提醒): something about a customer (or a manager's team) that a user should
look at or act on. Every kind lives in one model: the rules of docs/alerts.md raise
them from the bank's data, events in the portal raise the others (a customer given
or shared to a manager, a transfer decided), and a manager sets their own.

One row per (kind, customer, event): `event_key` names the event within the kind
(the year of a birthday, an account and its maturity date...), so evaluating the
same day again raises nothing and a closed alert is not raised again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import AlertKind, AlertOutcome, AlertPriority, AlertStatus
from ..querysets import AlertQuerySet


class Alert(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    # The event within the kind, e.g. "2026" (a birthday), "6222...:2026-12-20" (an
    # account's maturity), "E1102:2026-12-04" (a team's overdue contacts).
    event_key = models.CharField(max_length=80)
    event_date = models.DateField(_("event date"))
    due_date = models.DateField(_("due"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=AlertPriority.choices, default=AlertPriority.NORMAL
    )
    # Whom it is for: the customer's manager of record, else the head of the nearest
    # branch that has one; `branch` is the customer's home branch (or the manager's
    # branch for an alert about no customer), which branch heads see it by.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    branch = models.ForeignKey(
        "accounts.Branch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("branch"),
    )
    # The numbers the reason sentence is made of (amounts, percentages, dates, tier
    # and employee codes): never personal data.
    figures = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AlertOutcome.choices, blank=True)
    # The outcome's note or the reason it was dismissed.
    close_note = models.CharField(_("note"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Left open past its due date: raised to the branch head.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    # None for an alert raised by a rule; the user for one set by hand.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # One alert per event: of a customer, or (an alert about no customer,
            # e.g. a team's overdue contacts) of the kind alone. Two constraints rather
            # than NULLS NOT DISTINCT, which the embedded SQLite default lacks.
            models.UniqueConstraint(fields=["kind", "customer", "event_key"], name="alert_once_per_event"),
            models.UniqueConstraint(
                fields=["kind", "event_key"],
                condition=models.Q(customer__isnull=True),
                name="alert_once_per_event_no_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_date"], name="alert_assignee_open"),
            models.Index(fields=["branch", "status", "due_date"], name="alert_branch_open"),
            models.Index(fields=["status", "due_date"], name="alert_due"),
        ]
        permissions = [
            ("hand_over_alert", _("Can hand an alert over to another manager")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.event_key}"

"""Messages (the outbox): every message the portal sends, to a customer (a birthday
greeting, a maturity notice, by SMS or e-mail) or to a user (in-app), recorded with
who queued it, from which template, when, and what became of it.

A message is rendered when it is queued, from an approved template whose variables
are a fixed, whitelisted set (`TEMPLATE_VARIABLES`): the customer is greeted by
surname and title ("王先生"), never by full name, and no ID number, full mobile or
full account number can reach a body. The recipient's address is not stored: only
its mask, for the screen; the channel looks the address up when it sends.

The contact policy is applied when the message is sent, not when it is queued
(care.services.outbox): a message in quiet hours is held with a visible
`held_until`, never dropped; one the customer has opted out of is refused with the
reason."""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.querysets import CustomerHeldQuerySet

from ..choices import MessageChannel, MessagePurpose, MessageStatus

# The only variables a template may use: numbers, dates and the title by surname.
TEMPLATE_VARIABLES: dict[str, str] = {
    "name_title": "surname and title, e.g. 王先生",
    "date": "a date, e.g. 2026-12-20",
    "amount": "an amount in CNY, e.g. 500,000.00",
    "account_tail": "the last 4 digits of an account",
    "age": "a whole number of years",
}
# {name}: a variable. Nothing else is interpreted: no attribute access, no index,
# no format spec, no template language on text a user wrote.
VARIABLE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BRACE_RE = re.compile(r"[{}]")


def template_variables(text: str) -> set[str]:
    return set(VARIABLE_RE.findall(text or ""))


def validate_template_text(text: str) -> None:
    unknown = sorted(template_variables(text) - TEMPLATE_VARIABLES.keys())
    if unknown:
        raise ValidationError(
            _("Unknown variables: %(names)s. Allowed: %(allowed)s."),
            params={"names": ", ".join(unknown), "allowed": ", ".join(sorted(TEMPLATE_VARIABLES))},
            code="unknown_variable",
        )
    if _BRACE_RE.search(VARIABLE_RE.sub("", text or "")):
        raise ValidationError(_("A brace may only enclose a variable name, e.g. {date}."), code="brace")


def render_text(text: str, values: dict[str, str]) -> str:
    """Put the values in; a variable without a value is left empty. Values are
    inserted as text, never interpreted again."""
    return VARIABLE_RE.sub(lambda m: str(values.get(m.group(1), "")), text or "")


# Why a message was held, refused or failed, by code; the figures are numbers,
# channel codes and ISO moments (shown in local time).
REASONS = {
    "opted_out": _("The customer has opted out of %(channel)s."),
    "opted_out_notice": _(
        "The customer has opted out of %(channel)s and has no service subscription for notices by "
        "%(channel)s."
    ),
    "no_address": _("No address on file for this channel."),
    "inactive": _("The customer's relationship is not active."),
    "quiet_hours": _("Quiet hours (%(start)s-%(end)s): held until %(until)s."),
    "lapsed": _("Not sent before it lapsed on %(when)s."),
    "frequency": _(
        "The customer has had %(count)s contacts within %(days)s days (campaign contacts and care "
        "messages together); the policy allows %(max)s. Held until %(until)s."
    ),
    "frequency_lapse": _(
        "The customer has had %(count)s contacts within %(days)s days (campaign contacts and care "
        "messages together); the policy allows %(max)s. No slot frees before the message lapses on "
        "%(when)s."
    ),
    "retry": _("Attempt %(n)s failed (%(error)s); next attempt at %(until)s."),
    "failed": _("Failed after %(n)s attempts (%(error)s)."),
}
_MOMENTS = ("until", "when")


def reason_text(code: str, params: dict) -> str:
    if not code:
        return ""
    values = dict(params or {})
    for key in _MOMENTS:
        if values.get(key):
            moment = timezone.localtime(datetime.datetime.fromisoformat(values[key]))
            values[key] = moment.strftime("%Y-%m-%d %H:%M")
    if values.get("channel") in MessageChannel.values:
        values["channel"] = MessageChannel(values["channel"]).label
    template = REASONS.get(code)
    if template is None:
        return code
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)


class MessageTemplate(models.Model):
    """A message's wording. Only an active template is used; the default ones are
    created when missing (care.services.outbox.DEFAULT_TEMPLATES), never overwritten."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=MessagePurpose.choices)
    # validated in clean() (not field validators, which migrations would have to import)
    subject = models.CharField(_("subject"), max_length=120, blank=True)
    body = models.TextField(_("body"), max_length=1000)
    active = models.BooleanField(_("approved for use"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = {}
        for name in ("subject", "body"):
            try:
                validate_template_text(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)

    def render(self, values: dict[str, str]) -> tuple[str, str]:
        return render_text(self.subject, values), render_text(self.body, values)


class MessageQuerySet(CustomerHeldQuerySet):
    """A message to a customer is visible with its customer (the manager of record,
    the branch subtree, head office); a message to a user only to that user."""

    def visible_to(self, user) -> models.QuerySet:
        condition = self.scope_condition(user)
        own = Q(recipient_user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
        if condition is None:
            return self.filter(own)
        return self.filter((Q(customer__isnull=False) & condition) | own)


class Message(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer"),
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=MessagePurpose.choices)
    # The alert it comes from (a birthday, a maturity), if any.
    alert = models.ForeignKey(
        "care.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The values the template was rendered with: numbers and dates only.
    variables = models.JSONField(default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), max_length=2000)
    # The address it goes to, masked (138****5678, z***@example.com): for the screen.
    destination_masked = models.CharField(_("to"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # Why it was held, refused or failed: the rule's code (a key of REASONS) and its
    # figures; `reason` puts them in words in the reader's language.
    reason_code = models.CharField(max_length=20, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Not sent before this moment: a scheduled message (a greeting on the day), or
    # the next try after a channel's failure.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # A message not sent by then is refused rather than sent late (a greeting after
    # the birthday); a message held by the quiet hours is never refused for it.
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # One message per event: a job that runs twice queues it once, e.g.
    # "birthday_sms:alert:123".
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("queued by"),
    )
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(recipient_user__isnull=False),
                name="message_has_recipient",
            ),
        ]
        indexes = [
            # the send job: what is due
            models.Index(
                fields=["next_attempt_at"],
                name="message_due",
                condition=Q(status__in=["queued", "held"]),
            ),
            models.Index(fields=["customer", "sent_at"], name="message_customer_sent"),
            models.Index(fields=["recipient_user", "-created_at"], name="message_user_inbox"),
            models.Index(fields=["status", "-created_at"], name="message_status"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.dedupe_key}"

    @property
    def reason(self) -> str:
        """Why it was held, refused or failed, in the active language ("" if sent)."""
        return reason_text(self.reason_code, self.reason_params)

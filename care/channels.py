"""The ways a message leaves the portal. Each channel has one method,
`deliver(message, to)`, which raises `ChannelError` when the message could not be
delivered this time (the outbox retries it with back-off):

- in-app: nothing leaves; the message row is the user's inbox (the home page reads it);
- e-mail: Django's e-mail backend (`EMAIL_BACKEND`; the tests use locmem);
- SMS: the backend named by the setting `CARE_SMS_BACKEND` (a dotted path to a class
  with `send(*, to, text, reference)`); the default, `LoggingSmsBackend`, sends
  nothing and writes one masked log line, so no installation texts customers by
  accident.

`destination(message)` reads the recipient's address when the message is sent (the
message stores only its mask); no channel logs a full address or a body."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from customers.choices import ContactType
from customers.masking import mask_email, mask_mobile
from customers.models import ContactPoint, Customer

from .choices import MessageChannel

logger = logging.getLogger("care.channels")

DEFAULT_SMS_BACKEND = "care.channels.LoggingSmsBackend"


class ChannelError(Exception):
    """The channel failed this time; the message is tried again later."""


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> None: ...


class LoggingSmsBackend:
    """Sends nothing: logs that it would have, with the number masked and no text."""

    def send(self, *, to: str, text: str, reference: str) -> None:
        logger.info(
            "SMS %s to %s (%d characters) not sent: logging backend", reference, mask_mobile(to), len(text)
        )


def sms_backend() -> SmsBackend:
    return import_string(getattr(settings, "CARE_SMS_BACKEND", "") or DEFAULT_SMS_BACKEND)()


def _customer_email(customer: Customer) -> str:
    points = ContactPoint.objects.filter(customer=customer, type=ContactType.EMAIL).order_by(
        "-is_primary", "pk"
    )
    for point in points:
        if point.value:
            return point.value
    return ""


def destination(channel: str, *, customer: Customer | None = None, user=None) -> str:
    """The full address a message goes to ("" when there is none); read when sending."""
    if channel == MessageChannel.IN_APP:
        return ""
    if customer is not None:
        if channel == MessageChannel.SMS:
            return customer.mobile if customer.mobile_enc else ""
        return _customer_email(customer)
    if user is not None and channel == MessageChannel.EMAIL:
        return user.email or ""
    return ""


def mask_destination(channel: str, address: str) -> str:
    if channel == MessageChannel.SMS:
        return mask_mobile(address)
    if channel == MessageChannel.EMAIL:
        return mask_email(address)
    return ""


class InAppChannel:
    def deliver(self, message, to: str) -> None:
        """The stored message is the delivery."""


class EmailChannel:
    def deliver(self, message, to: str) -> None:
        try:
            send_mail(
                message.subject or message.body[:40],
                message.body,
                getattr(settings, "DEFAULT_FROM_EMAIL", None),
                [to],
                fail_silently=False,
            )
        except Exception as exc:  # the backend's own errors vary (SMTP, socket...)
            raise ChannelError(f"e-mail: {type(exc).__name__}") from exc


class SmsChannel:
    def deliver(self, message, to: str) -> None:
        try:
            sms_backend().send(to=to, text=message.body, reference=f"message {message.pk}")
        except ChannelError:
            raise
        except Exception as exc:  # a gateway's errors are its own
            raise ChannelError(f"SMS: {type(exc).__name__}") from exc


CHANNELS = {
    MessageChannel.IN_APP: InAppChannel(),
    MessageChannel.EMAIL: EmailChannel(),
    MessageChannel.SMS: SmsChannel(),
}


def channel_for(code: str):
    return CHANNELS[MessageChannel(code)]

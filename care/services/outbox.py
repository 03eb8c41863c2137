"""The outbox: messages are queued (`message_queue`, `care_messages_from_alerts`)
and sent by a job every few minutes (`message_send_due`), which applies the
contact policy at the moment of sending, never when queueing:

1. Who may receive it. A greeting needs the customer's consent on the channel
   (`Customer.consent_sms` / `consent_email`): opted out → refused, with the reason.
   A service notice (a maturity) is service, not marketing: by SMS it needs SMS
   consent or an active phone-notice or SMS-alert subscription, by e-mail e-mail
   consent or an e-statement subscription; neither → refused, with the reason.
   No address on file → refused.
2. Quiet hours (marketing.policy, on the channels the policy names): held, with
   `held_until` = the end of the quiet hours, and sent then. Never dropped: a
   message held by the quiet hours is not refused for lapsing either.
3. The frequency cap (marketing.policy): campaign contacts (`MarketingContact`) and
   sent care messages count together, in one rolling window. Over the cap the
   message is held until the window frees a slot; if no slot frees before the
   message lapses (`valid_until`: a greeting two days after the birthday, a notice
   at the maturity date), it is refused with the reason. A message nobody will read
   as meant is refused rather than sent late; a slot is never taken by force.
4. The channel (care.channels). A failure is retried with exponential back-off
   (2, 4, 8, 16 minutes), then the message fails with the reason after
   `MAX_ATTEMPTS` attempts.

Counting in both directions. Care reads `MarketingContact` directly (care sits
above marketing). Marketing cannot import care, so care registers
`sent_message_times` as a contact source of `marketing.policy`
(`register_policy_source()`, called from CareConfig.ready()): `check_contact`
adds those moments to the contacts it counts, so a sent greeting takes a slot in
a manager's next campaign contact too. No row is written into marketing's tables:
a care message is not a campaign contact (it must not count in campaign results
or a manager's contact figures), only a contact the cap counts.

Sent once. The job takes each due message with `SELECT ... FOR UPDATE SKIP LOCKED`
and checks its status again under the lock: a second job running at the same time
skips what the first holds, and finds it sent afterwards. The customer's row is
locked too, as marketing's contact logging does, so a care message and a manager's
contact cannot both take the last slot. The channel is called under the lock: a
process that dies after the channel accepted but before the commit may send that
one message again (at least once, never lost) — preferred to losing it.

Personal data: bodies greet by surname and title ("王先生"), the variables are
numbers and dates, addresses are stored masked and read only when sending; logs
carry message ids and masked addresses."""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from customers.choices import ContactType, CustomerStatus, Gender
from customers.masking import mask_name
from customers.models import ContactPoint, Customer
from marketing import policy
from marketing.models import MarketingContact

from ..channels import ChannelError, channel_for, destination, mask_destination
from ..choices import (
    AlertKind,
    MessageChannel,
    MessagePurpose,
    MessageStatus,
    ServiceKind,
    SubscriptionStatus,
)
from ..models import Alert, Message, MessageTemplate, ServiceSubscription
from ..models.outbox import TEMPLATE_VARIABLES

logger = logging.getLogger("care.outbox")

MAX_ATTEMPTS = 5
RETRY_BASE = datetime.timedelta(minutes=2)
BATCH = 500
# When a scheduled message goes out on its day (local time).
SEND_AT = datetime.time(9, 0)
# A birthday greeting is still worth sending this long after the birthday.
GREETING_GRACE = datetime.timedelta(days=2)

# The subscriptions that let a service notice go out on a channel the customer
# gave no marketing consent for.
NOTICE_SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    MessageChannel.SMS: (ServiceKind.PHONE_NOTICE, ServiceKind.SMS_BALANCE_ALERT),
    MessageChannel.EMAIL: (ServiceKind.E_STATEMENT,),
}

# The default templates, created when missing and never overwritten (an
# administrator's wording stays). Customer-facing text is in Chinese, the bank's
# language with its customers, whatever the user's interface language.
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "birthday_sms": {
        "name": "生日祝福（短信）",
        "channel": MessageChannel.SMS,
        "purpose": MessagePurpose.GREETING,
        "subject": "",
        "body": "尊敬的{name_title}，今天是您的生日，我行全体员工祝您生日快乐、身体健康、万事如意！",
    },
    "birthday_email": {
        "name": "生日祝福（邮件）",
        "channel": MessageChannel.EMAIL,
        "purpose": MessagePurpose.GREETING,
        "subject": "生日快乐",
        "body": (
            "尊敬的{name_title}：\n\n值此生日之际，我行全体员工祝您生日快乐、身体健康、万事如意！\n"
            "感谢您一直以来的信任与支持。"
        ),
    },
    "maturity_sms": {
        "name": "到期提醒（短信）",
        "channel": MessageChannel.SMS,
        "purpose": MessagePurpose.SERVICE_NOTICE,
        "subject": "",
        "body": (
            "尊敬的{name_title}，您尾号{account_tail}的账户将于{date}到期，金额{amount}元。"
            "如需续存或咨询，请联系您的客户经理。"
        ),
    },
    "maturity_email": {
        "name": "到期提醒（邮件）",
        "channel": MessageChannel.EMAIL,
        "purpose": MessagePurpose.SERVICE_NOTICE,
        "subject": "账户到期提醒",
        "body": (
            "尊敬的{name_title}：\n\n您尾号{account_tail}的账户将于{date}到期，金额{amount}元。\n"
            "如需续存或咨询，请联系您的客户经理。"
        ),
    },
}
ALERT_TEMPLATES: dict[str, dict[str, str]] = {
    AlertKind.BIRTHDAY: {MessageChannel.SMS: "birthday_sms", MessageChannel.EMAIL: "birthday_email"},
    AlertKind.MATURITY: {MessageChannel.SMS: "maturity_sms", MessageChannel.EMAIL: "maturity_email"},
}

_NUMBER_OR_DATE = re.compile(r"^[0-9][0-9.,:\- /]*$")


def templates_ensure() -> None:
    """Create the default templates that are missing."""
    existing = set(MessageTemplate.objects.filter(code__in=DEFAULT_TEMPLATES).values_list("code", flat=True))
    for code, fields in DEFAULT_TEMPLATES.items():
        if code not in existing:
            MessageTemplate.objects.get_or_create(code=code, defaults=fields)


def name_title(customer: Customer) -> str:
    """Surname and title ("王先生", "欧阳女士"); never the full name."""
    surname = mask_name(customer.name).rstrip("*")
    titles: dict[str, str] = {Gender.MALE: "先生", Gender.FEMALE: "女士"}
    title = titles.get(customer.gender, "客户")
    return f"{surname}{title}" if surname else "客户"


def _variable_text(name: str, value: Any) -> str:
    """A variable's value as text: numbers and dates only."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return f"{Decimal(str(value)):,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value).strip()
    if not _NUMBER_OR_DATE.match(text):
        raise ValidationError(
            _("The variable %(name)s must be a number or a date."), params={"name": name}, code="not_number"
        )
    return text


def _values(variables: dict[str, Any]) -> dict[str, str]:
    unknown = set(variables) - (TEMPLATE_VARIABLES.keys() - {"name_title"})
    if unknown:
        raise ValidationError(
            _("Unknown variables: %(names)s."), params={"names": ", ".join(sorted(unknown))}, code="unknown"
        )
    return {name: _variable_text(name, value) for name, value in variables.items()}


def _local_at(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at))


@transaction.atomic
def message_queue(
    *,
    template: MessageTemplate | str,
    dedupe_key: str,
    customer: Customer | None = None,
    recipient_user=None,
    variables: dict[str, Any] | None = None,
    created_by=None,
    alert: Alert | None = None,
    not_before: datetime.datetime | None = None,
    valid_until: datetime.datetime | None = None,
) -> Message:
    """Queue one message from an active template, to a customer (SMS, e-mail) or a
    user (in-app, e-mail). Queued twice with the same `dedupe_key`, it exists once:
    the first is returned. An in-app message is delivered at once (no policy
    applies to the portal's own users); the others wait for `message_send_due`."""
    if isinstance(template, str):
        template = MessageTemplate.objects.get(code=template)
    if not template.active:
        raise ValidationError(_("This template is not approved for use."), code="inactive")
    if (customer is None) == (recipient_user is None):
        raise ValueError("a message goes to one customer or one user")
    channel = template.channel
    if customer is not None and channel == MessageChannel.IN_APP:
        raise ValidationError(_("Customers receive messages by SMS or e-mail only."), code="channel")
    if recipient_user is not None and channel == MessageChannel.SMS:
        raise ValidationError(_("Users receive messages in the portal or by e-mail."), code="channel")
    if created_by is not None and customer is not None and not created_by.has_perm("care.add_message"):
        raise PermissionDenied(_("You may not do this."))
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    values = _values(variables or {})
    rendered = dict(values)
    if customer is not None:
        rendered["name_title"] = name_title(customer)
    subject, body = template.render(rendered)
    now = timezone.now()
    message = Message(
        customer=customer,
        recipient_user=recipient_user,
        channel=channel,
        template=template,
        purpose=template.purpose,
        alert=alert,
        variables=values,
        subject=subject[:200],
        body=body,
        destination_masked=mask_destination(
            channel, destination(channel, customer=customer, user=recipient_user)
        ),
        next_attempt_at=max(not_before or now, now),
        valid_until=valid_until,
        dedupe_key=dedupe_key,
        created_by=created_by,
        created_at=now,
    )
    if channel == MessageChannel.IN_APP:
        message.status, message.sent_at, message.attempts, message.next_attempt_at = (
            MessageStatus.SENT,
            now,
            1,
            None,
        )
    message.full_clean(exclude=["dedupe_key"])
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # queued by a concurrent run between the look-up and the insert
        return Message.objects.get(dedupe_key=dedupe_key)
    if created_by is not None:
        audit(
            Action.MESSAGE_QUEUED,
            actor=created_by,
            target=message,
            details={
                "customer": customer.customer_no if customer else None,
                "template": template.code,
                "channel": channel,
            },
        )
    return message


# --- the policy, applied when sending ------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    action: str  # "send" | "hold" | "refuse"
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    until: datetime.datetime | None = None


SEND = Verdict("send")


def sent_message_times(
    customer_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[datetime.datetime]:
    """The moments care messages were sent to the customer strictly between start and
    end: the contact source care registers with marketing's policy."""
    return list(
        Message.objects.filter(
            customer_id=customer_id, status=MessageStatus.SENT, sent_at__gt=start, sent_at__lt=end
        ).values_list("sent_at", flat=True)
    )


def register_policy_source() -> None:
    """Make marketing's contact-frequency policy count sent care messages (call from
    CareConfig.ready(); registering twice is harmless)."""
    policy.register_contact_source(sent_message_times)


def contact_times(
    customer_id: int, at: datetime.datetime, window: datetime.timedelta
) -> list[datetime.datetime]:
    """Campaign contacts and sent care messages within one window either side of `at`."""
    campaign = MarketingContact.objects.filter(
        customer_id=customer_id, occurred_at__gt=at - window, occurred_at__lt=at + window
    ).values_list("occurred_at", flat=True)
    return [*campaign, *sent_message_times(customer_id, at - window, at + window)]


def quiet_hours_end(at: datetime.datetime, end: datetime.time) -> datetime.datetime:
    """The first moment after `at` at which quiet hours ending at `end` are over."""
    local = timezone.localtime(at)
    candidate = _local_at(local.date(), end)
    if candidate <= local:
        candidate = _local_at(local.date() + datetime.timedelta(days=1), end)
    return candidate


def _may_receive(message: Message, customer: Customer) -> Verdict:
    channel = message.channel
    if getattr(customer, f"consent_{channel}", False):
        return SEND
    if message.purpose == MessagePurpose.SERVICE_NOTICE:
        services = NOTICE_SUBSCRIPTIONS.get(channel, ())
        subscribed = ServiceSubscription.objects.filter(
            customer=customer, service__in=services, status=SubscriptionStatus.ACTIVE
        ).exists()
        if subscribed:
            return SEND
        return Verdict("refuse", "opted_out_notice", {"channel": channel})
    return Verdict("refuse", "opted_out", {"channel": channel})


def policy_verdict(
    message: Message, customer: Customer, now: datetime.datetime, rules: policy.PolicyRules
) -> Verdict:
    """What the contact policy says about sending `message` to `customer` at `now`."""
    verdict = _may_receive(message, customer)
    if verdict is not SEND:
        return verdict
    local = timezone.localtime(now)
    if message.channel in rules.quiet_channels and policy.in_quiet_hours(
        local.time(), rules.quiet_start, rules.quiet_end
    ):
        until = quiet_hours_end(now, rules.quiet_end)
        params = {
            "start": rules.quiet_start.strftime("%H:%M"),
            "end": rules.quiet_end.strftime("%H:%M"),
            "until": until.isoformat(),
        }
        return Verdict("hold", "quiet_hours", params, until)
    # a message the quiet hours held is sent when they end, whatever its validity
    if (
        message.valid_until is not None
        and now >= message.valid_until
        and message.reason_code != "quiet_hours"
    ):
        return Verdict("refuse", "lapsed", {"when": message.valid_until.isoformat()})
    window = datetime.timedelta(days=rules.window_days)
    times = contact_times(customer.pk, now, window)
    busiest = policy.busiest_window(times, now, window)
    if busiest + 1 <= rules.max_contacts:
        return SEND
    before = sorted(t for t in times if now - window < t <= now)
    free = before[len(before) - rules.max_contacts] + window if len(before) >= rules.max_contacts else None
    if free is None or free <= now:
        # later contacts fill the window (logged after the fact): look again in an hour
        free = now + datetime.timedelta(hours=1)
    cap = {"count": busiest, "days": rules.window_days, "max": rules.max_contacts}
    if message.valid_until is not None and free >= message.valid_until:
        return Verdict("refuse", "frequency_lapse", {**cap, "when": message.valid_until.isoformat()})
    return Verdict("hold", "frequency", {**cap, "until": free.isoformat()}, free)


def _send_one(pk: int, now: datetime.datetime, rules: policy.PolicyRules) -> str:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, status__in=(MessageStatus.QUEUED, MessageStatus.HELD), next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return "skipped"  # another job has it, or it is no longer due
        customer = None
        if message.customer_id is not None:
            # serialises with marketing's contact logging on the same customer
            customer = Customer.objects.select_for_update().get(pk=message.customer_id)
            verdict = policy_verdict(message, customer, now, rules)
            if verdict.action == "send" and customer.status != CustomerStatus.ACTIVE:
                verdict = Verdict("refuse", "inactive")
        else:
            verdict = SEND
        to = ""
        if verdict.action == "send" and message.channel != MessageChannel.IN_APP:
            to = destination(message.channel, customer=customer, user=message.recipient_user)
            if not to:
                verdict = Verdict("refuse", "no_address")
        if verdict.action == "refuse":
            message.status, message.next_attempt_at = MessageStatus.REFUSED, None
            message.reason_code, message.reason_params = verdict.code, verdict.params
        elif verdict.action == "hold":
            message.status, message.held_until = MessageStatus.HELD, verdict.until
            message.next_attempt_at = verdict.until
            message.reason_code, message.reason_params = verdict.code, verdict.params
        else:
            message.attempts += 1
            try:
                channel_for(message.channel).deliver(message, to)
            except ChannelError as exc:
                _failed_attempt(message, now, str(exc))
            else:
                message.status, message.sent_at, message.next_attempt_at = MessageStatus.SENT, now, None
                message.reason_code, message.reason_params = "", {}
        message.save(
            update_fields=[
                "status",
                "reason_code",
                "reason_params",
                "held_until",
                "next_attempt_at",
                "attempts",
                "sent_at",
            ]
        )
        logger.info(
            "message %s (%s): %s%s",
            message.pk,
            message.channel,
            message.status,
            f" [{message.reason_code}]" if message.reason_code else "",
        )
        return str(message.status)


def _failed_attempt(message: Message, now: datetime.datetime, error: str) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        message.status, message.next_attempt_at = MessageStatus.FAILED, None
        message.reason_code, message.reason_params = "failed", {"n": message.attempts, "error": error}
    else:
        retry = now + RETRY_BASE * 2 ** (message.attempts - 1)
        message.status, message.next_attempt_at = MessageStatus.QUEUED, retry
        message.reason_code = "retry"
        message.reason_params = {"n": message.attempts, "error": error, "until": retry.isoformat()}


def message_send_due(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every message that is due (queued, held whose time has come, retries),
    each in its own transaction, in primary-key order in batches. Harmless to run
    twice, or twice at once: each message is taken under a skip-locked row lock."""
    now = now or timezone.now()
    rules = policy.current_policy()
    counts: dict[str, int] = {}
    last = 0
    while True:
        ids = list(
            Message.objects.filter(
                status__in=(MessageStatus.QUEUED, MessageStatus.HELD), next_attempt_at__lte=now, pk__gt=last
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return counts
        for pk in ids:
            outcome = _send_one(pk, now, rules)
            counts[outcome] = counts.get(outcome, 0) + 1
        last = ids[-1]


# --- care messages from alerts -------------------------------------------------------------


def _alert_message(alert: Alert, day: datetime.date, now: datetime.datetime) -> dict[str, Any] | None:
    """The variables, schedule and validity of the message for one alert, or None
    when it is too late for it."""
    figures = alert.figures or {}
    if alert.kind == AlertKind.BIRTHDAY:
        birthday = datetime.date.fromisoformat(str(figures.get("birthday") or alert.event_date))
        valid_until = _local_at(birthday, datetime.time(0)) + GREETING_GRACE
        variables: dict[str, Any] = {"date": birthday}
        if figures.get("age") is not None:
            variables["age"] = int(figures["age"])
        send_on = birthday
    else:
        maturity = datetime.date.fromisoformat(str(figures.get("maturity_date") or alert.event_date))
        valid_until = _local_at(maturity + datetime.timedelta(days=1), datetime.time(0))
        variables = {"date": maturity}
        if figures.get("amount") not in (None, ""):
            variables["amount"] = Decimal(str(figures["amount"]))
        if figures.get("account_tail"):
            variables["account_tail"] = str(figures["account_tail"])[-4:]
        send_on = day
    if valid_until <= now:
        return None
    return {
        "variables": variables,
        "not_before": max(_local_at(max(send_on, day), SEND_AT), now),
        "valid_until": valid_until,
    }


def _choose_channel(alert: Any) -> str | None:
    """SMS where the customer has a mobile and may receive it, else e-mail; None if
    neither (`alert` carries the annotations of `care_messages_from_alerts`)."""
    customer = alert.customer
    notice = alert.kind == AlertKind.MATURITY
    if customer.mobile_enc and (customer.consent_sms or (notice and alert.sms_subscribed)):
        return MessageChannel.SMS
    if alert.has_email and (customer.consent_email or (notice and alert.email_subscribed)):
        return MessageChannel.EMAIL
    return None


def _emails(customer_ids: list[int]) -> dict[int, str]:
    """Each customer's e-mail address (the primary first), read in one query."""
    found: dict[int, str] = {}
    points = ContactPoint.objects.filter(customer_id__in=customer_ids, type=ContactType.EMAIL).order_by(
        "customer_id", "-is_primary", "pk"
    )
    for point in points:
        if point.customer_id not in found and point.value:
            found[point.customer_id] = point.value
    return found


def care_messages_from_alerts(*, day: datetime.date | None = None) -> dict[str, int]:
    """Queue a birthday greeting or a maturity notice for every open birthday or
    maturity alert whose customer may receive it, once per alert (the dedupe key
    names the alert). Batched on alert ids; one insert per batch; one audit event."""
    now = timezone.now()
    day = day or timezone.localdate()
    templates_ensure()
    templates = {t.code: t for t in MessageTemplate.objects.filter(active=True)}
    active_subscription = ServiceSubscription.objects.filter(
        customer=OuterRef("customer_id"), status=SubscriptionStatus.ACTIVE
    )
    alerts = (
        Alert.objects.open()
        .filter(kind__in=(AlertKind.BIRTHDAY, AlertKind.MATURITY), customer__status=CustomerStatus.ACTIVE)
        .exclude(Exists(Message.objects.filter(alert=OuterRef("pk"))))
        .select_related("customer")
        .only(
            "pk",
            "kind",
            "event_date",
            "figures",
            "customer__id",
            "customer__name",
            "customer__gender",
            "customer__mobile_enc",
            "customer__consent_sms",
            "customer__consent_email",
        )
        .annotate(
            has_email=Exists(
                ContactPoint.objects.filter(customer=OuterRef("customer_id"), type=ContactType.EMAIL)
            ),
            sms_subscribed=Exists(
                active_subscription.filter(service__in=NOTICE_SUBSCRIPTIONS[MessageChannel.SMS])
            ),
            email_subscribed=Exists(
                active_subscription.filter(service__in=NOTICE_SUBSCRIPTIONS[MessageChannel.EMAIL])
            ),
        )
        .order_by("pk")
    )
    counts = {"queued": 0, "not_allowed": 0, "lapsed": 0}
    last = 0
    while True:
        batch = list(alerts.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        emails = _emails([a.customer_id for a in batch if a.has_email])
        rows = []
        for alert in batch:
            channel = _choose_channel(alert)
            if channel is None:
                counts["not_allowed"] += 1
                continue
            template = templates.get(ALERT_TEMPLATES[alert.kind][channel])
            planned = _alert_message(alert, day, now)
            if template is None or planned is None:
                counts["lapsed"] += 1
                continue
            values = _values(planned["variables"])
            subject, body = template.render({**values, "name_title": name_title(alert.customer)})
            rows.append(
                Message(
                    customer_id=alert.customer_id,
                    channel=channel,
                    template=template,
                    purpose=template.purpose,
                    alert=alert,
                    variables=values,
                    subject=subject[:200],
                    body=body,
                    destination_masked=mask_destination(
                        channel,
                        alert.customer.mobile
                        if channel == MessageChannel.SMS
                        else emails.get(alert.customer_id, ""),
                    ),
                    next_attempt_at=planned["not_before"],
                    valid_until=planned["valid_until"],
                    dedupe_key=f"{alert.kind}:alert:{alert.pk}",
                    created_at=now,
                )
            )
        with transaction.atomic():
            Message.objects.bulk_create(rows, ignore_conflicts=True)
        # (a concurrent run may have inserted some of them: count ours)
        counts["queued"] += Message.objects.filter(
            dedupe_key__in=[row.dedupe_key for row in rows], created_at=now
        ).count()
    if counts["queued"]:
        audit(
            Action.MESSAGES_FROM_ALERTS,
            target_type="care.message",
            target_repr=day.isoformat(),
            details={"day": day.isoformat(), **counts},
        )
    return counts


__all__ = [
    "MAX_ATTEMPTS",
    "care_messages_from_alerts",
    "message_queue",
    "message_send_due",
    "policy_verdict",
    "register_policy_source",
    "sent_message_times",
    "templates_ensure",
]

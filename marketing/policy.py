"""The contact-frequency policy: at most N marketing contacts per customer in any
rolling window of D days, across every campaign and channel; no contact on a
channel the customer opted out of; none in quiet hours on the channels they apply
to. A contact that would break it is refused with the reason (`ContactRefused`),
never dropped silently.

The policy in force is the approved `ContactPolicy` row (maker-checker in the
admin); until one is approved, `DEFAULT_POLICY` applies."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from customers.choices import MarketingChannel

from .choices import PolicyStatus


@dataclass(frozen=True)
class PolicyRules:
    max_contacts: int
    window_days: int
    quiet_start: datetime.time
    quiet_end: datetime.time
    quiet_channels: tuple[str, ...]


DEFAULT_POLICY = PolicyRules(
    max_contacts=3,
    window_days=7,
    quiet_start=datetime.time(21, 0),
    quiet_end=datetime.time(8, 0),
    quiet_channels=(MarketingChannel.CALL, MarketingChannel.SMS, MarketingChannel.WECHAT),
)


# Contacts the cap counts besides marketing's own (MarketingContact): messages a
# higher app sends to customers (keep close's greetings and notices). Marketing cannot
# import that app, so the app registers a source here (in its AppConfig.ready()); a
# source gives the moments of a customer's contacts strictly between start and end.
ContactSource = Callable[[int, datetime.datetime, datetime.datetime], list[datetime.datetime]]
_contact_sources: list[ContactSource] = []


def register_contact_source(source: ContactSource) -> None:
    if source not in _contact_sources:
        _contact_sources.append(source)


def other_contacts(
    customer_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[datetime.datetime]:
    """The customer's contacts strictly between start and end that the registered
    sources know of."""
    return [moment for source in _contact_sources for moment in source(customer_id, start, end)]


class ContactRefused(ValidationError):
    """The contact breaks the policy; `code` says which rule, the message why."""


def current_policy() -> PolicyRules:
    from .models import ContactPolicy

    row = ContactPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    if row is None:
        return DEFAULT_POLICY
    return PolicyRules(
        max_contacts=row.max_contacts,
        window_days=row.window_days,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        quiet_channels=tuple(row.quiet_channels or ()),
    )


def in_quiet_hours(moment: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    """Quiet hours may run over midnight (21:00-08:00); equal ends mean none."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def busiest_window(times: list[datetime.datetime], at: datetime.datetime, window: datetime.timedelta) -> int:
    """The most contacts already in one window of length `window` that would also
    hold a contact at `at`. Such a window starts at `at` or at an earlier contact
    less than `window` before it, so those starts are enough to look at."""
    starts = [at] + [t for t in times if t <= at < t + window]
    return max(sum(1 for t in times if start <= t < start + window) for start in starts)


def check_contact(
    *,
    customer,
    channel: str,
    at: datetime.datetime,
    earlier_contacts: list[datetime.datetime],
    policy: PolicyRules | None = None,
) -> None:
    """Raise ContactRefused if a contact with `customer` on `channel` at `at` breaks
    the policy. `earlier_contacts` are the customer's marketing contacts within one
    window of `at` (either side: a contact logged late must not overfill a window
    that later contacts already fill)."""
    policy = policy or current_policy()
    channel_label = MarketingChannel(channel).label
    if not getattr(customer, f"consent_{channel}"):
        raise ContactRefused(
            _("The customer has opted out of marketing by %(channel)s.") % {"channel": channel_label},
            code="opted_out",
        )
    local = _local(at)
    if channel in policy.quiet_channels and in_quiet_hours(
        local.time(), policy.quiet_start, policy.quiet_end
    ):
        raise ContactRefused(
            _("%(time)s is within the quiet hours (%(start)s-%(end)s): no marketing by %(channel)s then.")
            % {
                "time": local.strftime("%H:%M"),
                "start": policy.quiet_start.strftime("%H:%M"),
                "end": policy.quiet_end.strftime("%H:%M"),
                "channel": channel_label,
            },
            code="quiet_hours",
        )
    window = datetime.timedelta(days=policy.window_days)
    # the customer's messages from other apps count against the same cap
    earlier_contacts = [*earlier_contacts, *other_contacts(customer.pk, at - window, at + window)]
    busiest = busiest_window(earlier_contacts, at, window)
    if busiest + 1 > policy.max_contacts:
        before = sorted(t for t in earlier_contacts if at - window < t <= at)
        next_possible = (
            before[len(before) - policy.max_contacts] + window if len(before) >= policy.max_contacts else None
        )
        message = _(
            "The customer has already had %(count)s marketing contacts within %(days)s days, across all "
            "campaigns and channels; the policy allows %(max)s."
        ) % {"count": busiest, "days": policy.window_days, "max": policy.max_contacts}
        if next_possible is not None and next_possible > at:
            message += " " + _("Next contact possible from %(when)s.") % {
                "when": formats.date_format(_local(next_possible), "Y-m-d H:i")
            }
        raise ContactRefused(message, code="frequency")

"""The channels (渠道), in one place: what the codes products and campaigns carry
read as, which of them reach customers and by what means, the choices a form
offers, the business managers' changes to the list, and the list itself.

A product names the channels it is sold on and a campaign those it uses, by code
(`Product.channels`, `Campaign.channels`). A channel's `contact_channel` is how a
contact through it reaches the customer (a `customers.choices.MarketingChannel`):
the customer's consent to that applies, so a campaign's opt-out exclusion and a
contact's frequency cap and quiet hours go by it. A channel without one (the
counter, mobile banking) reaches nobody by itself: no contact is logged through it.

Switching a channel off leaves what chose it as it is; it is no longer offered to
a new campaign or product (`marketing.models._check_channels` refuses it), but a
campaign keeping it still shows it, marked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import User
from core import labels

from .choices import MarketingAction
from .models import Campaign, Channel, Product

# What a business manager sets on a channel; its code only when it is created, and
# whether it is in use only by switching it (`channel_switch`).
CHANNEL_FIELDS = ("name", "contact_channel", "transaction_channel", "position", "description")

# --- reading codes -------------------------------------------------------------------------


def channel_name_map() -> dict[str, str]:
    """Every channel's code with its name (one query)."""
    return dict(Channel.objects.values_list("code", "name"))


def channel_names(codes: Iterable[str] | None) -> list[str]:
    """The names of the channels `codes` name, in their order (one query); a code
    no channel has shows as it is (a data defect to see, not to hide)."""
    codes = [code for code in (codes or ()) if code]
    if not codes:
        return []
    names = dict(Channel.objects.filter(code__in=codes).values_list("code", "name"))
    return [names.get(code, code) for code in codes]


def contact_channels(codes: Iterable[str] | None) -> list[str]:
    """The ways (`MarketingChannel` codes) the channels `codes` contact customers
    by: ordered as the codes are, each once; channels that reach nobody add none."""
    codes = [code for code in (codes or ()) if code]
    if not codes:
        return []
    by_code = dict(Channel.objects.filter(code__in=codes).values_list("code", "contact_channel"))
    found: list[str] = []
    for code in codes:
        contact = by_code.get(code, "")
        if contact and contact not in found:
            found.append(contact)
    return found


def channel_label(channel: Channel) -> str:
    """A channel's name, marked when it is switched off."""
    return channel.name if channel.is_active else _("%(name)s (switched off)") % {"name": channel.name}


def channel_choices(*, keep: Iterable[str] = (), switched_off: bool = False) -> list[tuple[str, str]]:
    """(code, name) of the channels in use, in the list's order, and of those in
    `keep` (the ones a campaign already has) even when switched off, marked; with
    `switched_off`, every channel (a filter over what was chosen in the past)."""
    rows = Channel.objects.all()
    if not switched_off:
        rows = rows.filter(Q(is_active=True) | Q(code__in=[code for code in keep if code]))
    return [(channel.code, channel_label(channel)) for channel in rows.order_by("position", "code")]


def contact_channel_choices(codes: Iterable[str] | None) -> list[tuple[str, str]]:
    """(code, name) of the channels among `codes` (a campaign's) a contact can be
    logged through: those that reach the customer, in the campaign's order; without
    codes, every channel in use that reaches customers."""
    rows = Channel.objects.exclude(contact_channel="")
    if codes is None:
        return [(c.code, c.name) for c in rows.filter(is_active=True).order_by("position", "code")]
    codes = list(codes)
    found = {c.code: c for c in rows.filter(code__in=codes)}
    return [(code, found[code].name) for code in codes if code in found]


def channel_for_contact(code: str) -> Channel:
    """The channel a contact is logged through, refused (ValidationError on
    `channel`) when no channel has the code or the channel reaches nobody."""
    channel = Channel.objects.filter(code=code).first() if code else None
    if channel is None:
        raise ValidationError({"channel": _("Unknown channel.")})
    if not channel.contact_channel:
        raise ValidationError(
            {
                "channel": _("%(name)s does not contact customers: a contact cannot be logged through it.")
                % {"name": channel.name}
            }
        )
    return channel


labels.register("channel", channel_name_map)


# --- the list --------------------------------------------------------------------------------


def _count_choosing(rows: QuerySet) -> Coalesce:
    """How many of `rows` (products or campaigns) list the outer channel's code."""
    count = (
        rows.filter(channels__has_item=OuterRef("code"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
    )
    return Coalesce(Subquery(count.values("n")[:1], output_field=IntegerField()), Value(0))


def channel_list(*, user: User | None = None) -> QuerySet[Channel]:
    """Every channel with how many products (`product_count`) and campaigns
    (`campaign_count`, those `user` may see) chose it: one query, whatever the
    number of channels."""
    campaigns = Campaign.objects.visible_to(user) if user is not None else Campaign.objects.all()
    return Channel.objects.annotate(
        product_count=_count_choosing(Product.objects.all()),
        campaign_count=_count_choosing(campaigns),
    )


# --- the business managers' changes -------------------------------------------------------


def _require(user: User) -> None:
    if not (user.is_active and user.has_perm("marketing.manage_channel")):
        raise PermissionDenied(_("You may not do this."))


def _values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise ValueError(f"not channel fields: {sorted(unknown)}")
    return {field: value.strip() if isinstance(value, str) else value for field, value in fields.items()}


@transaction.atomic
def channel_create(*, by: User, code: str, **fields: Any) -> Channel:
    """A new channel, in use."""
    _require(by)
    channel = Channel(code=str(code or "").strip(), **_values(fields))
    channel.updated_by, channel.updated_at = by, timezone.now()
    channel.full_clean()
    channel.save()
    audit(
        MarketingAction.CHANNEL_CREATED,
        actor=by,
        target=channel,
        details={"code": channel.code, **{field: getattr(channel, field) for field in CHANNEL_FIELDS}},
    )
    return channel


@transaction.atomic
def channel_update(channel: Channel, *, by: User, **fields: Any) -> Channel:
    """Change a channel's name, contact and transaction channels, order or
    description; its code never changes (products and campaigns name it). Each
    changed field is audited old → new; nothing changed, nothing written."""
    _require(by)
    code = fields.pop("code", None)
    if code is not None and str(code).strip() != channel.code:
        raise ValidationError({"code": _("A channel's code cannot change: products and campaigns name it.")})
    values = _values(fields)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    changes = {
        field: {"from": getattr(channel, field), "to": value}
        for field, value in values.items()
        if getattr(channel, field) != value
    }
    if not changes:
        return channel
    for field, value in values.items():
        setattr(channel, field, value)
    channel.updated_by, channel.updated_at = by, timezone.now()
    channel.full_clean()
    channel.save()
    details = {"code": channel.code, **changes}
    audit(MarketingAction.CHANNEL_UPDATED, actor=by, target=channel, details=details)
    return channel


@transaction.atomic
def channel_switch(channel: Channel, *, by: User, active: bool) -> Channel:
    """Switch a channel off (no longer offered to a new campaign or product; those
    that chose it keep it) or back on."""
    _require(by)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if channel.is_active == active:
        raise ValidationError(
            (_("%(name)s is already in use.") if active else _("%(name)s is already switched off."))
            % {"name": channel.name}
        )
    channel.is_active = active
    channel.updated_by, channel.updated_at = by, timezone.now()
    channel.full_clean()
    channel.save(update_fields=["is_active", "updated_by", "updated_at"])
    audit(
        MarketingAction.CHANNEL_SWITCHED_ON if active else MarketingAction.CHANNEL_SWITCHED_OFF,
        actor=by,
        target=channel,
        details={"code": channel.code, "is_active": {"from": not active, "to": active}},
    )
    return channel

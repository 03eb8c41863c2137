"""Reads of the outbox and of service subscriptions, each from `visible_to(user)`."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from ..choices import MessageChannel, MessageStatus, SubscriptionStatus
from ..models import Message, ServiceSubscription

ATTENTION = (MessageStatus.HELD, MessageStatus.REFUSED, MessageStatus.FAILED)


def outbox_messages(
    *,
    user,
    messages: QuerySet | None = None,
    status: str = "",
    channel: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet:
    """Messages to the customers the user may see (a manager's own, a branch head's
    subtree), newest first. `messages`: an already narrowed queryset (a view's)."""
    rows = (messages if messages is not None else Message.objects.visible_to(user)).filter(
        customer__isnull=False
    )
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if date_from:
        rows = rows.filter(created_at__date__gte=date_from)
    if date_to:
        rows = rows.filter(created_at__date__lte=date_to)
    return rows.select_related("customer", "template").order_by("-created_at", "-pk")


def messages_for(user, limit: int = 5) -> list[Message]:
    """The user's own in-app messages, newest first (for the home page)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Message.objects.filter(
            recipient_user=user, channel=MessageChannel.IN_APP, status=MessageStatus.SENT
        ).order_by("-created_at", "-pk")[:limit]
    )


def messages_needing_attention(user, limit: int = 5) -> list[Message]:
    """Messages to the user's customers that are held, refused or failed, newest
    first (the "messages held or refused" of a manager's day)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Message.objects.visible_to(user)
        .filter(customer__isnull=False, status__in=ATTENTION)
        .select_related("customer")
        .order_by("-created_at", "-pk")[:limit]
    )


def customer_subscriptions(*, user, customer) -> list[ServiceSubscription]:
    """A customer's subscriptions, active first, then the cancelled ones, newest first."""
    return list(
        ServiceSubscription.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("recorded_by", "cancelled_by")
        .order_by("status", "-recorded_at", "-pk")
    )


def active_subscriptions(*, user, customer) -> list[ServiceSubscription]:
    return list(
        ServiceSubscription.objects.visible_to(user)
        .filter(customer=customer, status=SubscriptionStatus.ACTIVE)
        .order_by("service")
    )


def access_subscription(user, pk: int, *, for_change: bool) -> ServiceSubscription:
    """A subscription of a customer in the user's scope (else 404)."""
    needed = "care.change_servicesubscription" if for_change else "care.view_servicesubscription"
    if not user.has_perm(needed):
        raise PermissionDenied
    found = ServiceSubscription.objects.visible_to(user).select_related("customer").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found

"""Service subscriptions (服务签约): recorded and cancelled by the customer's manager
(or their branch head), each change audited. The address is the customer's own
mobile or e-mail on file, stored masked; at most one active subscription per
customer and service; the customer's consent cannot be dated in the future."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from customers.models import Customer
from customers.permissions import require_in_scope

from ..channels import destination, mask_destination
from ..choices import MessageChannel, ServiceKind, SubscriptionChannel, SubscriptionStatus
from ..models import ServiceSubscription
from ..models.subscriptions import SERVICE_CHANNELS

# The address a subscription's channel uses: a phone notice reaches the mobile.
_ADDRESS_CHANNEL = {
    SubscriptionChannel.SMS: MessageChannel.SMS,
    SubscriptionChannel.PHONE: MessageChannel.SMS,
    SubscriptionChannel.EMAIL: MessageChannel.EMAIL,
}


def _require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(_("You may not do this."))


@transaction.atomic
def subscription_add(
    *,
    customer: Customer,
    service: str,
    channel: str,
    consent_date: datetime.date,
    user,
    note: str = "",
) -> ServiceSubscription:
    """Record the customer's subscription to a service, on a channel the service
    uses, to the customer's mobile or e-mail on file."""
    _require(user, "care.add_servicesubscription")
    # the customer's row serialises two managers recording the same service
    customer = require_in_scope(user, customer, lock=True)
    if service not in ServiceKind.values:
        raise ValidationError({"service": _("Unknown service.")})
    if channel not in SERVICE_CHANNELS[service]:
        raise ValidationError(
            {
                "channel": _("%(service)s is not offered by %(channel)s.")
                % {
                    "service": ServiceKind(service).label,
                    "channel": SubscriptionChannel(channel).label
                    if channel in SubscriptionChannel.values
                    else channel,
                }
            }
        )
    if consent_date > timezone.localdate():
        raise ValidationError({"consent_date": _("The consent date cannot be in the future.")})
    if (
        ServiceSubscription.objects.filter(customer=customer, service=service)
        .filter(status=SubscriptionStatus.ACTIVE)
        .exists()
    ):
        raise ValidationError(_("The customer already has this service."), code="duplicate")
    address_channel = _ADDRESS_CHANNEL[SubscriptionChannel(channel)]
    address = destination(address_channel, customer=customer)
    if not address:
        raise ValidationError(
            {
                "channel": _("The customer has no mobile on file.")
                if address_channel == MessageChannel.SMS
                else _("The customer has no e-mail address on file.")
            }
        )
    subscription = ServiceSubscription(
        customer=customer,
        service=service,
        channel=channel,
        destination_masked=mask_destination(address_channel, address),
        consent_date=consent_date,
        recorded_by=user,
        note=note.strip()[:200],
    )
    subscription.full_clean()
    subscription.save()
    audit(
        Action.SUBSCRIPTION_ADDED,
        actor=user,
        target=subscription,
        details={
            "customer": customer.customer_no,
            "service": service,
            "channel": channel,
            "consent_date": consent_date.isoformat(),
        },
    )
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription: ServiceSubscription, user, note: str = "") -> ServiceSubscription:
    """Cancel an active subscription (a cancelled one stays as it is)."""
    _require(user, "care.change_servicesubscription")
    subscription = ServiceSubscription.objects.select_for_update().get(pk=subscription.pk)
    require_in_scope(user, subscription.customer)
    if subscription.status != SubscriptionStatus.ACTIVE:
        return subscription
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_by = user
    subscription.cancelled_at = timezone.now()
    if note.strip():
        subscription.note = note.strip()[:200]
    subscription.save(update_fields=["status", "cancelled_by", "cancelled_at", "note"])
    audit(
        Action.SUBSCRIPTION_CANCELLED,
        actor=user,
        target=subscription,
        details={"customer": subscription.customer.customer_no, "service": subscription.service},
    )
    return subscription

"""Service applications (服务签约): a customer's subscriptions to SMS balance alerts,
phone notice and e-statements, with the channel, the (masked) address, the date the
customer consented and who recorded it. At most one active subscription per
customer and service; a cancelled one stays, with who cancelled it and when.

They govern which messages a customer may receive (care.services.outbox): a
service notice by SMS needs SMS consent or a phone-notice / SMS-alert
subscription, by e-mail e-mail consent or an e-statement subscription."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.querysets import CustomerHeldQuerySet

from ..choices import ServiceKind, SubscriptionChannel, SubscriptionStatus

# The channels each service may use.
SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    ServiceKind.SMS_BALANCE_ALERT: (SubscriptionChannel.SMS,),
    ServiceKind.PHONE_NOTICE: (SubscriptionChannel.PHONE, SubscriptionChannel.SMS),
    ServiceKind.E_STATEMENT: (SubscriptionChannel.EMAIL,),
}


class SubscriptionQuerySet(CustomerHeldQuerySet):
    def active(self) -> models.QuerySet:
        return self.filter(status=SubscriptionStatus.ACTIVE)


class ServiceSubscription(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    service = models.CharField(_("service"), max_length=20, choices=ServiceKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=SubscriptionChannel.choices)
    # The customer's mobile or e-mail it goes to, masked; the full value stays in
    # the customer's contact points.
    destination_masked = models.CharField(_("to"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    consent_date = models.DateField(_("consent date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("service subscription")
        verbose_name_plural = _("service subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "service"],
                condition=Q(status="active"),
                name="subscription_one_active",
                violation_error_message=_("The customer already has this service."),
            ),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="subscription_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.service} {self.status}"

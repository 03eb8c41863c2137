"""One customer's VIP card: tier (and a running override), VIP status, the manager of
record, their histories, running shares and a transfer waiting for approval."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission

from ..choices import TransferStatus
from ..models import TierChange, TierOverride, TransferRequest, VipStatusChange
from .levels import tier_label, tier_names


@dataclass
class CustomerVip:
    customer: Customer
    tier_name: str
    override: TierOverride | None
    tier_changes: list[TierChange]
    vip_changes: list[VipStatusChange]
    assignments: list[CustomerAssignment]
    shares: list[CustomerUserObjectPermission]
    pending_transfer: TransferRequest | None
    names: dict[str, str] = field(default_factory=dict)


def customer_vip(customer: Customer) -> CustomerVip:
    """The VIP card of a customer already fetched through `access_customer`."""
    names = tier_names()
    now = timezone.now()
    return CustomerVip(
        customer=customer,
        tier_name=tier_label(customer.tier, names),
        override=TierOverride.objects.filter(customer=customer, ended_on__isnull=True)
        .select_related("created_by")
        .first(),
        tier_changes=list(
            TierChange.objects.filter(customer=customer)
            .select_related("changed_by")
            .order_by("-effective_date", "-id")[:50]
        ),
        vip_changes=list(
            VipStatusChange.objects.filter(customer=customer)
            .select_related("changed_by")
            .order_by("-effective_date", "-id")[:50]
        ),
        # The full history: performance is attributed by it.
        assignments=list(
            customer.assignments.select_related("manager", "created_by").order_by("-start_date", "-id")
        ),
        shares=list(
            CustomerUserObjectPermission.objects.filter(content_object=customer)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("user")
        ),
        pending_transfer=TransferRequest.objects.filter(customer=customer, status=TransferStatus.PENDING)
        .select_related("from_manager", "to_manager", "proposed_by")
        .first(),
        names=names,
    )

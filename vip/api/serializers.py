"""The VIP card of a customer for other systems: tier (with its level name and any
running override), VIP status and the manager of record with the history of both.
No personal numbers: codes, dates and employee numbers only."""

from __future__ import annotations

from rest_framework import serializers


class TierChangeSerializer(serializers.Serializer):
    date = serializers.DateField(source="effective_date")
    from_tier = serializers.CharField(allow_blank=True)
    to_tier = serializers.CharField(allow_blank=True)
    # The serializer metaclass moves declared fields off the class, so this field does
    # not replace `Field.source` (the attribute the stubs see).
    source = serializers.CharField()  # type: ignore[assignment]
    by = serializers.CharField(source="changed_by.employee_no", allow_null=True, default=None)
    reason = serializers.CharField(allow_blank=True)
    window_avg_aum = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class AssignmentSerializer(serializers.Serializer):
    manager = serializers.CharField(source="manager.employee_no")
    role = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class OverrideSerializer(serializers.Serializer):
    tier = serializers.CharField(allow_blank=True)
    expires_on = serializers.DateField()
    reason = serializers.CharField()
    by = serializers.CharField(source="created_by.employee_no")


class CustomerVipSerializer(serializers.Serializer):
    customer_no = serializers.CharField(source="customer.customer_no")
    tier = serializers.SerializerMethodField()
    tier_name = serializers.SerializerMethodField()
    vip_status = serializers.SerializerMethodField()
    manager = serializers.CharField(
        source="customer.primary_manager.employee_no", allow_null=True, default=None
    )
    override = OverrideSerializer(allow_null=True)
    tier_history = TierChangeSerializer(source="tier_changes", many=True)
    assignments = AssignmentSerializer(many=True)

    def get_tier(self, view) -> str | None:
        return view.customer.tier or None

    def get_tier_name(self, view) -> str | None:
        return view.names.get(view.customer.tier) if view.customer.tier else None

    def get_vip_status(self, view) -> str | None:
        return view.customer.vip_status or None

"""The parameter manager's tables: the product catalogue with its promotions
(spreadsheet import and export through django-import-export) and the
contact-frequency policy (maker-checker: a new policy is a proposal; another user
approves it with the admin action, which brings it into force). Every change is
written to the audit trail."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from accounts.audit import Action, audit

from . import services
from .choices import PolicyStatus
from .models import ContactPolicy, Product, Promotion


class CodeListWidget(widgets.Widget):
    """A JSON list of codes as "a,b,c" in a spreadsheet cell."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return []
        return [part.strip() for part in str(value).replace("，", ",").split(",") if part.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


class ProductResource(resources.ModelResource):
    """Products keyed by their code: importing a sheet updates the products it names
    and adds new ones; each row is validated like a form (full_clean)."""

    channels = fields.Field(attribute="channels", column_name="channels", widget=CodeListWidget())

    class Meta:
        model = Product
        import_id_fields = ("code",)
        fields = (
            "code", "name", "category", "risk_rating", "min_amount", "term_days", "rate", "price",
            "sale_start", "sale_end", "channels", "is_payroll", "is_active", "description",
        )  # fmt: skip
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False

    def after_save_instance(self, instance, row, **kwargs):
        if not kwargs.get("dry_run"):
            audit(
                Action.PARAMETER_CHANGED,
                target=instance,
                details={"parameter": "product", "code": instance.code, "source": "import"},
            )


class PromotionInline(admin.TabularInline):
    model = Promotion
    extra = 0
    fields = ("name", "kind", "value", "start_date", "end_date", "eligible_tiers", "is_active")


@admin.register(Product)
class ProductAdmin(ImportExportModelAdmin):
    resource_classes = [ProductResource]
    list_display = (
        "code",
        "name",
        "category",
        "risk_rating",
        "min_amount",
        "sale_start",
        "sale_end",
        "is_active",
    )
    list_filter = ("category", "risk_rating", "is_active", "is_payroll")
    search_fields = ("code", "name")
    inlines = [PromotionInline]

    def has_delete_permission(self, request, obj=None):
        return False  # sales and campaigns name products: withdraw one (inactive) instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit(
            Action.PARAMETER_CHANGED,
            request=request,
            target=obj,
            details={"parameter": "product", "code": obj.code, "fields": sorted(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            audit(
                Action.PARAMETER_CHANGED,
                request=request,
                target=form.instance,
                details={"parameter": "promotion", "product": form.instance.code},
            )


@admin.register(ContactPolicy)
class ContactPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "quiet_start",
        "quiet_end",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
    )
    list_filter = ("status",)
    fields = ("max_contacts", "window_days", "quiet_start", "quiet_end", "quiet_channels", "note")
    actions = ["approve", "reject"]

    def has_change_permission(self, request, obj=None):
        # A policy is never edited in place: propose a new one.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.status = PolicyStatus.PROPOSED
        obj.proposed_by = request.user
        obj.full_clean()
        super().save_model(request, obj, form, change)
        audit(
            Action.PARAMETER_CHANGED,
            request=request,
            target=obj,
            details={"parameter": "contact_policy", "decision": "proposed"},
        )

    def _decide(self, request, queryset, approve: bool):
        for row in queryset:
            try:
                services.policy_approve(policy_row=row, user=request.user, approve=approve)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(
                    request, f"{row}: {' '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR
                )
            else:
                self.message_user(request, f"{row}: {_('done')}", messages.SUCCESS)

    @admin.action(description=_("Approve: bring into force"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def has_approve_permission(self, request):
        return request.user.has_perm("marketing.approve_contactpolicy")

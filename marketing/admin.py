"""The parameter manager's tables, maker-checker: the product catalogue with its
promotions (spreadsheet import and export through django-import-export) and the
contact-frequency policy. Saving a product (with its promotions) or importing a
sheet proposes a product change; a new policy is a proposal. Another user with the
right approves it (the change lists' actions), and only then does it apply. Every
step is written to the audit trail."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.tmp_storages import CacheStorage

from accounts.admin import DecisionAdminMixin, ImportProposesMixin, ProposalAdmin
from accounts.audit import Action, audit
from core.approvals import ProposalSource
from core.serialization import jsonable

from . import catalogue, services
from .choices import PolicyStatus
from .forms import ProductProposalForm
from .models import ContactPolicy, Product, ProductChange, Promotion


class CodeListWidget(widgets.Widget):
    """A JSON list of codes as "a,b,c" in a spreadsheet cell."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return []
        return [part.strip() for part in str(value).replace("，", ",").split(",") if part.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


class ProductResource(resources.ModelResource):
    """Products keyed by their code; each row is validated like a form
    (full_clean). Importing a sheet never writes a product: the rows that differ
    from the catalogue are collected (`proposed`) and become one product change
    waiting for approval."""

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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proposed: dict[str, dict] = {}

    def save_instance(self, instance, is_create, row, **kwargs):
        self.proposed[instance.code] = {f: jsonable(getattr(instance, f)) for f in catalogue.PRODUCT_FIELDS}

    def delete_instance(self, instance, row, **kwargs):  # pragma: no cover - rows are never deleted
        raise ValidationError(_("Products are withdrawn (inactive), never deleted."))


class PromotionInline(admin.TabularInline):
    model = Promotion
    extra = 0
    fields = ("name", "kind", "value", "start_date", "end_date", "eligible_tiers", "is_active")


@admin.register(Product)
class ProductAdmin(ImportProposesMixin, ImportExportModelAdmin):
    """Saving the form (the product and its promotions) proposes a product change
    and shows it; nothing of the catalogue is written here."""

    resource_classes = [ProductResource]
    proposal_attribute = "_product_change"
    tmp_storage_class = CacheStorage  # any web process can confirm the import
    form = ProductProposalForm
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

    def has_import_permission(self, request) -> bool:
        # an import proposes new and changed products
        return request.user.has_perms(["marketing.add_product", "marketing.change_product"])

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("marketing.view_product")

    def get_readonly_fields(self, request, obj=None):
        # The code is core banking's: accounts and sales are matched by it.
        return ("code", "updated_at") if obj else ("updated_at",)

    def get_fields(self, request, obj=None):
        fields = ["code", *catalogue.PRODUCT_FIELDS, "updated_at"]
        if obj is None or self.has_change_permission(request, obj):
            fields.append("reason")
        return fields

    def save_model(self, request, obj, form, change):
        pass  # save_related proposes the product and its promotions together

    def save_related(self, request, form, formsets, change):
        product = form.instance
        values = {
            f: jsonable(form.cleaned_data[f]) for f in catalogue.PRODUCT_FIELDS if f in form.cleaned_data
        }
        promotions = []
        for formset in formsets:
            for promotion_form in formset.forms:
                if not promotion_form.has_changed() and not formset._should_delete_form(promotion_form):
                    continue
                existing = promotion_form.instance.pk
                if formset._should_delete_form(promotion_form):
                    if existing:
                        promotions.append({"product": product.code, "id": existing, "delete": True})
                    continue
                promotions.append(
                    {
                        "product": product.code,
                        "id": existing,
                        "values": {
                            f: jsonable(promotion_form.cleaned_data[f])
                            for f in catalogue.PROMOTION_FIELDS
                            if f in promotion_form.cleaned_data
                        },
                    }
                )
        request._product_change = None
        try:
            request._product_change = catalogue.product_change_propose(
                proposed_by=request.user,
                reason=form.cleaned_data["reason"],
                products={product.code: values},
                promotions=promotions,
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                self.message_user(request, message, messages.ERROR)

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # nothing was saved: the proposal is audited

    def log_addition(self, request, obj, message):
        pass

    def log_change(self, request, obj, message):
        pass

    def _after_save(self, request):
        change = getattr(request, "_product_change", None)
        if change is None:
            return HttpResponseRedirect(request.path)
        self.message_user(
            request,
            _("Product change #%(id)s proposed: the catalogue changes when someone else approves it.")
            % {"id": change.pk},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:marketing_productchange_change", args=[change.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request)

    def response_change(self, request, obj):
        return self._after_save(request)

    def propose_import(self, request, proposed, *, reason: str):
        return catalogue.product_change_propose(
            proposed_by=request.user, reason=reason, products=proposed, source=ProposalSource.IMPORT
        )

    def process_result(self, result, request):
        if getattr(request, "_product_change", None) is None:
            return HttpResponseRedirect(reverse("admin:marketing_product_changelist"))
        return self._after_save(request)


@admin.register(ProductChange)
class ProductChangeAdmin(ProposalAdmin):
    approval_flow = catalogue.PRODUCT_FLOW

    @admin.display(description=_("products"))
    def summary(self, obj: ProductChange) -> str:
        return ", ".join(obj.product_codes)

    @admin.display(description=_("changes (before → after)"))
    def changes_table(self, obj: ProductChange):
        changes, base = obj.changes or {}, obj.base or {}
        rows = []
        for code, values in changes.get("products", {}).items():
            before = (base.get("products") or {}).get(code) or {}
            for field, value in values.items():
                rows.append((f"{code}.{field}", before.get(field, "—"), value))
        for entry in changes.get("promotions", []):
            name = f"{entry['product']}.promotion {entry.get('id') or '+'}"
            if entry.get("delete"):
                rows.append((name, _("deleted"), "—"))
                continue
            before = (base.get("promotions") or {}).get(str(entry.get("id"))) or {}
            for field, value in entry.get("values", {}).items():
                rows.append((f"{name}.{field}", before.get(field, "—"), value))
        return format_html_join("", "<div><code>{}</code>: {} → <strong>{}</strong></div>", rows)


@admin.register(ContactPolicy)
class ContactPolicyAdmin(DecisionAdminMixin, admin.ModelAdmin):
    approval_flow = services.POLICY_FLOW
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

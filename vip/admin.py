"""The parameter manager's tier parameters, maker-checker.

Levels and the policy are shown read-only in effect: their admin forms (and the
spreadsheet import) save a *proposal*, never the parameters. Another parameter
manager or a system administrator approves it (the proposal list's action, or the
portal's approvals page); only then do the values change. Approved proposals are
the parameters' history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.tmp_storages import CacheStorage

from accounts.admin import ImportProposesMixin, ProposalAdmin

from . import services
from .choices import ProposalSource
from .forms import LevelProposalForm, PolicyProposalForm
from .models import EvaluationRun, ParameterProposal, TierLevel, TierPolicy

PROPOSE = "vip.add_parameterproposal"


class TierLevelResource(resources.ModelResource):
    """Levels keyed by code. Importing a sheet never writes a level: the rows that
    differ from the levels in force are collected (`proposed`) and become one
    proposal waiting for approval."""

    class Meta:
        model = TierLevel
        import_id_fields = ("code",)
        fields = ("code", "name", "aum_threshold", "contact_interval_days", "is_active")
        export_order = fields
        skip_unchanged = True
        report_skipped = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proposed: dict[str, dict] = {}

    def save_instance(self, instance, is_create, row, **kwargs):
        self.proposed[instance.code] = {
            "name": instance.name,
            "aum_threshold": str(instance.aum_threshold),
            "contact_interval_days": instance.contact_interval_days,
            "is_active": bool(instance.is_active),
        }

    def delete_instance(self, instance, row, **kwargs):  # pragma: no cover - rows are never deleted
        raise ValidationError(_("Levels are withdrawn (inactive), never deleted."))


class ProposalAdminMixin:
    """Saving the form proposes the change (audited) and shows the proposal."""

    proposal_field_names: tuple[str, ...] = ()

    def has_add_permission(self, request):
        return request.user.has_perm(PROPOSE)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(PROPOSE)

    def has_delete_permission(self, request, obj=None):
        return False

    def proposal_changes(self, obj, form) -> dict:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        request._vip_proposal = None
        try:
            request._vip_proposal = services.parameter_propose(
                proposed_by=request.user,
                reason=form.cleaned_data["reason"],
                **self.proposal_changes(obj, form),
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", [str(exc)]):
                self.message_user(request, message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass

    def log_addition(self, request, obj, message):
        pass  # the proposal is audited; nothing was added

    def log_change(self, request, obj, message):
        pass

    def _after_save(self, request, obj):
        proposal = getattr(request, "_vip_proposal", None)
        if proposal is None:
            return HttpResponseRedirect(request.path)
        self.message_user(
            request,
            _("Proposal #%(id)s created: the parameters change when someone else approves it.")
            % {"id": proposal.pk},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:vip_parameterproposal_change", args=[proposal.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj)

    def response_change(self, request, obj):
        return self._after_save(request, obj)


@admin.register(TierLevel)
class TierLevelAdmin(ProposalAdminMixin, ImportProposesMixin, ImportExportMixin, admin.ModelAdmin):
    proposal_attribute = "_vip_proposal"
    resource_classes = [TierLevelResource]
    tmp_storage_class = CacheStorage  # any web process can confirm the import
    form = LevelProposalForm
    list_display = (
        "code",
        "name",
        "aum_threshold",
        "contact_interval_days",
        "is_active",
        "version",
        "updated_at",
    )
    list_filter = ("is_active",)
    ordering = ("-is_active", "-aum_threshold")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "version", "updated_at") if obj else ("version", "updated_at")

    def get_fields(self, request, obj=None):
        fields = ["code", "name", "aum_threshold", "contact_interval_days", "is_active"]
        if self.has_change_permission(request, obj):
            fields.append("reason")
        return fields

    def proposal_changes(self, obj, form) -> dict:
        values = {
            f: form.cleaned_data[f]
            for f in ("name", "aum_threshold", "contact_interval_days", "is_active")
            if f in form.cleaned_data
        }
        values["aum_threshold"] = str(values["aum_threshold"])
        return {"levels": {obj.code: values}}

    def has_import_permission(self, request):
        return request.user.has_perm(PROPOSE)

    def has_export_permission(self, request):
        return request.user.has_perm("vip.view_tierlevel")

    def propose_import(self, request, proposed, *, reason: str):
        return services.parameter_propose(
            proposed_by=request.user, reason=reason, levels=proposed, source=ProposalSource.IMPORT
        )

    def process_result(self, result, request):
        proposal = getattr(request, "_vip_proposal", None)
        if proposal is None:
            return HttpResponseRedirect(reverse("admin:vip_tierlevel_changelist"))
        return self._after_save(request, None)


@admin.register(TierPolicy)
class TierPolicyAdmin(ProposalAdminMixin, admin.ModelAdmin):
    form = PolicyProposalForm
    list_display = (
        "__str__",
        "window_months",
        "observation_months",
        "potential_distance_pct",
        "growth_pct",
        "version",
    )

    def has_add_permission(self, request):
        return False  # one row, created by the migration

    def get_fields(self, request, obj=None):
        fields = list(PolicyProposalForm.Meta.fields)
        if self.has_change_permission(request, obj):
            fields.append("reason")
        return fields

    def proposal_changes(self, obj, form) -> dict:
        return {
            "policy": {
                f: str(v) if v is not None and not isinstance(v, int | bool) else v
                for f, v in form.cleaned_data.items()
                if f != "reason"
            }
        }


@admin.register(ParameterProposal)
class ParameterProposalAdmin(ProposalAdmin):
    approval_flow = services.PARAMETER_FLOW

    @admin.display(description=_("changes"))
    def summary(self, obj: ParameterProposal) -> str:
        changes = obj.changes or {}
        parts = [f"{code}: {', '.join(sorted(v))}" for code, v in changes.get("levels", {}).items()]
        if changes.get("policy"):
            parts.append(f"policy: {', '.join(sorted(changes['policy']))}")
        return "; ".join(parts)

    @admin.display(description=_("changes (before → after)"))
    def changes_table(self, obj: ParameterProposal):
        changes, base = obj.changes or {}, obj.base or {}
        rows = []
        for code, fields in changes.get("levels", {}).items():
            before = (base.get("levels") or {}).get(code) or {}
            for field, value in fields.items():
                rows.append((f"{code}.{field}", before.get(field, "—"), value))
        for field, value in changes.get("policy", {}).items():
            rows.append((f"policy.{field}", (base.get("policy") or {}).get(field, "—"), value))
        return format_html_join("", "<div><code>{}</code>: {} → <strong>{}</strong></div>", rows)


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ("as_of", "status", "source", "started_at", "seconds", "changes")
    list_filter = ("status",)
    readonly_fields = (
        "as_of",
        "status",
        "source",
        "started_at",
        "finished_at",
        "seconds",
        "parameters",
        "counts",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("tier changes"))
    def changes(self, obj: EvaluationRun):
        return (obj.counts or {}).get("tier_changes", "")

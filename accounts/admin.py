from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin, ImportMixin

from .approvals import ApprovalFlow, decide
from .models import AuditEvent, Branch, User
from .resources import BranchResource, UserResource


class DecisionActionForm(helpers.ActionForm):
    """The change list's action bar, with the note a decision carries (a
    rejection's reason)."""

    note = forms.CharField(label=_("Note (needed to reject)"), required=False, max_length=300)


if TYPE_CHECKING:
    _ModelAdminMixinBase = admin.ModelAdmin
else:
    _ModelAdminMixinBase = object


class DecisionAdminMixin(_ModelAdminMixinBase):
    """Approve and reject, as change-list actions, the selected items of a
    maker-checker flow (`approval_flow`), each through `accounts.approvals.decide`:
    the proposer's own items and items already decided are refused one by one,
    with the reason."""

    approval_flow: ApprovalFlow
    action_form = DecisionActionForm
    actions = ["approve", "reject"]

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm(self.approval_flow.permission)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        note = request.POST.get("note", "")
        done = gettext("approved") if approve else gettext("rejected")
        for item in queryset:
            name = f"{self.approval_flow.item} #{item.pk}"
            try:
                decide(self.approval_flow, item, by=request.user, approve=approve, note=note)
            except (PermissionDenied, ValidationError) as exc:
                message = " ".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"{name}: {message}", messages.ERROR)
            else:
                self.message_user(request, f"{name}: {done}", messages.SUCCESS)

    @admin.action(description=_("Approve: bring into force"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject (say why in the note)"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)


class ImportProposesMixin:
    """The confirmed import of a django-import-export admin proposes what the file
    changes (validated like the preview) instead of writing it: `propose_import`
    makes the flow's proposal; `request.<proposal_attribute>` holds it (None when
    nothing was proposed) for the page that follows."""

    proposal_attribute = "_proposal"

    def propose_import(self, request, proposed, *, reason: str):
        raise NotImplementedError

    def process_dataset(self, dataset, form, request, **kwargs):
        resource = self.choose_import_resource_class(form, request)(
            **self.get_import_resource_kwargs(request, form=form, **kwargs)
        )
        result = resource.import_data(dataset, dry_run=True, raise_errors=False, user=request.user)
        setattr(request, self.proposal_attribute, None)
        if result.has_errors() or result.has_validation_errors():
            self.message_user(request, _("The file has errors: nothing was proposed."), messages.ERROR)
        elif not resource.proposed:
            self.message_user(request, _("The file changes nothing."), messages.INFO)
        else:
            reason = _("Imported from %(file)s") % {
                "file": form.cleaned_data.get("original_file_name") or "a file"
            }
            try:
                proposal = self.propose_import(request, resource.proposed, reason=reason)
            except (ValidationError, PermissionDenied) as exc:
                for message in getattr(exc, "messages", None) or [str(exc)]:
                    self.message_user(request, message, messages.ERROR)
            else:
                setattr(request, self.proposal_attribute, proposal)
        return result


class ProposalAdmin(DecisionAdminMixin, admin.ModelAdmin):
    """A proposal of a maker-checker flow in the admin: read-only (it is made by
    saving the form or an import of what it changes, and decided by the actions)."""

    list_display = (
        "id",
        "status",
        "source",
        "summary",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "source")
    readonly_fields = (
        "status",
        "source",
        "reason",
        "changes_table",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Branch)
class BranchAdmin(ImportExportModelAdmin):
    """Branches can also be imported from a spreadsheet (new ones created by the
    same rules as here; names and the active flag of existing ones updated)."""

    resource_classes = [BranchResource]
    list_display = ("code", "name", "level", "parent", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    ordering = ("path",)
    autocomplete_fields = ("parent",)

    def has_import_permission(self, request) -> bool:
        return request.user.has_perms(["accounts.add_branch", "accounts.change_branch"])

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("accounts.view_branch")

    def get_readonly_fields(self, request, obj=None):
        # A code is part of every descendant's path and of loaded data: it never changes.
        return ("code", "level", "parent") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ImportMixin, DjangoUserAdmin):
    """Users are requested and approved in the portal (maker-checker, audited); the
    admin shows them and lets a system administrator correct contact details. A
    spreadsheet import requests many accounts at once: each is created pending,
    audited, and still needs someone else's approval."""

    resource_classes = [UserResource]

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("accounts.request_user")

    list_display = ("username", "display_name", "employee_no", "branch", "status", "last_login")
    list_filter = ("status", "groups", "branch__level")
    search_fields = ("username", "display_name", "employee_no")
    ordering = ("username",)
    readonly_fields = (
        "username",
        "status",
        "is_active",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "disabled_at",
        "status_reason",
        "last_login",
        "date_joined",
        "is_superuser",
    )
    fieldsets = (
        (None, {"fields": ("username", "display_name", "employee_no", "branch")}),
        (_("Contact"), {"fields": ("email", "mobile")}),
        (
            _("Lifecycle"),
            {
                "fields": (
                    "status",
                    "is_active",
                    "status_reason",
                    "proposed_by",
                    "proposed_at",
                    "decided_by",
                    "decided_at",
                    "decision_note",
                    "disabled_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        (_("Roles"), {"fields": ("groups", "is_staff", "is_superuser")}),
    )
    autocomplete_fields = ("branch",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail cannot be changed from the application."""

    list_display = ("occurred_at", "actor_username", "action", "target_type", "target_repr", "ip")
    list_filter = ("action",)
    search_fields = ("actor_username", "target_id", "target_repr")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

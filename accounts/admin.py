from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin, ImportMixin

from .models import AuditEvent, Branch, User
from .resources import BranchResource, UserResource


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
        "requested_by",
        "approved_by",
        "approved_at",
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
                    "requested_by",
                    "approved_by",
                    "approved_at",
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

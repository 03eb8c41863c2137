"""Spreadsheet import (django-import-export) of the reference tables administrators
keep in Excel: the org tree and user accounts. Every row goes through the same rules
as the screens: branches by `branch_create` (one level below the parent; a code, a
level and a parent never change once created), users by `user_request` — created
pending, never active, audited — so an import is a bulk request that someone else
still approves (maker-checker).

Products and tier levels are imported the same way by their own apps' admins."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .audit import Action, audit
from .models import Branch, User
from .roles import Role
from .services import branch_create, user_request


def _roles(row) -> list[str]:
    return [r.strip() for r in str(row.get("roles") or "").replace(";", ",").split(",") if r.strip()]


class BranchResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code")
    name = fields.Field(attribute="name", column_name="name")
    level = fields.Field(attribute="level", column_name="level", widget=widgets.IntegerWidget())
    parent = fields.Field(
        attribute="parent", column_name="parent", widget=widgets.ForeignKeyWidget(Branch, field="code")
    )
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget())

    class Meta:
        model = Branch
        import_id_fields = ("code",)
        fields = ("code", "name", "level", "parent", "is_active")
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        existing = Branch.objects.filter(code=str(row.get("code") or "").strip()).first()
        if existing is None:
            return
        level, parent = str(row.get("level") or "").strip(), str(row.get("parent") or "").strip()
        current_parent = existing.parent.code if existing.parent else ""
        if (level and int(level) != existing.level) or parent != current_parent:
            message = _("Branch %(code)s: a level or parent never changes.") % {"code": existing.code}
            raise ValidationError(message)

    def save_instance(self, instance, is_create, row, **kwargs):
        self.before_save_instance(instance, row, **kwargs)
        if is_create:
            created = branch_create(
                code=instance.code, name=instance.name, level=instance.level, parent=instance.parent
            )
            if not instance.is_active:
                Branch.objects.filter(pk=created.pk).update(is_active=False)
            instance.pk, instance.path = created.pk, created.path
        else:
            instance.full_clean(exclude=["path"])
            instance.save(update_fields=["name", "is_active"])
        self.after_save_instance(instance, row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        audit(
            Action.PARAMETER_CHANGED,
            actor=kwargs.get("user"),
            target_type="accounts.branch",
            target_repr="branch import",
            details={"imported": dict(result.totals), "file": kwargs.get("file_name", "")},
        )


class UserResource(resources.ModelResource):
    """New accounts only: each row is a request (pending approval) by the importing
    administrator, with a random initial password the user must change (an
    administrator sets or sends it once the account is approved)."""

    username = fields.Field(attribute="username", column_name="username")
    employee_no = fields.Field(attribute="employee_no", column_name="employee_no")
    display_name = fields.Field(attribute="display_name", column_name="display_name")
    branch = fields.Field(
        attribute="branch", column_name="branch", widget=widgets.ForeignKeyWidget(Branch, field="code")
    )
    email = fields.Field(attribute="email", column_name="email")
    mobile = fields.Field(attribute="mobile", column_name="mobile")
    roles = fields.Field(column_name="roles", readonly=True)

    class Meta:
        model = User
        import_id_fields = ("username",)
        fields = ("username", "employee_no", "display_name", "branch", "email", "mobile", "roles")

    def before_import_row(self, row, **kwargs):
        username = str(row.get("username") or "").strip()
        if User.objects.filter(username__iexact=username).exists():
            message = _("User %(u)s already exists: accounts are changed in the portal, not by import.")
            raise ValidationError(message % {"u": username})
        roles = _roles(row)
        unknown = sorted(set(roles) - set(Role.values))
        if not roles or unknown:
            raise ValidationError(
                _("Roles must be one or more of %(roles)s.") % {"roles": ", ".join(Role.values)}
            )
        if not row.get("branch"):
            raise ValidationError(_("Every user belongs to a branch."))

    def save_instance(self, instance, is_create, row, **kwargs):
        requester = kwargs.get("user")
        if requester is None or not requester.has_perm("accounts.request_user"):
            raise ValidationError(_("You may not request user accounts."))
        roles = _roles(row)
        created = user_request(
            requested_by=requester,
            username=instance.username.strip(),
            employee_no=(instance.employee_no or "").strip().upper(),
            display_name=(instance.display_name or "").strip(),
            branch=instance.branch,
            roles=roles,
            password=secrets.token_urlsafe(18) + "aA1!",
            email=(instance.email or "").strip(),
            mobile=(instance.mobile or "").strip(),
        )
        instance.pk = created.pk
        instance.status = created.status
        instance.is_active = created.is_active

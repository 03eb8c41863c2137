"""FTP spreads in the admin: the spreads in force are read-only (only an approved
proposal writes them); proposals are read and decided like the tier parameters'
(approve and reject as list actions, through accounts.approvals.decide). Proposals
are made on the portal's FTP spreads page. Assessment schemes are read here; they
change on the portal's scheme pages, through their services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin import ProposalAdmin

from . import parameters
from .models import FtpProposal, FtpSpreads, GradeBand, Scheme, SchemeIndicator


@admin.register(FtpSpreads)
class FtpSpreadsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "summary", "updated_at")
    list_select_related = ("period",)
    fields = ("period", "spreads_table", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("spreads"))
    def summary(self, obj: FtpSpreads) -> str:
        return ", ".join(f"{parameters.category_label(c)} {v}" for c, v in (obj.spreads or {}).items())

    @admin.display(description=_("spreads"))
    def spreads_table(self, obj: FtpSpreads):
        rows = [(parameters.category_label(c), v) for c, v in (obj.spreads or {}).items()]
        return format_html_join("", "<div>{}: <strong>{}</strong></div>", rows)


@admin.register(FtpProposal)
class FtpProposalAdmin(ProposalAdmin):
    approval_flow = parameters.FTP_FLOW
    list_select_related = ("proposed_by", "decided_by")

    @admin.display(description=_("changes"))
    def summary(self, obj: FtpProposal) -> str:
        changes = ", ".join(change.label for change in parameters.proposal_changes(obj))
        return f"{parameters.proposal_period(obj)}: {changes}"

    @admin.display(description=_("changes (before → after)"))
    def changes_table(self, obj: FtpProposal):
        period = parameters.proposal_period(obj)
        rows = [
            (period, change.label, change.before or "—", change.after)
            for change in parameters.proposal_changes(obj)
        ]
        return format_html_join("", "<div>{} · {}: {} → <strong>{}</strong></div>", rows)


# --- assessment schemes: read here, changed on the portal's scheme pages (services) -------


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SchemeIndicatorInline(_ReadOnly, admin.TabularInline):
    model = SchemeIndicator
    fields = ("indicator", "weight", "formula", "params", "target_source", "target")
    readonly_fields = fields
    extra = 0


class GradeBandInline(_ReadOnly, admin.TabularInline):
    model = GradeBand
    fields = ("label", "min_score", "share")
    readonly_fields = fields
    extra = 0


@admin.register(Scheme)
class SchemeAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("name", "period", "role", "status", "proposed_by", "decided_by", "decided_at")
    list_filter = ("status", "role")
    list_select_related = ("period", "proposed_by", "decided_by")
    search_fields = ("name", "period__code")
    readonly_fields = (
        "period",
        "role",
        "name",
        "status",
        "copy_of",
        "created_by",
        "created_at",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    fields = readonly_fields
    inlines = (SchemeIndicatorInline, GradeBandInline)

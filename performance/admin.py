"""FTP spreads in the admin: the spreads in force are read-only (only an approved
proposal writes them); proposals are read and decided like the tier parameters'
(approve and reject as list actions, through accounts.approvals.decide). Proposals
are made on the portal's FTP spreads page."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin import ProposalAdmin

from . import parameters
from .models import FtpProposal, FtpSpreads


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

"""The navigation: each entry shows only to users who may use it. The server still
checks every view; hiding is a convenience, not the control."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, user_roles


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None = None
    staff_only: bool = False

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None

    def visible_to(self, user) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        return self.permission is None or user.has_perm(self.permission)


@dataclass(frozen=True)
class AnyOfNavItem(NavItem):
    """Shown to users with any one of several permissions."""

    any_of: tuple[str, ...] = ()

    def visible_to(self, user) -> bool:
        return any(user.has_perm(p) for p in self.any_of)


@dataclass(frozen=True)
class ScopedNavItem(NavItem):
    """Shown to users with a data scope (their own customers, a branch subtree or
    the bank): pages whose rows are narrowed to it."""

    def visible_to(self, user) -> bool:
        return data_scope(user).kind is not ScopeKind.NONE


@dataclass(frozen=True)
class RoleNavItem(NavItem):
    """Shown to users with one of these roles (a page of a role's own work)."""

    roles: tuple[str, ...] = ()

    def visible_to(self, user) -> bool:
        return bool(user_roles(user) & set(self.roles))


NAVIGATION: list[NavItem] = [
    NavItem(_("Home"), "home"),
    NavItem(_("Alerts"), "care:alert_list", "care.view_alert"),
    NavItem(_("Calendar"), "care:calendar", "care.view_planitem"),
    NavItem(_("Visit journal"), "care:journal", "care.view_journalentry"),
    NavItem(_("Outbox"), "care:outbox", "care.view_message"),
    RoleNavItem(_("Morning meeting"), "care:meeting", roles=(Role.BRANCH_HEAD,)),
    NavItem(_("Customers"), "customers:list", "customers.view_customer"),
    NavItem(_("My customers"), "vip:my_customers", "vip.add_transferrequest"),
    NavItem(_("Branch pool"), "vip:pool", "vip.assign_customer"),
    AnyOfNavItem(
        _("Approvals"),
        "vip:approvals",
        any_of=("vip.approve_transferrequest", "vip.approve_parameterproposal", "vip.add_transferrequest"),
    ),
    NavItem(_("VIP reports"), "vip:reports", "vip.view_vip_report"),
    NavItem(_("Data quality"), "customers:quality_queue", "customers.view_dataqualityissue"),
    NavItem(_("Campaigns"), "marketing:campaign_list", "marketing.view_campaign"),
    NavItem(_("My targets"), "marketing:my_targets", "marketing.add_marketingcontact"),
    NavItem(_("Opportunities"), "marketing:opportunity_list", "marketing.view_opportunity"),
    NavItem(_("Marketing tasks"), "marketing:task_list", "marketing.view_marketingtask"),
    NavItem(_("Segments"), "marketing:segment_list", "marketing.view_segment"),
    NavItem(_("Products"), "marketing:product_list", "marketing.view_product"),
    ScopedNavItem(_("Performance"), "performance:figures"),
    NavItem(_("FTP spreads"), "performance:ftp", "performance.view_ftpspreads"),
    NavItem(_("Users"), "accounts:user_list", "accounts.view_user"),
    NavItem(_("Audit trail"), "accounts:audit_list", "accounts.view_auditevent"),
    NavItem(_("Administration"), "admin:index", staff_only=True),
]


def navigation_for(user) -> list[dict[str, str | Promise]]:
    items = []
    for item in NAVIGATION:
        if not item.visible_to(user):
            continue
        url = item.url()
        if url:
            items.append({"label": item.label, "url": url, "url_name": item.url_name})
    return items

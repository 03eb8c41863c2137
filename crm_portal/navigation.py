"""The navigation: each entry shows only to users who may use it. The server still
checks every view; hiding is a convenience, not the control."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, user_roles
from performance.selectors import PUBLICATION_READERS


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
    """Shown to users with one of these data scopes (by default any: their own
    customers, a branch subtree or the bank): pages whose rows are narrowed to it."""

    scopes: tuple[ScopeKind, ...] = (ScopeKind.OWN, ScopeKind.SUBTREE, ScopeKind.ALL)

    def visible_to(self, user) -> bool:
        return data_scope(user).kind in self.scopes


@dataclass(frozen=True)
class RoleNavItem(NavItem):
    """Shown to users with one of these roles (a page of a role's own work)."""

    roles: tuple[str, ...] = ()

    def visible_to(self, user) -> bool:
        return bool(user_roles(user) & set(self.roles))


@dataclass(frozen=True)
class NavGroup:
    """A dropdown of the navigation bar; a group with one entry the user may use
    shows as that entry alone, a group with none is left out."""

    label: str | Promise
    items: tuple[NavItem, ...]


NAVIGATION: list[NavItem | NavGroup] = [
    NavItem(_("Home"), "home"),
    NavGroup(
        _("Keep close"),
        (
            NavItem(_("Alerts"), "care:alert_list", "care.view_alert"),
            NavItem(_("Calendar"), "care:calendar", "care.view_planitem"),
            NavItem(_("Visit journal"), "care:journal", "care.view_journalentry"),
            NavItem(_("Outbox"), "care:outbox", "care.view_message"),
            RoleNavItem(_("Morning meeting"), "care:meeting", roles=(Role.BRANCH_HEAD,)),
        ),
    ),
    NavGroup(
        _("Customers"),
        (
            NavItem(_("Customers"), "customers:list", "customers.view_customer"),
            NavItem(_("Employers (payroll)"), "customers:employer_list", "customers.view_employer"),
            NavItem(_("Data quality"), "customers:quality_queue", "customers.view_dataqualityissue"),
            NavItem(_("My exports"), "customers:export_list", "customers.export_customer"),
        ),
    ),
    NavGroup(
        _("VIP"),
        (
            NavItem(_("My customers"), "vip:my_customers", "vip.add_transferrequest"),
            NavItem(_("Branch pool"), "vip:pool", "vip.assign_customer"),
            NavItem(_("Managers"), "vip:managers", "vip.recall_customer"),
            NavItem(_("Batch assignment"), "vip:batch_start", "vip.assign_customer"),
            NavItem(_("VIPs to be won"), "vip:prospects", "vip.view_vipprospect"),
            AnyOfNavItem(
                _("Approvals"),
                "vip:approvals",
                any_of=(
                    "vip.approve_transferrequest",
                    "vip.approve_parameterproposal",
                    "vip.add_transferrequest",
                ),
            ),
            NavItem(_("VIP reports"), "vip:reports", "vip.view_vip_report"),
            NavItem(_("Tier parameters"), "vip:parameters", "vip.view_tierlevel"),
        ),
    ),
    NavGroup(
        _("Marketing"),
        (
            NavItem(_("Campaigns"), "marketing:campaign_list", "marketing.view_campaign"),
            NavItem(_("My targets"), "marketing:my_targets", "marketing.add_marketingcontact"),
            NavItem(_("Opportunities"), "marketing:opportunity_list", "marketing.view_opportunity"),
            NavItem(_("Account-opening requests"), "marketing:opening_list", "marketing.view_openingrequest"),
            NavItem(_("Appointment calendar"), "marketing:opening_calendar", "marketing.view_openingrequest"),
            NavItem(_("Account-opening funnel"), "marketing:opening_funnel", "marketing.view_openingrequest"),
            NavItem(_("Marketing tasks"), "marketing:task_list", "marketing.view_marketingtask"),
            NavItem(_("Segments"), "marketing:segment_list", "marketing.view_segment"),
            NavItem(_("Products"), "marketing:product_list", "marketing.view_product"),
            NavItem(_("Channels"), "marketing:channel_list", "marketing.view_channel"),
            NavItem(_("Channel results"), "marketing:channel_report", "marketing.view_channel"),
            NavItem(_("Indicator library"), "marketing:indicator_list", "marketing.view_indicator"),
        ),
    ),
    NavGroup(
        _("Performance"),
        (
            ScopedNavItem(_("Figures"), "performance:figures"),
            ScopedNavItem(
                _("Branch ranking"), "performance:branches", scopes=(ScopeKind.SUBTREE, ScopeKind.ALL)
            ),
            AnyOfNavItem(
                _("Disputes"),
                "performance:disputes",
                any_of=("performance.decide_dispute", "performance.add_dispute"),
            ),
            AnyOfNavItem(_("Periods and publication"), "performance:periods", any_of=PUBLICATION_READERS),
            NavItem(_("Assessment schemes"), "performance:schemes", "performance.view_scheme"),
            NavItem(_("FTP spreads"), "performance:ftp", "performance.view_ftpspreads"),
        ),
    ),
    NavGroup(
        _("Analysis and credit"),
        (
            NavItem(_("Save list"), "analysis:save_list", "analysis.view_customeranalysis"),
            NavItem(_("Analysis reports"), "analysis:reports", "analysis.view_analysis_report"),
            NavItem(_("Churn models"), "analysis:models", "analysis.view_churnmodel"),
            NavItem(_("Credit-risk reports"), "credit:reports", "credit.view_credit_report"),
            NavItem(_("Credit-report queries"), "credit:queries_list", "credit.view_creditquery"),
            NavItem(_("Queries to approve"), "credit:queries_approvals", "credit.approve_creditquery"),
        ),
    ),
    NavGroup(
        _("System"),
        (
            NavItem(_("Users"), "accounts:user_list", "accounts.view_user"),
            NavItem(_("Changes of roles"), "accounts:user_change_list", "accounts.approve_user_change"),
            NavItem(_("Audit trail"), "accounts:audit_list", "accounts.view_auditevent"),
            NavItem(_("Suspicious operations"), "accounts:audit_report", "accounts.view_auditevent"),
            NavItem(_("Usage statistics"), "accounts:audit_usage", "accounts.view_auditevent"),
            NavItem(_("Administration"), "admin:index", staff_only=True),
        ),
    ),
]


def _link(item: NavItem, current: str | None) -> dict | None:
    url = item.url()
    if not url:
        return None
    return {"label": item.label, "url": url, "url_name": item.url_name, "active": item.url_name == current}


def navigation_menu(user, current: str | None = None) -> list[dict]:
    """The navigation bar of a user: links ({label, url, url_name, active}) and
    dropdowns ({label, children, active}); `current` is the view name of the page shown."""
    menu: list[dict] = []
    for entry in NAVIGATION:
        if isinstance(entry, NavGroup):
            links = [
                link
                for item in entry.items
                if item.visible_to(user) and (link := _link(item, current)) is not None
            ]
            if len(links) == 1:
                menu.append(links[0])
            elif links:
                menu.append(
                    {"label": entry.label, "children": links, "active": any(x["active"] for x in links)}
                )
        elif entry.visible_to(user) and (link := _link(entry, current)) is not None:
            menu.append(link)
    return menu


def flatten(menu: list[dict]) -> list[dict]:
    """Every link of a menu, in order (the dropdowns opened)."""
    return [link for entry in menu for link in entry.get("children", [entry])]


def navigation_for(user) -> list[dict]:
    """Every page of the navigation the user may use, as one list."""
    return flatten(navigation_menu(user))

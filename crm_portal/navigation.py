"""The navigation: each entry shows only to users who may use it. The server still
checks every view; hiding is a convenience, not the control.

It is built for every page a signed-in user opens, so it is cheap: the user's
permissions are read once for the whole menu (`Viewer`) rather than asked of every
authentication backend for each entry, and each entry's address is reversed once
per process (`_addresses`): the addresses depend on no user."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, user_roles
from performance.selectors import PUBLICATION_READERS


@dataclass
class Viewer:
    """The user a menu is built for, with their permissions read once.

    `may(perm)` answers as `user.has_perm(perm)` does without an object: an active
    superuser may do anything, an inactive user nothing, anyone else what their
    backends' `get_all_permissions()` grant. Of the backends (AUTHENTICATION_BACKENDS),
    ModelBackend grants the user's and their groups' permissions to an active user,
    django-guardian's grants nothing without an object and axes' none at all (it has
    no permission methods); `has_perm` is true exactly when one of them grants."""

    user: object
    _granted: frozenset[str] | None = field(default=None, init=False, repr=False)

    def may(self, perm: str) -> bool:
        user = self.user
        if not getattr(user, "is_active", False):
            return False
        if getattr(user, "is_superuser", False):
            return True
        if self._granted is None:
            self._granted = frozenset(user.get_all_permissions())  # type: ignore[attr-defined]
        return perm in self._granted


def _viewer(user) -> Viewer:
    return user if isinstance(user, Viewer) else Viewer(user)


def _reverse(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


@lru_cache(maxsize=64)
def _addresses(urlconf: str | None, prefix: str, language: str | None) -> dict[str, str | None]:
    """The address of every entry (None where it is not routed), reversed once for
    each URL configuration, script prefix and language (the URLs take no language
    prefix today; keyed by it all the same, in case they ever do)."""
    items = (
        item for entry in NAVIGATION for item in (entry.items if isinstance(entry, NavGroup) else (entry,))
    )
    return {item.url_name: _reverse(item.url_name) for item in items}


def _address_book() -> dict[str, str | None]:
    return _addresses(get_urlconf(), get_script_prefix(), get_language())


@receiver(setting_changed)
def _forget_addresses(*, setting: str, **kwargs) -> None:
    """Tests that route other URLs (override_settings(ROOT_URLCONF=...)) get theirs."""
    if setting == "ROOT_URLCONF":
        _addresses.cache_clear()


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None = None
    staff_only: bool = False

    def url(self) -> str | None:
        book = _address_book()
        return book[self.url_name] if self.url_name in book else _reverse(self.url_name)

    def visible_to(self, user) -> bool:
        """`user`: a user or a `Viewer` (a menu passes one, its permissions read once)."""
        viewer = _viewer(user)
        if self.staff_only and not getattr(viewer.user, "is_staff", False):
            return False
        return self.permission is None or viewer.may(self.permission)


@dataclass(frozen=True)
class AnyOfNavItem(NavItem):
    """Shown to users with any one of several permissions."""

    any_of: tuple[str, ...] = ()

    def visible_to(self, user) -> bool:
        viewer = _viewer(user)
        return any(viewer.may(p) for p in self.any_of)


@dataclass(frozen=True)
class ScopedNavItem(NavItem):
    """Shown to users with one of these data scopes (by default any: their own
    customers, a branch subtree or the bank): pages whose rows are narrowed to it."""

    scopes: tuple[ScopeKind, ...] = (ScopeKind.OWN, ScopeKind.SUBTREE, ScopeKind.ALL)

    def visible_to(self, user) -> bool:
        return data_scope(_viewer(user).user).kind in self.scopes


@dataclass(frozen=True)
class RoleNavItem(NavItem):
    """Shown to users with one of these roles (a page of a role's own work)."""

    roles: tuple[str, ...] = ()

    def visible_to(self, user) -> bool:
        return bool(user_roles(_viewer(user).user) & set(self.roles))


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


def _link(item: NavItem, current: str | None, addresses: dict[str, str | None]) -> dict | None:
    url = addresses[item.url_name]
    if not url:
        return None
    return {"label": item.label, "url": url, "url_name": item.url_name, "active": item.url_name == current}


def navigation_menu(user, current: str | None = None) -> list[dict]:
    """The navigation bar of a user: links ({label, url, url_name, active}) and
    dropdowns ({label, children, active}); `current` is the view name of the page shown."""
    viewer, addresses = Viewer(user), _address_book()
    menu: list[dict] = []
    for entry in NAVIGATION:
        if isinstance(entry, NavGroup):
            links = [
                link
                for item in entry.items
                if item.visible_to(viewer) and (link := _link(item, current, addresses)) is not None
            ]
            if len(links) == 1:
                menu.append(links[0])
            elif links:
                menu.append(
                    {"label": entry.label, "children": links, "active": any(x["active"] for x in links)}
                )
        elif entry.visible_to(viewer) and (link := _link(entry, current, addresses)) is not None:
            menu.append(link)
    return menu


def flatten(menu: list[dict]) -> list[dict]:
    """Every link of a menu, in order (the dropdowns opened)."""
    return [link for entry in menu for link in entry.get("children", [entry])]


def navigation_for(user) -> list[dict]:
    """Every page of the navigation the user may use, as one list."""
    return flatten(navigation_menu(user))

"""Home-page panels per role. Each app may add its panels here as it lands; a panel
is a title, a template and a context built with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import UserStatus
from accounts.roles import Role
from accounts.scope import data_scope, user_roles


@dataclass
class Panel:
    title: str | Promise
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def _book_figures(user) -> dict[str, Any]:
    """Count and AUM of the customers in the user's scope: one aggregate query."""
    from django.db.models import Count, Sum

    from customers.models import Customer

    figures = Customer.objects.visible_to(user).aggregate(count=Count("pk"), aum=Sum("aum"))
    return {"count": figures["count"], "aum": figures["aum"] or 0}


def panels_for(user) -> list[Panel]:
    roles = user_roles(user)
    panels: list[Panel] = [Panel(_("My work"), "crm_portal/panels/welcome.html", {"scope": data_scope(user)})]
    if user.has_perm("accounts.approve_user"):
        from accounts.models import User

        pending = User.objects.filter(status=UserStatus.PENDING).exclude(proposed_by=user).count()
        panels.append(
            Panel(
                _("Accounts waiting for approval"),
                "crm_portal/panels/pending_users.html",
                {"pending": pending},
            )
        )
    if roles & {Role.CLIENT_MANAGER, Role.BRANCH_HEAD} and user.has_perm("customers.view_customer"):
        panels.append(Panel(_("My customers"), "crm_portal/panels/my_customers.html", _book_figures(user)))
    if Role.CLIENT_MANAGER in roles:
        panels.append(Panel(_("Today"), "crm_portal/panels/client_manager.html"))
    if Role.CLIENT_MANAGER in roles and user.has_perm("marketing.add_marketingcontact"):
        from marketing.home import open_targets_panel

        panels.append(
            Panel(_("Open campaign targets"), "marketing/panels/open_targets.html", open_targets_panel(user))
        )
    # The VIP panels load themselves (htmx) so that the home page's own queries stay few.
    if roles & {Role.CLIENT_MANAGER, Role.BRANCH_HEAD}:
        panels.append(Panel(_("Reminders"), "vip/panels/reminders.html"))
    if user.has_perm("vip.approve_transferrequest") or user.has_perm("vip.approve_parameterproposal"):
        panels.append(Panel(_("Waiting for your approval"), "vip/panels/approvals.html"))
    if Role.BRANCH_HEAD in roles:
        panels.append(Panel(_("My branch"), "crm_portal/panels/branch_head.html"))
    if roles & {Role.BUSINESS_MANAGER, Role.PARAMETER_MANAGER}:
        panels.append(Panel(_("Head office"), "crm_portal/panels/head_office.html"))
    if Role.AUDITOR in roles:
        panels.append(Panel(_("Audit"), "crm_portal/panels/auditor.html"))
    return panels

"""The home-page widgets of keeping close (core.widgets): the client manager's day
(alerts due with their reasons, today's plan, overdue contacts, messages held or
refused) and the branch head's team (overdue alerts per manager, the morning
meeting); and the alert parameter proposals waiting for a parameter manager's
decision. `register()` is called from CareConfig.ready()."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, user_roles
from core import widgets
from core.widgets import PARAMETER, PendingSource, Widget


def _manager(user) -> bool:
    """A user with a book of their own: a client manager or a branch head."""
    return data_scope(user).kind in (ScopeKind.OWN, ScopeKind.SUBTREE)


def _branch_head(user) -> bool:
    return Role.BRANCH_HEAD in user_roles(user) and data_scope(user).kind is ScopeKind.SUBTREE


def _alerts_due(user, day: datetime.date) -> dict[str, Any]:
    from .selectors.day import my_alerts_due

    rows, total = my_alerts_due(user, day)
    return {"rows": rows, "total": total, "day": day}


def _overdue_contacts(user, day: datetime.date) -> dict[str, Any]:
    from .selectors.day import overdue_contacts

    rows, total = overdue_contacts(user, day)
    return {"rows": rows, "total": total, "day": day}


def _plan(user, day: datetime.date) -> dict[str, Any]:
    from .selectors.day import plan_today

    return {"items": plan_today(user, day), "day": day}


def _messages(user, day: datetime.date) -> dict[str, Any]:
    from .selectors.day import messages_today

    return messages_today(user)


def _team_overdue(user, day: datetime.date) -> dict[str, Any]:
    from .selectors.day import team_overdue

    rows, total = team_overdue(user, day)
    return {"rows": rows, "total": total, "day": day}


def _meeting(user, day: datetime.date) -> dict[str, Any]:
    return {"day": day, "yesterday": day - datetime.timedelta(days=1)}


WIDGETS = (
    Widget(
        key="alerts_due",
        title=_("Alerts due today"),
        template="crm_portal/widgets/alerts_due.html",
        app="care",
        defaults={Role.CLIENT_MANAGER: 10, Role.BRANCH_HEAD: 25},
        permission="care.view_alert",
        predicate=_manager,
        context=_alerts_due,
    ),
    Widget(
        key="plan_today",
        title=_("Today's plan"),
        template="crm_portal/widgets/plan_today.html",
        app="care",
        defaults={Role.CLIENT_MANAGER: 20},
        predicate=_manager,
        context=_plan,
    ),
    Widget(
        key="overdue_contacts",
        title=_("Overdue contacts"),
        template="crm_portal/widgets/overdue_contacts.html",
        app="care",
        defaults={Role.CLIENT_MANAGER: 30},
        permission="care.view_alert",
        predicate=_manager,
        context=_overdue_contacts,
    ),
    Widget(
        key="messages",
        title=_("Messages held or refused"),
        template="crm_portal/widgets/messages.html",
        app="care",
        defaults={Role.CLIENT_MANAGER: 50},
        predicate=_manager,
        context=_messages,
    ),
    Widget(
        key="team_overdue",
        title=_("Team alerts overdue"),
        template="crm_portal/widgets/team_overdue.html",
        app="care",
        defaults={Role.BRANCH_HEAD: 15},
        permission="care.view_alert",
        predicate=_branch_head,
        context=_team_overdue,
    ),
    Widget(
        key="morning_meeting",
        title=_("Morning meeting"),
        template="crm_portal/widgets/morning_meeting.html",
        app="care",
        defaults={Role.BRANCH_HEAD: 5},
        predicate=_branch_head,
        context=_meeting,
    ),
)


def _alert_parameter_proposals(user) -> int:
    from core.approvals import ApprovalStatus

    from .models.parameters import AlertParameterProposal

    return (
        AlertParameterProposal.objects.filter(status=ApprovalStatus.PENDING).exclude(proposed_by=user).count()
    )


# Proposed changes of the alert rules' numbers, decided in the admin (maker-checker).
ALERT_PARAMETERS = PendingSource(
    key="care.alert_parameters",
    label=_("Alert parameters"),
    kind=PARAMETER,
    url_name="admin:care_alertparameterproposal_changelist",
    count=_alert_parameter_proposals,
    permission="care.approve_alertparameterproposal",
)


def register() -> None:
    for widget in WIDGETS:
        widgets.register(widget)
    widgets.register_pending(ALERT_PARAMETERS)

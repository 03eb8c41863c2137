"""The home-page widgets of users and the audit trail (core.widgets): the user's own
scope ("My work"), account requests waiting for approval, what waits for the user's
decision in every app (the pending sources each app registers), and suspicious
operations for the auditor."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Func, Subquery, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import widgets
from core.widgets import DECISION, PARAMETER, Widget

from .audit import Action
from .roles import Role
from .scope import data_scope

# How far back the suspicious-operations widget looks.
SUSPICIOUS_DAYS = 30
SUSPICIOUS_SHOWN = 5


def _welcome(user, day: datetime.date) -> dict[str, Any]:
    return {"scope": data_scope(user)}


def _pending_users(user, day: datetime.date) -> dict[str, Any]:
    from .models import User, UserStatus
    from .user_changes import APPROVE_PERMISSION, pending_changes

    # Changes of existing users' roles or branch wait here too, for those who decide
    # them; both counts in one query (scalar subqueries on the viewer's row).
    counts = {"pending": _count(User.objects.filter(status=UserStatus.PENDING).exclude(proposed_by=user))}
    if user.has_perm(APPROVE_PERMISSION):
        counts["changes"] = _count(pending_changes(user))
    return {"changes": 0, **User.objects.filter(pk=user.pk).values(**counts).get()}


def _count(queryset) -> Subquery:
    return Subquery(queryset.order_by().annotate(n=Func("pk", function="COUNT")).values("n"))


def _pending(kind: str):
    def context(user, day: datetime.date) -> dict[str, Any]:
        rows = []
        for source in widgets.pending_sources(user, kind):
            count = source.count(user)
            rows.append({"label": source.label, "url_name": source.url_name, "count": count})
        return {"rows": rows, "total": sum(r["count"] for r in rows)}

    return context


def _has_pending(kind: str):
    return lambda user: bool(widgets.pending_sources(user, kind))


def _suspicious(user, day: datetime.date) -> dict[str, Any]:
    """Suspicious operations of the last 30 days: the newest five and their number
    (one query on the (action, occurred_at) index, a window count beside the rows)."""
    from .models import AuditEvent

    since = timezone.now() - datetime.timedelta(days=SUSPICIOUS_DAYS)
    events = AuditEvent.objects.filter(action=Action.SUSPICIOUS_ACTIVITY, occurred_at__gte=since)
    shown = list(
        events.only("occurred_at", "actor_username", "details").annotate(total=Window(Count("pk")))[
            :SUSPICIOUS_SHOWN
        ]
    )
    return {
        "events": shown,
        "count": shown[0].total if shown else 0,
        "days": SUSPICIOUS_DAYS,
        "action": Action.SUSPICIOUS_ACTIVITY.value,
    }


WELCOME = widgets.register(
    Widget(
        key="welcome",
        title=_("My work"),
        template="crm_portal/panels/welcome.html",
        app="accounts",
        defaults=dict.fromkeys(Role.values, 0),
        context=_welcome,
    )
)
PENDING_USERS = widgets.register(
    Widget(
        key="pending_users",
        title=_("Accounts waiting for approval"),
        template="crm_portal/panels/pending_users.html",
        app="accounts",
        defaults={Role.SYSTEM_ADMIN: 10, Role.AUDITOR: 30},
        permission="accounts.approve_user",
        context=_pending_users,
    )
)
DECISIONS = widgets.register(
    Widget(
        key="decisions",
        title=_("Waiting for your decision"),
        template="crm_portal/widgets/pending.html",
        app="accounts",
        defaults={Role.BUSINESS_MANAGER: 10, Role.BRANCH_HEAD: 40},
        predicate=_has_pending(DECISION),
        context=_pending(DECISION),
        lazy=True,
    )
)
PROPOSALS = widgets.register(
    Widget(
        key="proposals",
        title=_("Parameter proposals waiting"),
        template="crm_portal/widgets/pending.html",
        app="accounts",
        defaults={Role.PARAMETER_MANAGER: 10, Role.SYSTEM_ADMIN: 40},
        predicate=_has_pending(PARAMETER),
        context=_pending(PARAMETER),
        lazy=True,
    )
)
SUSPICIOUS = widgets.register(
    Widget(
        key="suspicious",
        title=_("Suspicious operations"),
        template="crm_portal/widgets/suspicious.html",
        app="accounts",
        defaults={Role.AUDITOR: 10},
        permission="accounts.view_auditevent",
        context=_suspicious,
    )
)


def _pending_user_changes(user) -> int:
    from .user_changes import pending_for

    return pending_for(user)


USER_CHANGES = widgets.register_pending(
    widgets.PendingSource(
        key="user_changes",
        label=_("Changes of users' roles or branch"),
        kind=DECISION,
        url_name="accounts:user_change_list",
        count=_pending_user_changes,
        permission="accounts.approve_user_change",
    )
)

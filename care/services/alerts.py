"""An alert's life: done with an outcome, snoozed until a date, handed over to
another manager by the branch head, or dismissed with a reason; and the alerts the
VIP area announces (`vip.events`: tier changes, potential VIPs, overdue contacts, a
customer assigned or shared, a transfer decided), which this app keeps.

Who may act on an alert: its assignee, or a branch head over the branch it belongs
to (their team's alerts); anyone else is refused (PermissionDenied), whatever the
page showed them. Each change locks the alert's row, changes nothing on an alert
already closed, and writes its audit event in the same transaction.

Snoozing hides an alert until a date: a snoozed alert whose date has come counts as
open again (`AlertQuerySet.awake`), without a job to wake it."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from accounts.roles import Role
from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.choices import InteractionKind
from customers.models import Customer
from customers.services import interaction_log
from vip import events

from ..choices import AlertKind, AlertOutcome, AlertPriority, AlertStatus
from ..models import Alert

# The longest a snooze may last when the alert has no validity of its own.
SNOOZE_MAX_DAYS = 30
# How long an alert announced by the VIP area stays worth acting on.
ANNOUNCED_VALID_DAYS = 30
OPEN_STATES = (AlertStatus.OPEN, AlertStatus.SNOOZED)
# The channels a manager may have reached the customer by (each counts as a contact
# for the service standards, `vip.standards.CONTACT_KINDS`).
CONTACT_CHANNELS = (
    InteractionKind.CALL,
    InteractionKind.VISIT,
    InteractionKind.WECHAT,
    InteractionKind.SMS,
    InteractionKind.EMAIL,
)
# Outcomes that mean the manager spoke with the customer: logged as a contact on the
# customer's timeline. "Not reachable" and "not needed" are logged as a note, which
# no service standard counts as a contact.
CONTACT_OUTCOMES = (AlertOutcome.CONTACTED, AlertOutcome.FOLLOW_UP)

PRIORITY_OF_ANNOUNCED: dict[str, int] = {
    AlertKind.TIER_CHANGE: AlertPriority.NORMAL,
    AlertKind.POTENTIAL_VIP: AlertPriority.NORMAL,
    AlertKind.CONTACT_OVERDUE: AlertPriority.HIGH,
    AlertKind.TEAM_OVERDUE: AlertPriority.HIGH,
    AlertKind.CUSTOMER_ASSIGNED: AlertPriority.NORMAL,
    AlertKind.CUSTOMER_SHARED: AlertPriority.LOW,
    AlertKind.TRANSFER_DECIDED: AlertPriority.LOW,
}


# --- who may act -------------------------------------------------------------------


def _is_head_over(user: User, alert: Alert) -> bool:
    """A branch head whose subtree holds the alert's branch (their team's alert)."""
    if data_scope(user).kind is not ScopeKind.SUBTREE or alert.branch_id is None:
        return False
    return visible_branches(user).filter(pk=alert.branch_id).exists()


def may_act(user: User, alert: Alert) -> bool:
    if not user.is_active or not user.has_perm("care.change_alert"):
        return False
    return alert.assignee_id == user.pk or alert.escalated_to_id == user.pk or _is_head_over(user, alert)


def _require_may_act(user: User, alert: Alert) -> None:
    if not may_act(user, alert):
        raise PermissionDenied(_("Only the manager the alert is for, or their branch head, may act on it."))


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def _copy(locked: Alert, alert: Alert) -> Alert:
    """The caller's object brought up to date with the locked row."""
    alert.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    alert._state.fields_cache.clear()  # related objects (the assignee) read afresh
    return alert


# --- an alert's life ---------------------------------------------------------------


@transaction.atomic
def alert_done(
    *, alert: Alert, by: User, outcome: str, note: str = "", channel: str = InteractionKind.CALL
) -> Alert:
    """Done with an outcome, logged on the customer's timeline: one in which the
    manager spoke with the customer (contacted, follow-up planned) as a contact of
    `channel`, so the service standards see it (`vip.standards`); the others (not
    reachable, not needed) as a note, which counts as no contact."""
    _require_may_act(by, alert)
    if outcome not in AlertOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if channel not in CONTACT_CHANNELS:
        raise ValidationError({"channel": _("Choose how you reached the customer.")})
    note = (note or "").strip()
    locked = _locked(alert)
    if locked.status not in OPEN_STATES:
        return _copy(locked, alert)
    interaction_id = None
    if locked.customer_id is not None:
        customer = Customer.objects.get(pk=locked.customer_id)
        interaction = interaction_log(
            customer=customer,
            kind=channel if outcome in CONTACT_OUTCOMES else InteractionKind.NOTE,
            subject=_("Alert: %(kind)s — %(outcome)s")
            % {"kind": locked.get_kind_display(), "outcome": AlertOutcome(outcome).label},
            notes=note,
            logged_by=by,
        )
        interaction_id = interaction.pk
    locked.status = AlertStatus.DONE
    locked.outcome = outcome
    locked.close_note = note[:500]
    locked.closed_at = timezone.now()
    locked.closed_by = by
    locked.snoozed_until = None
    locked.save(update_fields=["status", "outcome", "close_note", "closed_at", "closed_by", "snoozed_until"])
    audit(
        Action.ALERT_DONE,
        actor=by,
        target=locked,
        details={"kind": locked.kind, "outcome": outcome, "interaction": interaction_id},
    )
    return _copy(locked, alert)


def snooze_limit(alert: Alert, today: datetime.date) -> datetime.date:
    """The latest date an alert may be snoozed to: its validity, at most
    SNOOZE_MAX_DAYS from today."""
    longest = today + datetime.timedelta(days=SNOOZE_MAX_DAYS)
    if alert.valid_until is not None:
        return min(alert.valid_until, longest)
    return longest


@transaction.atomic
def alert_snooze(*, alert: Alert, by: User, until: datetime.date) -> Alert:
    """Hidden until `until` (a day after today, within the alert's validity); it is
    open again that day."""
    _require_may_act(by, alert)
    today = timezone.localdate()
    if until <= today:
        raise ValidationError({"until": _("Snooze until a day after today.")})
    limit = snooze_limit(alert, today)
    if until > limit:
        raise ValidationError(
            {"until": _("Snooze until %(date)s at the latest.") % {"date": limit.isoformat()}}
        )
    locked = _locked(alert)
    if locked.status not in OPEN_STATES:
        return _copy(locked, alert)
    locked.status = AlertStatus.SNOOZED
    locked.snoozed_until = until
    locked.save(update_fields=["status", "snoozed_until"])
    audit(
        Action.ALERT_SNOOZED,
        actor=by,
        target=locked,
        details={"kind": locked.kind, "until": until.isoformat()},
    )
    return _copy(locked, alert)


def hand_over_candidates(by: User):
    """Active client managers of the branch head's subtree (whom an alert may go to)."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.CLIENT_MANAGER, branch__in=visible_branches(by))
        .distinct()
        .order_by("employee_no")
    )


@transaction.atomic
def alert_hand_over(*, alert: Alert, by: User, to_manager: User, reason: str) -> Alert:
    """Given to another manager by the branch head: an active client manager of the
    head's subtree who may see the alert's customer."""
    if (
        not by.is_active
        or not by.has_perm("care.hand_over_alert")
        or data_scope(by).kind not in (ScopeKind.SUBTREE, ScopeKind.ALL)
        or not (alert.assignee_id == by.pk or _is_head_over(by, alert))
    ):
        raise PermissionDenied(_("Only the branch head may hand an alert over."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the alert is handed over.")})
    if not hand_over_candidates(by).filter(pk=to_manager.pk).exists():
        raise ValidationError(
            {"to_manager": _("Hand the alert to an active client manager of your branches.")}
        )
    if to_manager.pk == alert.assignee_id:
        raise ValidationError({"to_manager": _("The alert is already theirs.")})
    if (
        alert.customer_id is not None
        and not Customer.objects.visible_to(to_manager).filter(pk=alert.customer_id).exists()
    ):
        raise ValidationError(
            {"to_manager": _("That manager may not see this customer: share the customer with them first.")}
        )
    locked = _locked(alert)
    if locked.status not in OPEN_STATES:
        return _copy(locked, alert)
    previous = locked.assignee
    locked.assignee = to_manager
    locked.save(update_fields=["assignee"])
    audit(
        Action.ALERT_HANDED_OVER,
        actor=by,
        target=locked,
        details={
            "kind": locked.kind,
            "from": previous.employee_no if previous else "",
            "to": to_manager.employee_no,
            "reason": reason[:200],
        },
    )
    return _copy(locked, alert)


@transaction.atomic
def alert_dismiss(*, alert: Alert, by: User, reason: str) -> Alert:
    """Closed without acting on it, for a reason the manager gives."""
    _require_may_act(by, alert)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the alert is dismissed.")})
    locked = _locked(alert)
    if locked.status not in OPEN_STATES:
        return _copy(locked, alert)
    locked.status = AlertStatus.DISMISSED
    locked.close_note = reason[:500]
    locked.closed_at = timezone.now()
    locked.closed_by = by
    locked.snoozed_until = None
    locked.save(update_fields=["status", "close_note", "closed_at", "closed_by", "snoozed_until"])
    audit(
        Action.ALERT_DISMISSED,
        actor=by,
        target=locked,
        details={"kind": locked.kind, "reason": reason[:200]},
    )
    return _copy(locked, alert)


# --- the VIP area's announcements (`vip.events`) ------------------------------------

# One INSERT of the announced rows (`select` yields user_id, customer_id, figures as
# JSON text), the customer's home branch as the alert's branch; an event already
# kept (same kind, customer and event) is left alone.
INSERT_ANNOUNCED = """
INSERT INTO care_alert (kind, customer_id, event_key, event_date, due_date, valid_until, priority,
                        assignee_id, branch_id, figures, status, outcome, close_note, created_at)
WITH s (user_id, customer_id, figures) AS ({select})
SELECT %s, s.customer_id, {event_key}, {event_date}, {event_date}, %s, %s,
       s.user_id, c.home_branch_id, {figures}, 'open', '', '', %s
  FROM s JOIN customers_customer c ON c.id = s.customer_id
 WHERE {where}
ON CONFLICT DO NOTHING"""

# Overdue-contact warnings a contact since answered: done, "contacted".
CLOSE_ANSWERED = """
UPDATE care_alert SET status = 'done', outcome = 'contacted', closed_at = %s, snoozed_until = NULL
 WHERE kind = 'contact_overdue' AND status IN ('open', 'snoozed')
   AND EXISTS (SELECT 1 FROM customers_interaction i
                WHERE i.customer_id = care_alert.customer_id AND i.kind IN ({kinds})
                  AND i.occurred_at >= care_alert.created_at)"""

# Overdue-contact warnings of a customer now looked after by another manager: moot
# (the new manager's own warning is raised from their assignment). A warning of the
# branch head's (no manager of record) stays until a manager is assigned.
CLOSE_MOOT = """
UPDATE care_alert SET status = 'done', outcome = 'not_needed', closed_at = %s, snoozed_until = NULL
 WHERE kind = 'contact_overdue' AND status IN ('open', 'snoozed')
   AND EXISTS (SELECT 1 FROM customers_customer c
                WHERE c.id = care_alert.customer_id AND c.primary_manager_id IS NOT NULL
                  AND c.primary_manager_id <> care_alert.assignee_id)"""


def _json_field(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column}::jsonb ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _as_json(column: str) -> str:
    return f"CAST({column} AS jsonb)" if connection.vendor == "postgresql" else column


def _as_date(expression: str) -> str:
    return f"CAST({expression} AS date)" if connection.vendor == "postgresql" else expression


class VipEvents:
    """The listener `vip.events` calls: what the VIP area announces becomes alerts."""

    def one(
        self, *, kind: str, user: Any, customer: Any, day: datetime.date, figures: dict[str, Any]
    ) -> None:
        if kind == AlertKind.TIER_CHANGE or kind == AlertKind.POTENTIAL_VIP:
            event_key = day.isoformat()
        elif kind == AlertKind.CONTACT_OVERDUE:
            event_key = str(figures.get("overdue_since") or day.isoformat())
        else:  # given, shared, a transfer decided: the user's own event of the day
            event_key = f"{day.isoformat()}:{user.pk}"
        Alert.objects.bulk_create(
            [
                Alert(
                    kind=kind,
                    customer=customer,
                    event_key=event_key,
                    event_date=day,
                    due_date=day,
                    valid_until=day + datetime.timedelta(days=ANNOUNCED_VALID_DAYS),
                    priority=PRIORITY_OF_ANNOUNCED.get(kind, AlertPriority.NORMAL),
                    assignee=user,
                    branch_id=customer.home_branch_id if customer is not None else user.branch_id,
                    figures=json.loads(json.dumps(figures, default=str)),
                )
            ],
            ignore_conflicts=True,
        )

    def rows(self, *, kind: str, day: datetime.date, select: str, params: list[Any]) -> int:
        """Tier changes and potential VIPs of the nightly evaluation: the event is the day."""
        sql = INSERT_ANNOUNCED.format(
            select=select, event_key="%s", event_date="%s", figures=_as_json("s.figures"), where="TRUE"
        )
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    *params,
                    kind,
                    day.isoformat(),
                    ops.adapt_datefield_value(day),
                    ops.adapt_datefield_value(day),
                    ops.adapt_datefield_value(day + datetime.timedelta(days=ANNOUNCED_VALID_DAYS)),
                    PRIORITY_OF_ANNOUNCED.get(kind, AlertPriority.NORMAL),
                    ops.adapt_datetimefield_value(timezone.now()),
                ],
            )
            return max(cursor.rowcount, 0)

    def contact_warnings(
        self, *, day: datetime.date, select: str, params: list[Any], contact_kinds: tuple[str, ...]
    ) -> dict[str, int]:
        """Close the warnings answered or moot, then raise the new ones (one open per
        customer; the event is the day the contact became overdue)."""
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        kinds = ", ".join(f"'{k}'" for k in contact_kinds if k.isidentifier())
        overdue_since = _json_field("s.figures", "overdue_since")
        sql = INSERT_ANNOUNCED.format(
            select=select,
            event_key=f"COALESCE({overdue_since}, %s)",
            event_date=_as_date(f"COALESCE({overdue_since}, %s)"),
            figures=_as_json("s.figures"),
            where="""NOT EXISTS (SELECT 1 FROM care_alert o
                                 WHERE o.kind = 'contact_overdue' AND o.customer_id = s.customer_id
                                   AND o.status IN ('open', 'snoozed'))""",
        )
        # the event key and dates in order of their placeholders
        iso = day.isoformat()
        with connection.cursor() as cursor:
            cursor.execute(CLOSE_ANSWERED.format(kinds=kinds), [now])
            closed = max(cursor.rowcount, 0)
            cursor.execute(CLOSE_MOOT, [now])
            closed += max(cursor.rowcount, 0)
            cursor.execute(
                sql,
                [
                    *params,
                    AlertKind.CONTACT_OVERDUE.value,
                    iso,
                    iso,
                    iso,
                    ops.adapt_datefield_value(day + datetime.timedelta(days=ANNOUNCED_VALID_DAYS)),
                    AlertPriority.HIGH.value,
                    now,
                ],
            )
            warned = max(cursor.rowcount, 0)
        return {"closed": closed, "warned": warned}

    def team_warnings(self, *, day: datetime.date, rows: list[events.TeamWarning]) -> int:
        """One alert per manager with overdue contacts and day, for the nearest branch
        head (other heads of that branch see it by its branch); re-running the day
        updates the count, and a manager no longer overdue loses today's alert."""
        keys: dict[str, events.TeamWarning] = {}
        for row in rows:  # the nearest head first; the others see it by its branch
            keys.setdefault(f"{row.manager_no}:{day.isoformat()}", row)
        Alert.objects.filter(
            kind=AlertKind.TEAM_OVERDUE, event_date=day, status__in=OPEN_STATES, customer__isnull=True
        ).exclude(event_key__in=keys).delete()
        existing = {
            alert.event_key: alert
            for alert in Alert.objects.filter(
                kind=AlertKind.TEAM_OVERDUE, customer__isnull=True, event_key__in=keys
            )
        }
        changed = []
        for key, row in keys.items():
            alert = existing.get(key)
            figures = {"manager": row.manager_no, "count": row.count}
            if alert is not None and alert.status in OPEN_STATES and alert.figures != figures:
                alert.figures = figures
                changed.append(alert)
        Alert.objects.bulk_update(changed, ["figures"])
        new = [
            Alert(
                kind=AlertKind.TEAM_OVERDUE,
                customer=None,
                event_key=key,
                event_date=day,
                due_date=day,
                valid_until=day + datetime.timedelta(days=ANNOUNCED_VALID_DAYS),
                priority=AlertPriority.HIGH,
                assignee_id=row.head_id,
                branch_id=row.manager_branch_id,
                figures={"manager": row.manager_no, "count": row.count},
            )
            for key, row in keys.items()
            if key not in existing
        ]
        Alert.objects.bulk_create(new, ignore_conflicts=True)
        return len(new) + len(changed)

    def open_contact_warnings(self) -> list[tuple[int, int]]:
        return list(
            Alert.objects.filter(
                kind=AlertKind.CONTACT_OVERDUE, status__in=OPEN_STATES, assignee__isnull=False
            )
            .values("assignee")
            .annotate(n=Count("pk"))
            .values_list("assignee", "n")
        )


LISTENER = VipEvents()
